//! The AI hub over HTTP: conversations, assistants (global ones admin-only), prompt templates
//! and their rendering, the system overview; tenants and bad input.

mod http_support;

use http_support::{TestNode, other_org_user};
use serde_json::json;

on_both_backends!(hub_resources, tenants_and_bad_input);

async fn hub_resources(node: &TestNode) {
    let alice = node.register("alice").await; // the first user: admin
    let bob = node.register("bob").await;

    // Assistants: personal for everyone, global for admins.
    let mine = node
        .post("/api/v1/ai/assistants", bob.token(), json!({"name": "Coach", "system_prompt": "Be kind.", "temperature": 0.25, "icon": "🧭"}))
        .await;
    let mine = mine.assert_status(201).clone();
    assert_eq!(
        (mine["global"].as_bool(), mine["temperature"].as_f64()),
        (Some(false), Some(0.25))
    );
    node.post(
        "/api/v1/ai/assistants",
        bob.token(),
        json!({"name": "Global", "global": true}),
    )
    .await
    .assert_error(403, "forbidden");
    let global = node
        .post(
            "/api/v1/ai/assistants",
            alice.token(),
            json!({"name": "Helpdesk", "global": true, "model": "local"}),
        )
        .await
        .assert_status(201)
        .clone();
    let names = |r: &serde_json::Value| -> Vec<String> {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(
            node.get("/api/v1/ai/assistants", bob.token())
                .await
                .assert_status(200)
        ),
        vec!["Coach", "Helpdesk"]
    );
    assert_eq!(
        names(
            node.get("/api/v1/ai/assistants", alice.token())
                .await
                .assert_status(200)
        ),
        vec!["Helpdesk"]
    );
    let gid = global["id"].as_str().unwrap();
    node.patch(
        &format!("/api/v1/ai/assistants/{gid}"),
        bob.token(),
        json!({"name": "Mine now"}),
    )
    .await
    .assert_error(403, "forbidden");
    let mid = mine["id"].as_str().unwrap();
    node.get(&format!("/api/v1/ai/assistants/{mid}"), alice.token())
        .await
        .assert_error(404, "not_found");
    let patched = node
        .patch(
            &format!("/api/v1/ai/assistants/{mid}"),
            bob.token(),
            json!({"temperature": null, "description": "helps"}),
        )
        .await
        .assert_status(200)
        .clone();
    assert!(patched["temperature"].is_null());
    assert_eq!(patched["description"], "helps");

    // Conversations.
    let c = node
        .post(
            "/api/v1/ai/conversations",
            bob.token(),
            json!({"assistant_id": mid, "model": "local", "title": "Plans"}),
        )
        .await
        .assert_status(201)
        .clone();
    let cid = c["id"].as_str().unwrap();
    let listed = node.get("/api/v1/ai/conversations", bob.token()).await;
    assert_eq!(listed.assert_status(200)["total"], 1);
    node.get(&format!("/api/v1/ai/conversations/{cid}"), alice.token())
        .await
        .assert_error(404, "not_found");
    let changed = node
        .patch(
            &format!("/api/v1/ai/conversations/{cid}"),
            bob.token(),
            json!({"title": "Trip", "model": null, "system_prompt": "Short answers."}),
        )
        .await
        .assert_status(200)
        .clone();
    assert_eq!(
        (
            changed["title"].as_str(),
            changed["model"].is_null(),
            changed["system_prompt"].as_str()
        ),
        (Some("Trip"), true, Some("Short answers."))
    );
    let msgs = node
        .get(
            &format!("/api/v1/ai/conversations/{cid}/messages"),
            bob.token(),
        )
        .await;
    assert_eq!(msgs.assert_status(200)["items"], json!([]));
    // A channel conversation is shared with the channel's members.
    let ch = node
        .post(
            "/api/v1/channels",
            alice.token(),
            json!({"name": "ops", "kind": "group"}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.post(
        "/api/v1/ai/conversations",
        bob.token(),
        json!({"channel_id": ch}),
    )
    .await
    .assert_error(403, "forbidden");
    let shared = node
        .post(
            "/api/v1/ai/conversations",
            alice.token(),
            json!({"channel_id": ch}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.post(
        &format!("/api/v1/channels/{ch}/members"),
        alice.token(),
        json!({"user_id": bob.user_id}),
    )
    .await
    .assert_status(200);
    node.get(&format!("/api/v1/ai/conversations/{shared}"), bob.token())
        .await
        .assert_status(200);
    node.delete(&format!("/api/v1/ai/conversations/{shared}"), bob.token())
        .await
        .assert_error(403, "forbidden");

    // Templates and rendering.
    let t = node
        .post(
            "/api/v1/ai/templates",
            bob.token(),
            json!({"name": "Mail", "body": "Dear {{name}}, about {{ topic }}: {{name}}."}),
        )
        .await
        .assert_status(201)
        .clone();
    assert_eq!(t["variables"], json!(["name", "topic"]));
    let tid = t["id"].as_str().unwrap();
    let r = node
        .post(
            &format!("/api/v1/ai/templates/{tid}/render"),
            bob.token(),
            json!({"variables": {"name": "Ada"}}),
        )
        .await;
    let r = r.assert_status(200);
    assert_eq!(r["text"], "Dear Ada, about {{ topic }}: Ada.");
    assert_eq!(
        (r["missing"].clone(), r["complete"].as_bool()),
        (json!(["topic"]), Some(false))
    );
    let r = node
        .post(
            "/api/v1/ai/templates/render",
            alice.token(),
            json!({"body": "{{a}}{{b}}", "variables": {"a": "1", "b": "2"}}),
        )
        .await;
    assert_eq!(
        (
            r.assert_status(200)["text"].as_str(),
            r.body["complete"].as_bool()
        ),
        (Some("12"), Some(true))
    );
    node.post(
        &format!("/api/v1/ai/templates/{tid}/render"),
        alice.token(),
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    node.delete(&format!("/api/v1/ai/templates/{tid}"), bob.token())
        .await
        .assert_status(204);

    // The overview counts, for admins only.
    let stats = node.get("/api/v1/admin/stats", alice.token()).await;
    let stats = stats.assert_status(200);
    assert_eq!(
        (
            stats["users"].as_u64(),
            stats["conversations"].as_u64(),
            stats["assistants"].as_u64(),
            stats["templates"].as_u64(),
            stats["channels"].as_u64()
        ),
        (Some(2), Some(2), Some(2), Some(0), Some(1))
    );
    node.get("/api/v1/admin/stats", bob.token())
        .await
        .assert_error(403, "forbidden");

    node.delete(&format!("/api/v1/ai/conversations/{cid}"), bob.token())
        .await
        .assert_status(204);
    node.get(&format!("/api/v1/ai/conversations/{cid}"), bob.token())
        .await
        .assert_error(404, "not_found");
    // Chat and admin events are audited, by id and without content.
    let audit = node
        .get("/api/v1/admin/audit-log?action=ai.*", alice.token())
        .await;
    let text = audit.assert_status(200).to_string();
    assert!(
        text.contains("ai.conversation_create")
            && text.contains("ai.conversation_delete")
            && text.contains("ai.template_create"),
        "{text}"
    );
    assert!(
        !text.contains("Short answers") && !text.contains("Dear {{name}}"),
        "no content in the audit log"
    );
}

async fn tenants_and_bad_input(node: &TestNode) {
    let alice = node.register("alice").await;
    let c = node
        .post("/api/v1/ai/conversations", alice.token(), json!({}))
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = node
        .post(
            "/api/v1/ai/assistants",
            alice.token(),
            json!({"name": "A", "global": true}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    other_org_user(node, "mallory").await;
    let login = node.login("mallory").await;
    let mallory = http_support::Session::from_reply(&login);
    node.get(&format!("/api/v1/ai/conversations/{c}"), mallory.token())
        .await
        .assert_error(404, "not_found");
    node.get(
        &format!("/api/v1/ai/conversations/{c}/messages"),
        mallory.token(),
    )
    .await
    .assert_error(404, "not_found");
    node.post(
        "/api/v1/ai/conversations",
        mallory.token(),
        json!({"assistant_id": a}),
    )
    .await
    .assert_error(404, "not_found");
    node.get(&format!("/api/v1/ai/assistants/{a}"), mallory.token())
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        node.get("/api/v1/ai/assistants", mallory.token())
            .await
            .assert_status(200)["items"],
        json!([])
    );
    // Another organization's admin manages its own budgets but not the node's models.
    node.get("/api/v1/admin/budgets", mallory.token())
        .await
        .assert_status(200);
    node.get("/api/v1/admin/models", mallory.token())
        .await
        .assert_error(403, "forbidden");

    node.post(
        "/api/v1/ai/assistants",
        alice.token(),
        json!({"name": "  "}),
    )
    .await
    .assert_error(400, "invalid");
    node.post(
        "/api/v1/ai/assistants",
        alice.token(),
        json!({"name": "x", "temperature": 2.5}),
    )
    .await
    .assert_error(400, "invalid");
    node.post(
        "/api/v1/ai/assistants",
        alice.token(),
        json!({"name": "x", "colour": "red"}),
    )
    .await
    .assert_error(422, "invalid");
    node.post(
        "/api/v1/ai/conversations",
        alice.token(),
        json!({"title": "t".repeat(81)}),
    )
    .await
    .assert_error(400, "invalid");
    node.post(
        "/api/v1/ai/templates",
        alice.token(),
        json!({"name": "t", "body": "x".repeat(16_001)}),
    )
    .await
    .assert_error(400, "invalid");
    node.post("/api/v1/ai/templates", alice.token(), json!({"name": "t"}))
        .await
        .assert_error(400, "invalid");
    node.get("/api/v1/ai/conversations/not-an-id", alice.token())
        .await
        .assert_error(400, "invalid");
    node.get(
        &format!("/api/v1/ai/conversations/{c}/messages?limit=0"),
        alice.token(),
    )
    .await
    .assert_error(400, "invalid");
    node.get("/api/v1/ai/conversations", None)
        .await
        .assert_error(401, "unauthorized");
    node.call(
        reqwest::Method::PUT,
        "/api/v1/admin/budgets",
        alice.token(),
        Some(json!({"metric": "tokens", "limit": -1, "period": "day"})),
    )
    .await
    .assert_error(400, "invalid");
    node.call(
        reqwest::Method::PUT,
        "/api/v1/admin/budgets",
        alice.token(),
        Some(json!({"metric": "stars", "limit": 1, "period": "day"})),
    )
    .await
    .assert_error(422, "invalid");
    // Without the realtime core there is no model catalog.
    node.get("/api/v1/ai/models", alice.token())
        .await
        .assert_error(503, "unavailable");
}
