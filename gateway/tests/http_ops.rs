//! Operations endpoints and cross-cutting layers: health, readiness, metrics, the OpenAPI
//! document, CORS.

mod http_support;

use std::collections::BTreeSet;

use atrium_gateway::HttpConfig;
use http_support::{Backend, TestNode, test_config};
use reqwest::Method;

on_both_backends!(health_metrics_and_readiness);

/// Every route the router serves, as (method, OpenAPI path).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users/{id}/activate"),
    ("post", "/api/v1/users/{id}/deactivate"),
    ("patch", "/api/v1/users/{id}/role"),
    ("get", "/api/v1/channels"),
    ("post", "/api/v1/channels"),
    ("post", "/api/v1/channels/direct"),
    ("get", "/api/v1/channels/{id}"),
    ("post", "/api/v1/channels/{id}/members"),
    ("delete", "/api/v1/channels/{id}/members/{user_id}"),
    ("get", "/api/v1/channels/{id}/messages"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/admin/audit-log"),
    ("get", "/api/v1/ai/models"),
    ("get", "/api/v1/ai/conversations"),
    ("post", "/api/v1/ai/conversations"),
    ("get", "/api/v1/ai/conversations/{id}"),
    ("patch", "/api/v1/ai/conversations/{id}"),
    ("delete", "/api/v1/ai/conversations/{id}"),
    ("get", "/api/v1/ai/conversations/{id}/messages"),
    ("get", "/api/v1/ai/assistants"),
    ("post", "/api/v1/ai/assistants"),
    ("get", "/api/v1/ai/assistants/{id}"),
    ("patch", "/api/v1/ai/assistants/{id}"),
    ("delete", "/api/v1/ai/assistants/{id}"),
    ("get", "/api/v1/ai/templates"),
    ("post", "/api/v1/ai/templates"),
    ("post", "/api/v1/ai/templates/render"),
    ("get", "/api/v1/ai/templates/{id}"),
    ("patch", "/api/v1/ai/templates/{id}"),
    ("delete", "/api/v1/ai/templates/{id}"),
    ("post", "/api/v1/ai/templates/{id}/render"),
    ("get", "/api/v1/admin/models"),
    ("post", "/api/v1/admin/models"),
    ("patch", "/api/v1/admin/models/{id}"),
    ("delete", "/api/v1/admin/models/{id}"),
    ("get", "/api/v1/admin/providers"),
    ("put", "/api/v1/admin/providers/{name}"),
    ("delete", "/api/v1/admin/providers/{name}"),
    ("post", "/api/v1/admin/providers/{name}/test"),
    ("get", "/api/v1/admin/usage"),
    ("get", "/api/v1/admin/usage/records"),
    ("get", "/api/v1/admin/budgets"),
    ("put", "/api/v1/admin/budgets"),
    ("delete", "/api/v1/admin/budgets/{id}"),
    ("get", "/api/v1/admin/stats"),
    ("get", "/api/v1/presence"),
    ("get", "/ws"),
    ("get", "/api/v1/presence"),
    ("get", "/ws"),
    ("get", "/api/v1/webtransport"),
    ("get", "/api/v1/rooms"),
    ("post", "/api/v1/rooms"),
    ("get", "/api/v1/rooms/templates"),
    ("get", "/api/v1/rooms/{id}"),
    ("patch", "/api/v1/rooms/{id}"),
    ("delete", "/api/v1/rooms/{id}"),
    ("get", "/api/v1/rooms/{id}/occupants"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/settings"),
    ("put", "/api/v1/tickets/settings"),
    ("get", "/api/v1/tickets/{id}"),
    ("patch", "/api/v1/tickets/{id}"),
    ("post", "/api/v1/tickets/{id}/assign"),
    ("post", "/api/v1/tickets/{id}/comments"),
    ("post", "/api/v1/tickets/{id}/close"),
    ("post", "/api/v1/tickets/{id}/reopen"),
    ("post", "/api/v1/tickets/{id}/survey"),
    ("get", "/api/v1/tickets/{id}/sla"),
    ("get", "/api/v1/tickets/{id}/activity"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

async fn health_metrics_and_readiness(node: &TestNode) {
    let r = node.get("/healthz", None).await;
    assert_eq!(r.assert_status(200)["status"], "ok");
    let r = node.get("/readyz", None).await;
    assert_eq!(r.assert_status(200)["status"], "ready");

    let s = node.register("alice").await;
    let ch = node
        .post(
            "/api/v1/channels",
            s.token(),
            serde_json::json!({ "name": "m", "kind": "group" }),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.get(&format!("/api/v1/channels/{ch}"), s.token())
        .await
        .assert_status(200);
    node.get("/nowhere", None)
        .await
        .assert_error(404, "not_found");

    let metrics = node.http.get(node.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let content_type = metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = metrics.text().await.unwrap();
    for needle in [
        "atrium_http_requests_total{",
        r#"route="/healthz""#,
        r#"route="/api/v1/channels/{id}""#,
        r#"route="unmatched""#,
        r#"status="201""#,
        "atrium_http_request_duration_seconds_bucket{",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from /metrics:\n{text}"
        );
    }
    // Ids never become label values.
    assert!(
        !text.contains(&ch),
        "a channel id leaked into metric labels"
    );

    // With the database gone, the node is alive but not ready.
    node.state.store.close().await;
    node.get("/readyz", None)
        .await
        .assert_error(503, "unavailable");
    node.get("/healthz", None).await.assert_status(200);
}

#[tokio::test]
async fn openapi_lists_every_route_and_every_documented_route_exists() {
    let node = TestNode::start(Backend::Sqlite).await.expect("sqlite node");
    let doc = node.get("/api/v1/openapi.json", None).await;
    let doc = doc.assert_status(200).clone();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    // Each documented route is actually served (whatever it answers, it is not "no route").
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{user_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{name}", "acme");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body =
            (method != Method::GET && method != Method::DELETE).then(|| serde_json::json!({}));
        let r = node.call(method.clone(), &concrete, None, body).await;
        let no_route = r.status == 404
            && r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("no route"));
        assert!(
            !no_route && r.status != 405,
            "{method} {concrete}: {}",
            r.text
        );
    }
    node.stop().await;
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let allowed = "https://app.example";
    let node = TestNode::start_with(
        Backend::Sqlite,
        HttpConfig {
            cors_origins: vec![allowed.to_owned()],
            ..test_config()
        },
    )
    .await
    .expect("sqlite node");
    let preflight = |origin: &'static str| {
        node.http
            .request(Method::OPTIONS, node.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(allowed).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], allowed);
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    // Simple requests get the header too.
    let r = node
        .http
        .get(node.url("/healthz"))
        .header("origin", allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], allowed);
    node.stop().await;

    // Default: no CORS headers at all.
    let node = TestNode::start(Backend::Sqlite).await.expect("sqlite node");
    let r = node
        .http
        .get(node.url("/healthz"))
        .header("origin", allowed)
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    node.stop().await;

    // A malformed origin is refused at start.
    let (store, _dir, _) = http_support::fresh_store(Backend::Sqlite).await.unwrap();
    let bad = atrium_gateway::AppState::new(
        store,
        HttpConfig {
            cors_origins: vec!["app.example".into()],
            ..test_config()
        },
    )
    .await;
    assert!(bad.is_err());
}
