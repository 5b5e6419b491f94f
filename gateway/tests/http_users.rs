//! User administration: admins list, (de)activate and re-role users of their organization only.

mod http_support;

use atrium_core::ids::UserId;
use http_support::{Session, TestNode, other_org_user};
use serde_json::json;

on_both_backends!(
    admin_lists_users_with_pagination,
    deactivation_is_immediate_and_reversible,
    role_changes_apply_on_the_next_request,
    admins_cannot_demote_or_deactivate_themselves,
    non_admins_are_forbidden,
    other_organizations_users_are_not_found,
);

async fn admin_lists_users_with_pagination(node: &TestNode) {
    let admin = node.register("root").await;
    for i in 0..4 {
        node.register(&format!("user{i}")).await;
    }
    let all = node.get("/api/v1/users", admin.token()).await;
    let body = all.assert_status(200);
    assert_eq!(body["total"], 5);
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    assert!(body["items"][0].get("password_hash").is_none());

    let p1 = node
        .get("/api/v1/users?limit=2&offset=0", admin.token())
        .await;
    let p2 = node
        .get("/api/v1/users?limit=2&offset=2", admin.token())
        .await;
    let p3 = node
        .get("/api/v1/users?limit=2&offset=4", admin.token())
        .await;
    let mut names = Vec::new();
    for p in [&p1, &p2, &p3] {
        let b = p.assert_status(200);
        assert_eq!(b["total"], 5);
        assert_eq!(b["limit"], 2);
        for u in b["items"].as_array().unwrap() {
            names.push(u["username"].as_str().unwrap().to_owned());
        }
    }
    names.sort();
    assert_eq!(names, ["root", "user0", "user1", "user2", "user3"]);

    for bad in ["limit=0", "limit=201", "limit=abc", "offset=-1"] {
        node.get(&format!("/api/v1/users?{bad}"), admin.token())
            .await
            .assert_error(400, "invalid");
    }
}

async fn deactivation_is_immediate_and_reversible(node: &TestNode) {
    let admin = node.register("root").await;
    let bob = node.register("bob").await;
    let r = node
        .post(
            &format!("/api/v1/users/{}/deactivate", bob.user_id),
            admin.token(),
            json!({}),
        )
        .await;
    assert_eq!(r.assert_status(200)["active"], false);

    // The still-unexpired access token stops working, refresh and login are refused.
    node.get("/api/v1/auth/me", bob.token())
        .await
        .assert_error(403, "forbidden");
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": bob.refresh }),
    )
    .await
    .assert_error(403, "forbidden");
    let msg = node.login("bob").await.assert_error(403, "forbidden");
    assert!(msg.contains("deactivated"), "{msg}");

    let r = node
        .post(
            &format!("/api/v1/users/{}/activate", bob.user_id),
            admin.token(),
            json!({}),
        )
        .await;
    assert_eq!(r.assert_status(200)["active"], true);
    let again = Session::from_reply(&node.login("bob").await);
    node.get("/api/v1/auth/me", again.token())
        .await
        .assert_status(200);
}

async fn role_changes_apply_on_the_next_request(node: &TestNode) {
    let admin = node.register("root").await;
    let bob = node.register("bob").await;
    node.get("/api/v1/users", bob.token())
        .await
        .assert_error(403, "forbidden");
    let r = node
        .patch(
            &format!("/api/v1/users/{}/role", bob.user_id),
            admin.token(),
            json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(r.assert_status(200)["role"], "admin");
    // Bob's existing token now carries admin rights (roles are read per request).
    node.get("/api/v1/users", bob.token())
        .await
        .assert_status(200);
    assert_eq!(
        node.get("/api/v1/auth/me", bob.token()).await.body["role"],
        "admin"
    );
    // Unknown role: a clear 422.
    let msg = node
        .patch(
            &format!("/api/v1/users/{}/role", bob.user_id),
            admin.token(),
            json!({ "role": "root" }),
        )
        .await
        .assert_error(422, "invalid");
    assert!(msg.contains("root"), "{msg}");
    // Unknown user.
    node.patch(
        &format!("/api/v1/users/{}/role", UserId::new()),
        admin.token(),
        json!({ "role": "user" }),
    )
    .await
    .assert_error(404, "not_found");
}

async fn admins_cannot_demote_or_deactivate_themselves(node: &TestNode) {
    let admin = node.register("root").await;
    let msg = node
        .post(
            &format!("/api/v1/users/{}/deactivate", admin.user_id),
            admin.token(),
            json!({}),
        )
        .await
        .assert_error(403, "forbidden");
    assert!(msg.contains("your own"), "{msg}");
    node.patch(
        &format!("/api/v1/users/{}/role", admin.user_id),
        admin.token(),
        json!({ "role": "user" }),
    )
    .await
    .assert_error(403, "forbidden");
    // Still an admin.
    assert_eq!(
        node.get("/api/v1/auth/me", admin.token()).await.body["role"],
        "admin"
    );
}

async fn non_admins_are_forbidden(node: &TestNode) {
    let admin = node.register("root").await;
    let bob = node.register("bob").await;
    let mallory = node.register("mallory").await;
    let routes = [
        ("GET", "/api/v1/users".to_owned()),
        ("POST", format!("/api/v1/users/{}/deactivate", bob.user_id)),
        ("POST", format!("/api/v1/users/{}/activate", bob.user_id)),
        ("PATCH", format!("/api/v1/users/{}/role", mallory.user_id)),
        ("GET", "/api/v1/admin/audit-log".to_owned()),
    ];
    for (method, path) in routes {
        let reply = match method {
            "GET" => node.get(&path, mallory.token()).await,
            "POST" => node.post(&path, mallory.token(), json!({})).await,
            _ => {
                node.patch(&path, mallory.token(), json!({ "role": "admin" }))
                    .await
            }
        };
        reply.assert_error(403, "forbidden");
    }
    // Nothing changed.
    let me = node.get("/api/v1/auth/me", mallory.token()).await;
    assert_eq!(me.body["role"], "user");
    let _ = admin;
}

async fn other_organizations_users_are_not_found(node: &TestNode) {
    let admin = node.register("root").await;
    let stranger = other_org_user(node, "stranger").await;
    for path in [
        format!("/api/v1/users/{stranger}/deactivate"),
        format!("/api/v1/users/{stranger}/activate"),
    ] {
        node.post(&path, admin.token(), json!({}))
            .await
            .assert_error(404, "not_found");
    }
    node.patch(
        &format!("/api/v1/users/{stranger}/role"),
        admin.token(),
        json!({ "role": "guest" }),
    )
    .await
    .assert_error(404, "not_found");
    // The list shows only our organization.
    let list = node.get("/api/v1/users", admin.token()).await;
    assert_eq!(list.assert_status(200)["total"], 1);
    // The stranger (an admin of their own organization) cannot touch ours either.
    let theirs = Session::from_reply(&node.login("stranger").await);
    node.post(
        &format!("/api/v1/users/{}/deactivate", admin.user_id),
        theirs.token(),
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
}
