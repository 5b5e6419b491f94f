//! The audit log records who did what, filters by actor, action and time, pages, and never
//! contains secrets.

mod http_support;

use http_support::{PASSWORD, TestNode, store_message};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

on_both_backends!(actions_are_recorded_and_filterable);

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn actions_are_recorded_and_filterable(node: &TestNode) {
    let before = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    let admin = node.register("admin").await;
    let bob = node.register("bob").await;
    let t = admin.token();

    // A failed login, a good one, a refresh reuse, a logout.
    node.post(
        "/api/v1/auth/login",
        None,
        json!({ "username": "bob", "password": "wrong-password" }),
    )
    .await
    .assert_error(401, "unauthorized");
    node.post(
        "/api/v1/auth/login",
        None,
        json!({ "username": "ghost", "password": "wrong-password" }),
    )
    .await
    .assert_error(401, "unauthorized");
    let login = http_support::Session::from_reply(&node.login("bob").await);
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": login.refresh }),
    )
    .await
    .assert_status(200);
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": login.refresh }),
    )
    .await
    .assert_error(401, "unauthorized");
    let again = http_support::Session::from_reply(&node.login("bob").await);
    let r = node
        .post(
            "/api/v1/auth/logout",
            None,
            json!({ "refresh_token": again.refresh }),
        )
        .await;
    assert_eq!(r.status, 204);

    // Channel and membership changes, a role change, a deactivation.
    let ch = node
        .post(
            "/api/v1/channels",
            t,
            json!({ "name": "ops", "kind": "group" }),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.post(
        &format!("/api/v1/channels/{ch}/members"),
        t,
        json!({ "user_id": bob.user_id }),
    )
    .await
    .assert_status(200);
    store_message(node, &ch, &bob.user_id, "top secret message body").await;
    let r = node
        .delete(&format!("/api/v1/channels/{ch}/members/{}", bob.user_id), t)
        .await;
    assert_eq!(r.status, 204);
    node.patch(
        &format!("/api/v1/users/{}/role", bob.user_id),
        t,
        json!({ "role": "moderator" }),
    )
    .await
    .assert_status(200);
    node.post(
        &format!("/api/v1/users/{}/deactivate", bob.user_id),
        t,
        json!({}),
    )
    .await
    .assert_status(200);

    let all = node.get("/api/v1/admin/audit-log?limit=200", t).await;
    let all = all.assert_status(200).clone();
    let got = actions(&all);
    for expected in [
        "auth.register",
        "auth.login_failed",
        "auth.login",
        "auth.refresh_reuse",
        "auth.logout",
        "channel.create",
        "channel.member_add",
        "channel.member_remove",
        "user.role_change",
        "user.deactivate",
    ] {
        assert!(
            got.iter().any(|a| a == expected),
            "{expected} missing from {got:?}"
        );
    }
    assert_eq!(all["total"].as_u64().unwrap() as usize, got.len());
    // Newest first.
    assert_eq!(got[0], "user.deactivate");
    let role = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.role_change")
        .unwrap();
    assert_eq!(role["detail"]["from"], "user");
    assert_eq!(role["detail"]["to"], "moderator");
    assert_eq!(role["actor_id"], admin.user_id.as_str());
    assert_eq!(role["target"], bob.user_id.as_str());
    // No secrets and no message bodies anywhere.
    let dump = all.to_string();
    for secret in [
        PASSWORD,
        "wrong-password",
        &login.refresh,
        &login.access,
        "top secret",
        "ghost",
    ] {
        assert!(!dump.contains(secret), "audit log leaks {secret:?}");
    }

    // Filters: action exact and prefix, actor, time window, paging.
    let q = |query: String| async move {
        node.get(&format!("/api/v1/admin/audit-log?{query}"), t)
            .await
    };
    let failed = q("action=auth.login_failed".into()).await;
    let failed = failed.assert_status(200);
    assert_eq!(actions(failed), ["auth.login_failed", "auth.login_failed"]);
    let reasons: Vec<&str> = failed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["unknown_user", "bad_password"]);

    let auth = q("action=auth.*".into()).await;
    assert!(
        actions(auth.assert_status(200))
            .iter()
            .all(|a| a.starts_with("auth."))
    );
    let bobs = q(format!("actor={}", bob.user_id)).await;
    let bobs_actions = actions(bobs.assert_status(200));
    assert!(!bobs_actions.is_empty());
    assert!(
        bobs.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_id"] == bob.user_id.as_str())
    );
    let since = before.format(&Rfc3339).unwrap().replace('+', "%2B");
    let window = q(format!("since={since}&limit=200")).await;
    assert_eq!(window.assert_status(200)["total"], all["total"]);
    let future = (OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&Rfc3339)
        .unwrap()
        .replace('+', "%2B");
    let none = q(format!("since={future}")).await;
    assert_eq!(none.assert_status(200)["total"], 0);
    let until_past = q(format!("until={since}")).await;
    assert_eq!(until_past.assert_status(200)["total"], 0);

    let p1 = q("limit=3&offset=0".into()).await;
    let p2 = q("limit=3&offset=3".into()).await;
    assert_eq!(actions(p1.assert_status(200)), got[0..3]);
    assert_eq!(actions(p2.assert_status(200)), got[3..6]);

    for bad in [
        "since=yesterday",
        "until=2026-13-01",
        "limit=0",
        "actor=bob",
    ] {
        q(bad.into()).await.assert_error(400, "invalid");
    }
}
