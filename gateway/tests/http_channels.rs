//! Channels over HTTP: create/list/get, members, direct channels, history, search, and tenant
//! isolation.

mod http_support;

use atrium_core::ids::{ChannelId, UserId};
use http_support::{Session, TestNode, other_org_user, store_message};
use serde_json::{Value, json};

on_both_backends!(
    create_list_and_get,
    channel_input_rules,
    members_add_remove_and_permissions,
    org_channels_can_be_joined_by_anyone,
    direct_channels_are_found_or_created,
    racing_direct_channel_requests_make_one_channel,
    history_pages_and_unread_counts,
    search_covers_only_my_channels,
    other_organizations_channels_are_not_found,
);

async fn create(node: &TestNode, who: &Session, name: &str, kind: &str) -> String {
    let r = node
        .post(
            "/api/v1/channels",
            who.token(),
            json!({ "name": name, "kind": kind }),
        )
        .await;
    r.assert_status(201)["id"].as_str().unwrap().to_owned()
}

/// `by` adds `who` to channel `ch`, which must succeed.
async fn add_member(node: &TestNode, by: &Session, ch: &str, who: &Session) {
    node.post(
        &format!("/api/v1/channels/{ch}/members"),
        by.token(),
        json!({ "user_id": who.user_id }),
    )
    .await
    .assert_status(200);
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn create_list_and_get(node: &TestNode) {
    node.register("admin").await;
    let bob = node.register("bob").await;
    let r = node
        .post(
            "/api/v1/channels",
            bob.token(),
            json!({ "name": "  design  ", "kind": "project" }),
        )
        .await;
    let ch = r.assert_status(201).clone();
    assert_eq!(ch["name"], "design", "names are trimmed");
    assert_eq!(ch["kind"], "project");
    assert_eq!(ch["created_by"], bob.user_id.as_str());
    assert_eq!(ch["organization_id"], node.state.default_org.to_string());
    assert_eq!(ch["last_seq"], 0);
    let id = ch["id"].as_str().unwrap();

    let list = node.get("/api/v1/channels", bob.token()).await;
    let list = list.assert_status(200);
    assert_eq!(ids(list), vec![id.to_owned()]);
    assert_eq!(list["items"][0]["role"], "owner");
    assert_eq!(list["items"][0]["unread"], 0);

    let detail = node
        .get(&format!("/api/v1/channels/{id}"), bob.token())
        .await;
    let detail = detail.assert_status(200);
    assert_eq!(detail["name"], "design");
    let members = detail["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["user_id"], bob.user_id.as_str());
    assert_eq!(members[0]["role"], "owner");
}

async fn channel_input_rules(node: &TestNode) {
    let admin = node.register("admin").await;
    let t = admin.token();
    let bad = [
        (json!({ "name": "", "kind": "group" }), 400, "invalid"),
        (json!({ "name": "   ", "kind": "group" }), 400, "invalid"),
        (
            json!({ "name": "x".repeat(81), "kind": "group" }),
            400,
            "invalid",
        ),
        (
            json!({ "name": "tab\there", "kind": "group" }),
            400,
            "invalid",
        ),
        (json!({ "name": "dm", "kind": "direct" }), 400, "invalid"),
        (json!({ "name": "x", "kind": "bogus" }), 422, "invalid"),
        (json!({ "kind": "group" }), 422, "invalid"),
        (json!({ "name": 5, "kind": "group" }), 422, "invalid"),
        (
            json!({ "name": "x", "kind": "group", "extra": 1 }),
            422,
            "invalid",
        ),
    ];
    for (body, status, code) in bad {
        let msg = node
            .post("/api/v1/channels", t, body.clone())
            .await
            .assert_error(status, code);
        assert!(!msg.is_empty(), "{body}");
    }
    // Exactly 80 characters is fine (counted in characters, not bytes).
    node.post(
        "/api/v1/channels",
        t,
        json!({ "name": "é".repeat(80), "kind": "group" }),
    )
    .await
    .assert_status(201);
    // Guests may not create channels.
    let guest = node.register("guest").await;
    node.patch(
        &format!("/api/v1/users/{}/role", guest.user_id),
        t,
        json!({ "role": "guest" }),
    )
    .await
    .assert_status(200);
    node.post(
        "/api/v1/channels",
        guest.token(),
        json!({ "name": "g", "kind": "group" }),
    )
    .await
    .assert_error(403, "forbidden");
}

async fn members_add_remove_and_permissions(node: &TestNode) {
    let admin = node.register("admin").await;
    let bob = node.register("bob").await;
    let carol = node.register("carol").await;
    let dave = node.register("dave").await;
    let ch = create(node, &bob, "team", "group").await;
    let members = format!("/api/v1/channels/{ch}/members");

    // Not yet a member: cannot see it.
    node.get(&format!("/api/v1/channels/{ch}"), carol.token())
        .await
        .assert_error(403, "forbidden");

    // The owner adds carol; adding twice is harmless.
    for _ in 0..2 {
        let r = node
            .post(&members, bob.token(), json!({ "user_id": carol.user_id }))
            .await;
        let m = r.assert_status(200);
        assert_eq!(m["user_id"], carol.user_id.as_str());
        assert_eq!(m["role"], "member");
    }
    assert_eq!(
        ids(node
            .get("/api/v1/channels", carol.token())
            .await
            .assert_status(200)),
        vec![ch.clone()]
    );
    node.get(&format!("/api/v1/channels/{ch}"), carol.token())
        .await
        .assert_status(200);

    // A plain member cannot add or remove others.
    node.post(&members, carol.token(), json!({ "user_id": dave.user_id }))
        .await
        .assert_error(403, "forbidden");
    node.delete(&format!("{members}/{}", bob.user_id), carol.token())
        .await
        .assert_error(403, "forbidden");

    // An admin can manage any channel of the organization.
    node.post(&members, admin.token(), json!({ "user_id": dave.user_id }))
        .await
        .assert_status(200);
    let detail = node
        .get(&format!("/api/v1/channels/{ch}"), admin.token())
        .await;
    assert_eq!(
        detail.assert_status(200)["members"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Owner removes dave; carol leaves by herself.
    let r = node
        .delete(&format!("{members}/{}", dave.user_id), bob.token())
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = node
        .delete(&format!("{members}/{}", carol.user_id), carol.token())
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(
        ids(node
            .get("/api/v1/channels", carol.token())
            .await
            .assert_status(200))
        .is_empty()
    );
    // Removing someone who is not a member.
    node.delete(&format!("{members}/{}", carol.user_id), bob.token())
        .await
        .assert_error(404, "not_found");

    // Unknown users and channels.
    node.post(&members, bob.token(), json!({ "user_id": UserId::new() }))
        .await
        .assert_error(404, "not_found");
    node.post(
        &format!("/api/v1/channels/{}/members", ChannelId::new()),
        bob.token(),
        json!({ "user_id": carol.user_id }),
    )
    .await
    .assert_error(404, "not_found");
    node.post(&members, bob.token(), json!({ "user_id": "not-a-uuid" }))
        .await
        .assert_error(422, "invalid");
}

async fn org_channels_can_be_joined_by_anyone(node: &TestNode) {
    node.register("admin").await;
    let bob = node.register("bob").await;
    let carol = node.register("carol").await;
    let dave = node.register("dave").await;
    let ch = create(node, &bob, "general", "org").await;
    // Visible without membership, joinable by oneself, but not a way to add others.
    node.get(&format!("/api/v1/channels/{ch}"), carol.token())
        .await
        .assert_status(200);
    node.post(
        &format!("/api/v1/channels/{ch}/members"),
        carol.token(),
        json!({ "user_id": dave.user_id }),
    )
    .await
    .assert_error(403, "forbidden");
    add_member(node, &carol, &ch, &carol).await;
    assert_eq!(
        ids(node
            .get("/api/v1/channels", carol.token())
            .await
            .assert_status(200)),
        vec![ch]
    );
}

async fn racing_direct_channel_requests_make_one_channel(node: &TestNode) {
    node.register("admin").await;
    let dave = node.register("dave").await;
    let erin = node.register("erin").await;
    let requests = (0..6).map(|i| {
        let (from, to) = if i % 2 == 0 {
            (&dave, &erin)
        } else {
            (&erin, &dave)
        };
        node.post(
            "/api/v1/channels/direct",
            from.token(),
            json!({ "user_id": to.user_id }),
        )
    });
    let replies = futures_util::future::join_all(requests).await;
    let mut seen: Vec<String> = replies
        .iter()
        .map(|r| {
            assert!(r.status == 200 || r.status == 201, "{}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    seen.dedup();
    assert_eq!(seen.len(), 1, "one direct channel for the pair: {seen:?}");
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
}

async fn direct_channels_are_found_or_created(node: &TestNode) {
    node.register("admin").await;
    let bob = node.register("bob").await;
    let carol = node.register("carol").await;
    let first = node
        .post(
            "/api/v1/channels/direct",
            bob.token(),
            json!({ "user_id": carol.user_id }),
        )
        .await;
    let dm = first.assert_status(201).clone();
    assert_eq!(dm["kind"], "direct");
    let id = dm["id"].as_str().unwrap().to_owned();

    // Again, from either side: the same channel.
    for who in [&bob, &carol] {
        let other = if who.user_id == bob.user_id {
            &carol
        } else {
            &bob
        };
        let r = node
            .post(
                "/api/v1/channels/direct",
                who.token(),
                json!({ "user_id": other.user_id }),
            )
            .await;
        assert_eq!(r.assert_status(200)["id"], id.as_str());
    }
    for who in [&bob, &carol] {
        assert_eq!(
            ids(node
                .get("/api/v1/channels", who.token())
                .await
                .assert_status(200)),
            vec![id.clone()]
        );
    }
    let detail = node
        .get(&format!("/api/v1/channels/{id}"), carol.token())
        .await;
    assert_eq!(
        detail.assert_status(200)["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Members of a direct channel are fixed.
    let dave = node.register("dave").await;
    node.post(
        &format!("/api/v1/channels/{id}/members"),
        bob.token(),
        json!({ "user_id": dave.user_id }),
    )
    .await
    .assert_error(400, "invalid");
    // Not with yourself, not with nobody, not across organizations.
    node.post(
        "/api/v1/channels/direct",
        bob.token(),
        json!({ "user_id": bob.user_id }),
    )
    .await
    .assert_error(400, "invalid");
    node.post(
        "/api/v1/channels/direct",
        bob.token(),
        json!({ "user_id": UserId::new() }),
    )
    .await
    .assert_error(404, "not_found");
    let stranger = other_org_user(node, "stranger").await;
    node.post(
        "/api/v1/channels/direct",
        bob.token(),
        json!({ "user_id": stranger }),
    )
    .await
    .assert_error(404, "not_found");
}

async fn history_pages_and_unread_counts(node: &TestNode) {
    node.register("admin").await;
    let bob = node.register("bob").await;
    let carol = node.register("carol").await;
    let dave = node.register("dave").await;
    let ch = create(node, &bob, "log", "group").await;
    add_member(node, &bob, &ch, &carol).await;
    for i in 1..=5 {
        store_message(node, &ch, &bob.user_id, &format!("message {i}")).await;
    }
    let list = node.get("/api/v1/channels", carol.token()).await;
    let item = &list.assert_status(200)["items"][0];
    assert_eq!(item["unread"], 5);
    assert_eq!(item["last_seq"], 5);
    let bobs = node.get("/api/v1/channels", bob.token()).await;
    assert_eq!(
        bobs.assert_status(200)["items"][0]["unread"],
        0,
        "own messages are not unread"
    );

    let seqs = |r: &http_support::Reply| -> Vec<i64> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    let path = format!("/api/v1/channels/{ch}/messages");
    let all = node.get(&path, carol.token()).await;
    all.assert_status(200);
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5]);
    assert_eq!(all.body["items"][0]["body"], "message 1");
    assert_eq!(all.body["items"][0]["sender_id"], bob.user_id.as_str());
    let newest = node.get(&format!("{path}?limit=2"), carol.token()).await;
    assert_eq!(seqs(&newest), [4, 5]);
    let older = node
        .get(&format!("{path}?before_seq=4&limit=2"), carol.token())
        .await;
    assert_eq!(seqs(&older), [2, 3]);
    let oldest = node
        .get(&format!("{path}?before_seq=2&limit=2"), carol.token())
        .await;
    assert_eq!(seqs(&oldest), [1]);

    for bad in [
        "limit=0",
        "limit=201",
        "before_seq=0",
        "before_seq=abc",
        "limit=-3",
    ] {
        node.get(&format!("{path}?{bad}"), carol.token())
            .await
            .assert_error(400, "invalid");
    }
    // Non-members cannot read.
    node.get(&path, dave.token())
        .await
        .assert_error(403, "forbidden");
}

async fn search_covers_only_my_channels(node: &TestNode) {
    node.register("admin").await;
    let bob = node.register("bob").await;
    let carol = node.register("carol").await;
    let shared = create(node, &bob, "shared", "group").await;
    let private = create(node, &bob, "private", "group").await;
    add_member(node, &bob, &shared, &carol).await;
    store_message(node, &shared, &bob.user_id, "the quick brown fox jumps").await;
    store_message(node, &shared, &bob.user_id, "over the lazy dog").await;
    store_message(node, &private, &bob.user_id, "a secret fox plan").await;

    let hits = |r: &http_support::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["message"]["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let bobs = node.get("/api/v1/search?q=fox", bob.token()).await;
    bobs.assert_status(200);
    let mut found = hits(&bobs);
    found.sort();
    assert_eq!(found, ["a secret fox plan", "the quick brown fox jumps"]);
    assert!(bobs.body["items"][0]["snippet"].as_str().is_some());

    let carols = node.get("/api/v1/search?q=fox", carol.token()).await;
    carols.assert_status(200);
    assert_eq!(hits(&carols), ["the quick brown fox jumps"]);
    let r = node.get("/api/v1/search?q=fox&limit=1", bob.token()).await;
    assert_eq!(hits(&r).len(), 1);
    let none = node.get("/api/v1/search?q=giraffe", bob.token()).await;
    assert!(hits(&none).is_empty());

    // Query syntax characters are searched, not interpreted (no 500s).
    for q in [
        "%22fox", "fox*", "fox%20OR", "(fox", "NEAR(fox", "-fox", "%27", "fox:bar",
    ] {
        node.get(&format!("/api/v1/search?q={q}"), bob.token())
            .await
            .assert_status(200);
    }
    for bad in [
        "q=",
        "q=%20%20",
        "limit=5",
        "q=fox&limit=0",
        "q=fox&limit=101",
    ] {
        node.get(&format!("/api/v1/search?{bad}"), bob.token())
            .await
            .assert_error(400, "invalid");
    }
    let long = "a".repeat(257);
    node.get(&format!("/api/v1/search?q={long}"), bob.token())
        .await
        .assert_error(400, "invalid");
}

async fn other_organizations_channels_are_not_found(node: &TestNode) {
    let admin = node.register("admin").await;
    let ours = create(node, &admin, "ours", "org").await;
    other_org_user(node, "stranger").await;
    let stranger = Session::from_reply(&node.login("stranger").await);
    let theirs = create(node, &stranger, "theirs", "org").await;

    // Every route that takes a channel id answers 404 for the other organization's channel,
    // in both directions, even for admins and even for `org` channels.
    for (who, id, member) in [(&admin, &theirs, &admin), (&stranger, &ours, &stranger)] {
        node.get(&format!("/api/v1/channels/{id}"), who.token())
            .await
            .assert_error(404, "not_found");
        node.get(&format!("/api/v1/channels/{id}/messages"), who.token())
            .await
            .assert_error(404, "not_found");
        node.post(
            &format!("/api/v1/channels/{id}/members"),
            who.token(),
            json!({ "user_id": member.user_id }),
        )
        .await
        .assert_error(404, "not_found");
        node.delete(
            &format!("/api/v1/channels/{id}/members/{}", member.user_id),
            who.token(),
        )
        .await
        .assert_error(404, "not_found");
    }
    // Each side lists only its own.
    assert_eq!(
        ids(node
            .get("/api/v1/channels", admin.token())
            .await
            .assert_status(200)),
        vec![ours]
    );
    // And cannot add the other side's users to its channels.
    let mine = create(node, &admin, "mine", "group").await;
    node.post(
        &format!("/api/v1/channels/{mine}/members"),
        admin.token(),
        json!({ "user_id": stranger.user_id }),
    )
    .await
    .assert_error(404, "not_found");
    // Malformed ids are a 400, unknown ones a 404.
    node.get("/api/v1/channels/not-a-uuid", admin.token())
        .await
        .assert_error(400, "invalid");
    node.get(
        &format!("/api/v1/channels/{}", ChannelId::new()),
        admin.token(),
    )
    .await
    .assert_error(404, "not_found");
}
