//! `/api/v1/rooms`: creation (templates, overrides, custom rooms, chat channels), reads,
//! pagination, changes, deletion, permissions, tenant isolation, templates and occupants.

mod rooms_support;
mod ws_support;

use serde_json::{Value, json};

use ws_support::{Account, Node};

async fn call(
    node: &Node,
    method: reqwest::Method,
    path: &str,
    who: &Account,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", node.base))
        .bearer_auth(&who.token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn rooms_are_created_read_paged_changed_and_deleted() {
    let node = Node::start().await;
    let admin = node.register("ada").await; // the first user administers the organization
    let ben = node.register("ben").await;
    let cat = node.register("cat").await;

    // The templates: the four built-in ones, each with its whole definition.
    let (status, templates) = node.get("/api/v1/rooms/templates", &ben.token).await;
    assert_eq!(status, 200, "{templates}");
    let names: Vec<&str> = templates["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["classroom", "conference", "gallery", "theater"]);
    let theater = &templates["items"][3];
    assert_eq!(theater["capacity"], 150);
    assert_eq!(theater["seats"], 72);
    assert_eq!(theater["definition"]["audio"]["distance_model"], "inverse");

    // Ben creates a theater with overrides; it gets a chat channel and the template's capacity.
    let (status, room) = node
        .post(
            "/api/v1/rooms",
            Some(&ben.token),
            json!({"name": "Town hall", "template": "theater",
                   "template_data": {"title": "Town hall", "audio": {"rolloff_factor": 2.0}}}),
        )
        .await;
    assert_eq!(status, 201, "{room}");
    assert_eq!(room["capacity"], 150);
    assert_eq!(room["created_by"], ben.id.to_string());
    assert!(room["channel_id"].is_string());
    let id = room["id"].as_str().expect("id").to_owned();
    let (status, got) = node.get(&format!("/api/v1/rooms/{id}"), &cat.token).await;
    assert_eq!((status, &got), (200, &room));

    // A custom room carries its whole template; no chat when asked not to.
    let (status, booth) = node
        .post(
            "/api/v1/rooms",
            Some(&cat.token),
            json!({"name": "Booth", "template": "custom", "create_chat": false, "capacity": 3,
                   "template_data": {"name": "booth", "capacity": 4, "audible_range": 5.0,
                       "bounds": {"min": [0.0, 0.0, 0.0], "max": [4.0, 3.0, 4.0]},
                       "spawn_points": [{"position": [1.0, 0.0, 1.0]}]}}),
        )
        .await;
    assert_eq!(status, 201, "{booth}");
    assert_eq!(booth["capacity"], 3);
    assert!(booth["channel_id"].is_null());

    // Bad input: each with a clear code.
    for (body, expect) in [
        (json!({"name": "", "template": "theater"}), "invalid"),
        (json!({"name": "Castle", "template": "castle"}), "invalid"),
        (
            json!({"name": "Zero", "template": "theater", "capacity": 0}),
            "invalid",
        ),
        (
            json!({"name": "Huge", "template": "theater", "capacity": 100000}),
            "invalid",
        ),
        (
            json!({"name": "Broken", "template": "theater", "template_data": {"spawn_points": []}}),
            "invalid",
        ),
        (
            json!({"name": "Typo", "template": "theater", "template_data": {"flying": true}}),
            "invalid",
        ),
        (json!({"name": "Nothing", "template": "custom"}), "invalid"),
        (
            json!({"name": "town hall", "template": "gallery"}),
            "conflict",
        ),
        (
            json!({"name": "Extra", "template": "theater", "seats": 3}),
            "invalid",
        ),
    ] {
        let (status, body_back) = node
            .post("/api/v1/rooms", Some(&ben.token), body.clone())
            .await;
        assert!(status >= 400, "{body}: {status} {body_back}");
        assert_eq!(code(&body_back), expect, "{body}: {body_back}");
    }

    // Pagination over the organization's rooms.
    let (_, page) = node.get("/api/v1/rooms?limit=1&offset=1", &ben.token).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["items"][0]["name"], "Booth");
    let (status, bad) = node.get("/api/v1/rooms?limit=0", &ben.token).await;
    assert_eq!((status, code(&bad)), (400, "invalid"));

    // Changes: the creator may; another user may not; an admin may.
    let path = format!("/api/v1/rooms/{id}");
    let (status, changed) = call(
        &node,
        reqwest::Method::PATCH,
        &path,
        &ben,
        Some(json!({"name": "Great hall", "capacity": 20, "channel_id": null})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Great hall");
    assert_eq!(changed["capacity"], 20);
    assert!(changed["channel_id"].is_null());
    assert_eq!(
        changed["template_data"]["title"], "Town hall",
        "overrides stay"
    );
    let (status, refused) = call(
        &node,
        reqwest::Method::PATCH,
        &path,
        &cat,
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!((status, code(&refused)), (403, "forbidden"));
    let (status, refused) = call(&node, reqwest::Method::DELETE, &path, &cat, None).await;
    assert_eq!((status, code(&refused)), (403, "forbidden"));
    let (status, _) = call(
        &node,
        reqwest::Method::PATCH,
        &path,
        &admin,
        Some(json!({"template": "gallery"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, now) = node.get(&path, &ben.token).await;
    assert_eq!(now["template"], "gallery");
    assert!(
        now["template_data"].is_null(),
        "a new template starts without overrides"
    );

    // Another organization sees nothing of it.
    let eve = node.foreign_account("eve").await;
    let (status, hidden) = node.get(&path, &eve.token).await;
    assert_eq!((status, code(&hidden)), (404, "not_found"));
    let (_, theirs) = node.get("/api/v1/rooms", &eve.token).await;
    assert_eq!(theirs["total"], 0);
    let (status, _) = call(&node, reqwest::Method::DELETE, &path, &eve, None).await;
    assert_eq!(status, 404);
    let (status, _) = node.get(&format!("{path}/occupants"), &eve.token).await;
    assert_eq!(status, 404);

    // Occupants of a room nobody is in; then the creator deletes it.
    let (status, occupants) = node.get(&format!("{path}/occupants"), &ben.token).await;
    assert_eq!(status, 200);
    assert_eq!(occupants["items"], json!([]));
    let (status, _) = call(&node, reqwest::Method::DELETE, &path, &ben, None).await;
    assert_eq!(status, 204);
    let (status, _) = node.get(&path, &ben.token).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn guests_may_enter_rooms_but_not_create_them_and_linking_a_channel_needs_its_owner() {
    let node = Node::start().await;
    let admin = node.register("ada").await;
    let gus = node.register("gus").await;
    let ben = node.register("ben").await;
    let (status, _) = call(
        &node,
        reqwest::Method::PATCH,
        &format!("/api/v1/users/{}/role", gus.id),
        &admin,
        Some(json!({"role": "guest"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, refused) = node
        .post(
            "/api/v1/rooms",
            Some(&gus.token),
            json!({"name": "Mine", "template": "gallery"}),
        )
        .await;
    assert_eq!((status, code(&refused)), (403, "forbidden"));
    let (status, _) = node.get("/api/v1/rooms", &gus.token).await;
    assert_eq!(status, 200, "guests may look");

    // Ben may not make admin's private channel the chat of his room; admin may.
    let channel = node.channel(&admin, &[]).await;
    let (status, refused) = node
        .post(
            "/api/v1/rooms",
            Some(&ben.token),
            json!({"name": "Spy room", "template": "gallery", "channel_id": channel.to_string()}),
        )
        .await;
    assert_eq!((status, code(&refused)), (403, "forbidden"), "{refused}");
    let (room, linked) = rooms_support::create_room(
        &node,
        &admin,
        json!({"name": "Open day", "template": "gallery", "channel_id": channel.to_string()}),
    )
    .await;
    assert_eq!(linked, Some(channel));

    // The guest enters (read-only in its chat, but present in the room).
    let client = node.client(&gus).await;
    let joined = client.join_room(room).await.expect("a guest may join");
    assert_eq!(joined.room.channel, Some(channel));
    assert!(joined.seat.is_none(), "the gallery is free roam");
}
