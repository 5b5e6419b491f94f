//! Every kind of bad request gets our JSON error shape and the right status.

mod http_support;

use http_support::TestNode;
use serde_json::json;

on_both_backends!(bad_bodies, bad_routes_and_parameters);

async fn raw_post(
    node: &TestNode,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> http_support::Reply {
    let mut req = node.http.post(node.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    http_support::Reply::from(req.send().await.unwrap()).await
}

async fn bad_bodies(node: &TestNode) {
    let path = "/api/v1/auth/register";
    let json_ct = Some("application/json");

    // Not JSON at all.
    let msg = raw_post(node, path, json_ct, b"{\"username\": ".to_vec())
        .await
        .assert_error(400, "malformed_json");
    assert!(msg.to_lowercase().contains("json"), "{msg}");
    raw_post(node, path, json_ct, b"not json".to_vec())
        .await
        .assert_error(400, "malformed_json");

    // JSON of the wrong shape or types: 422 naming the field.
    let msg = raw_post(
        node,
        path,
        json_ct,
        br#"{"username": 5, "email": "a@b.co", "password": "x"}"#.to_vec(),
    )
    .await
    .assert_error(422, "invalid");
    assert!(msg.contains("username"), "{msg}");
    let msg = raw_post(node, path, json_ct, br#"{"username": "abc"}"#.to_vec())
        .await
        .assert_error(422, "invalid");
    assert!(msg.contains("email"), "{msg}");
    raw_post(node, path, json_ct, b"[1, 2, 3]".to_vec())
        .await
        .assert_error(422, "invalid");
    let msg = raw_post(
        node,
        path,
        json_ct,
        br#"{"username":"abc","email":"a@b.co","password":"12345678","admin":true}"#.to_vec(),
    )
    .await
    .assert_error(422, "invalid");
    assert!(msg.contains("admin"), "unknown fields are named: {msg}");

    // No or wrong content type.
    raw_post(node, path, None, br#"{"username":"abc"}"#.to_vec())
        .await
        .assert_error(415, "unsupported_media_type");
    raw_post(
        node,
        path,
        Some("text/plain"),
        br#"{"username":"abc"}"#.to_vec(),
    )
    .await
    .assert_error(415, "unsupported_media_type");

    // Larger than the body limit (1 MiB by default).
    let big = json!({
        "username": "abc",
        "email": "a@b.co",
        "password": "x".repeat(2 * 1024 * 1024),
    });
    let r = raw_post(node, path, json_ct, serde_json::to_vec(&big).unwrap()).await;
    r.assert_error(413, "too_large");

    // Nothing of the above created an account.
    node.register("first").await;
    assert_eq!(node.login("first").await.body["user"]["role"], "admin");
}

async fn bad_routes_and_parameters(node: &TestNode) {
    let s = node.register("alice").await;
    let r = node.get("/api/v1/nope", s.token()).await;
    let msg = r.assert_error(404, "not_found");
    assert!(msg.contains("/api/v1/nope"), "{msg}");
    node.call(
        reqwest::Method::PUT,
        "/api/v1/auth/login",
        None,
        Some(json!({})),
    )
    .await
    .assert_error(405, "method_not_allowed");
    node.post("/api/v1/users/not-a-uuid/activate", s.token(), json!({}))
        .await
        .assert_error(400, "invalid");
    node.delete("/api/v1/channels/x/members/y", s.token())
        .await
        .assert_error(400, "invalid");
    node.get("/api/v1/admin/audit-log?actor=nope", s.token())
        .await
        .assert_error(400, "invalid");
}
