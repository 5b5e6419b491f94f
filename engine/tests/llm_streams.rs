//! AI assistant streams over a real node and real sockets: the local bot on a fresh install, a
//! mock OpenAI-compatible provider streaming live, fallback, cancel, failure after deltas,
//! budgets, other users' conversations and bad input, and model/key administration over HTTP.

mod llm_support;

use atrium_actors::llm::LlmConfig;
use atrium_client::{ClientError, LlmOptions, LlmPush};
use atrium_core::ids::{ConversationId, StreamId};
use atrium_core::protocol::ErrorCode;
use llm_support::{MOCK_KEY, Mock, TestNode, WAIT, collect, mock_llm, text_of};
use reqwest::Method;
use serde_json::{Value, json};

fn model(name: &str) -> LlmOptions {
    LlmOptions {
        model: Some(name.into()),
        ..LlmOptions::default()
    }
}

fn server_code(e: ClientError) -> ErrorCode {
    match e {
        ClientError::Server { code, .. } => code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

async fn messages(node: &TestNode, token: &str, c: ConversationId) -> Vec<Value> {
    let (status, page) = node
        .get(&format!("/api/v1/ai/conversations/{c}/messages"), token)
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn usage_records(node: &TestNode, token: &str) -> Vec<Value> {
    let (status, page) = node.get("/api/v1/admin/usage/records", token).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

fn for_stream(records: &[Value], stream: StreamId) -> Vec<&Value> {
    let id = stream.to_string();
    let mut found: Vec<&Value> = records
        .iter()
        .filter(|r| r["stream_id"] == id.as_str())
        .collect();
    found.sort_by_key(|r| r["id"].as_i64());
    found
}

#[tokio::test]
async fn a_fresh_node_answers_with_the_local_bot_on_every_session() {
    let node = TestNode::start(LlmConfig::default()).await;
    let ada = node.register("ada").await;
    let (status, models) = node.get("/api/v1/ai/models", &ada.token).await;
    assert_eq!(status, 200);
    assert_eq!(models["items"][0]["name"], "local");
    assert_eq!(models["items"][0]["is_default"], true);

    let c = node.conversation(&ada, json!({})).await;
    let phone = node.client(&ada).await;
    let laptop = node.client(&ada).await;
    let stream = phone
        .llm_start(c, "Hello! What can you do?", LlmOptions::default())
        .await
        .unwrap();
    let on_phone = collect(&phone, stream).await;
    let on_laptop = collect(&laptop, stream).await;
    assert_eq!(
        on_phone, on_laptop,
        "every session of the user sees the same stream"
    );
    assert!(
        matches!(&on_phone[0], LlmPush::Started { conversation, model, .. } if *conversation == c && model == "local")
    );
    let answer = text_of(&on_phone);
    assert!(!answer.trim().is_empty());
    let LlmPush::Done {
        model, usage, cost, ..
    } = on_phone.last().unwrap().clone()
    else {
        panic!("ends with llm.done: {on_phone:?}");
    };
    assert_eq!((model.as_str(), cost), ("local", 0));
    assert!(usage.output_tokens > 0);

    let stored = messages(&node, &ada.token, c).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (stored[0]["role"].as_str(), stored[0]["content"].as_str()),
        (Some("user"), Some("Hello! What can you do?"))
    );
    assert_eq!(stored[1]["role"], "assistant");
    assert_eq!(stored[1]["content"], answer.as_str());
    assert_eq!(stored[1]["status"], "complete");

    // The auto-title runs in the background after the first exchange.
    let titled = tokio::time::timeout(WAIT, async {
        loop {
            let (_, conv) = node
                .get(&format!("/api/v1/ai/conversations/{c}"), &ada.token)
                .await;
            if let Some(title) = conv["title"].as_str() {
                break title.to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a title appears");
    assert_eq!(titled, "Hello! What can you do");

    // Usage is recorded, with tokens.
    let records = usage_records(&node, &ada.token).await;
    let mine = for_stream(&records, stream);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["outcome"], "completed");
    assert_eq!(mine[0]["provider"], "local");
    assert_eq!(mine[0]["output_tokens"], u64::from(usage.output_tokens));
}

#[tokio::test]
async fn a_mock_provider_streams_live_with_usage_and_cost() {
    let mock = Mock::start().await;
    let node = TestNode::start(mock_llm(&mock)).await;
    let ada = node.register("ada").await;
    let c = node
        .conversation(
            &ada,
            json!({"system_prompt": "Be brief.", "temperature": 0.5}),
        )
        .await;
    let client = node.client(&ada).await;
    let stream = client
        .llm_start(c, "hi", LlmOptions::default())
        .await
        .unwrap();
    let pushes = collect(&client, stream).await;
    assert_eq!(text_of(&pushes), "Hello from mock");
    let LlmPush::Done {
        usage, cost, model, ..
    } = pushes.last().unwrap().clone()
    else {
        panic!("{pushes:?}");
    };
    assert_eq!(model, "gpt");
    assert_eq!((usage.input_tokens, usage.output_tokens), (11, 3));
    // 11 × 1.00 + 3 × 2.00 per million tokens = 17 micro-units.
    assert_eq!(cost, 17);

    // The provider got the conversation with the system prompt and temperature, and the key.
    // (The auto-title asks the same model afterwards; the first request is the answer's.)
    let asked = mock.requests_for("ok");
    assert_eq!(
        asked[0]["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        asked[0]["messages"][1],
        json!({"role": "user", "content": "hi"})
    );
    assert_eq!(asked[0]["temperature"], 0.5);
    assert_eq!(asked[0]["stream"], true);
    assert!(
        mock.state
            .headers
            .lock()
            .unwrap()
            .iter()
            .all(|h| h == &format!("Bearer {MOCK_KEY}"))
    );

    let records = usage_records(&node, &ada.token).await;
    let mine = for_stream(&records, stream);
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (
            mine[0]["input_tokens"].as_u64(),
            mine[0]["output_tokens"].as_u64(),
            mine[0]["cost_micros"].as_i64()
        ),
        (Some(11), Some(3), Some(17))
    );
    assert_eq!(mine[0]["streamed"], true);
    let (_, spend) = node.get("/api/v1/admin/usage", &ada.token).await;
    assert!(
        spend["totals"]["cost_micros"].as_i64().unwrap() >= 17,
        "{spend}"
    );
    assert_eq!(spend["by_user"][0]["username"], "ada");
}

#[tokio::test]
async fn a_failing_provider_falls_back_before_the_first_delta() {
    let mock = Mock::start().await;
    let node = TestNode::start(mock_llm(&mock)).await;
    let ada = node.register("ada").await;
    let c = node.conversation(&ada, json!({"model": "flaky"})).await;
    let client = node.client(&ada).await;
    let stream = client
        .llm_start(c, "hi", LlmOptions::default())
        .await
        .unwrap();
    let pushes = collect(&client, stream).await;
    assert_eq!(text_of(&pushes), "Hello from mock");
    assert!(matches!(pushes.last(), Some(LlmPush::Done { model, .. }) if model == "gpt"));
    assert_eq!(mock.requests_for("fail").len(), 1);
    let records = usage_records(&node, &ada.token).await;
    let mine = for_stream(&records, stream);
    assert_eq!(
        mine.len(),
        2,
        "the failed attempt is recorded too: {mine:?}"
    );
    assert_eq!(
        (
            mine[0]["model"].as_str(),
            mine[0]["outcome"].as_str(),
            mine[0]["error_code"].as_str()
        ),
        (Some("flaky"), Some("failed"), Some("provider_unavailable"))
    );
    assert_eq!(
        (mine[1]["model"].as_str(), mine[1]["outcome"].as_str()),
        (Some("gpt"), Some("completed"))
    );
}

#[tokio::test]
async fn cancel_stops_the_provider_request_and_keeps_the_partial_answer() {
    let mock = Mock::start().await;
    let node = TestNode::start(mock_llm(&mock)).await;
    let ada = node.register("ada").await;
    let c = node.conversation(&ada, json!({})).await;
    let client = node.client(&ada).await;
    let stream = client.llm_start(c, "tell me", model("slow")).await.unwrap();
    // Wait for the first delta, then cancel.
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(atrium_client::Event::Push(f)) = client.next_event().await
                && matches!(LlmPush::from_frame(&f), Some(LlmPush::Delta { .. }))
            {
                break;
            }
        }
    })
    .await
    .expect("a first delta");
    let dropped = mock.state.dropped.notified();
    client.llm_cancel(stream).await.unwrap();
    tokio::time::timeout(WAIT, dropped)
        .await
        .expect("the provider sees the request dropped");
    let rest = collect(&client, stream).await;
    assert!(
        matches!(rest.last(), Some(LlmPush::Error { code, .. }) if code == "cancelled"),
        "{rest:?}"
    );
    let stored = messages(&node, &ada.token, c).await;
    assert_eq!(
        (stored[1]["content"].as_str(), stored[1]["status"].as_str()),
        (Some("first"), Some("partial"))
    );
    let records = usage_records(&node, &ada.token).await;
    assert_eq!(for_stream(&records, stream)[0]["outcome"], "cancelled");
    // Cancelling again: the stream is over.
    assert_eq!(
        server_code(client.llm_cancel(stream).await.unwrap_err()),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn a_failure_after_deltas_ends_with_the_partial_answer_and_no_fallback() {
    let mock = Mock::start().await;
    let node = TestNode::start(mock_llm(&mock)).await;
    let ada = node.register("ada").await;
    let c = node.conversation(&ada, json!({})).await;
    let client = node.client(&ada).await;
    let stream = client
        .llm_start(c, "count", model("breaking"))
        .await
        .unwrap();
    let pushes = collect(&client, stream).await;
    assert_eq!(text_of(&pushes), "one two ", "each piece exactly once");
    assert!(
        matches!(pushes.last(), Some(LlmPush::Error { code, .. }) if code == "provider_error"),
        "{pushes:?}"
    );
    assert!(
        mock.requests_for("ok").is_empty(),
        "no fallback once text was shown"
    );
    let stored = messages(&node, &ada.token, c).await;
    assert_eq!(
        (stored[1]["content"].as_str(), stored[1]["status"].as_str()),
        (Some("one two "), Some("partial"))
    );
}

#[tokio::test]
async fn budgets_refuse_requests_over_the_limit() {
    let mock = Mock::start().await;
    // No auto-title here: its usage would count against the budget at a time of its choosing.
    let mut llm = mock_llm(&mock);
    llm.streams.auto_title = false;
    let node = TestNode::start(llm).await;
    let admin = node.register("root").await;
    let bob = node.register("bob").await;
    let (status, budget) = node
        .call(
            Method::PUT,
            "/api/v1/admin/budgets",
            &admin.token,
            Some(json!({"user_id": bob.id, "metric": "tokens", "limit": 10, "period": "day"})),
        )
        .await;
    assert_eq!(status, 200, "{budget}");
    let c = node.conversation(&bob, json!({})).await;
    let client = node.client(&bob).await;
    let stream = client
        .llm_start(c, "hi", LlmOptions::default())
        .await
        .unwrap();
    collect(&client, stream).await;
    // 14 tokens spent of 10: refused until the period ends.
    let refused = client
        .llm_start(c, "again", LlmOptions::default())
        .await
        .unwrap_err();
    assert_eq!(server_code(refused), ErrorCode::BudgetExceeded);
    let (_, budgets) = node.get("/api/v1/admin/budgets", &admin.token).await;
    assert_eq!(budgets["items"][0]["spent"], 14);
    // Bob may not manage budgets.
    let (status, _) = node.get("/api/v1/admin/budgets", &bob.token).await;
    assert_eq!(status, 403);
    // The refused question was not stored.
    assert_eq!(messages(&node, &bob.token, c).await.len(), 2);
}

#[tokio::test]
async fn other_users_conversations_and_bad_input_are_refused() {
    let node = TestNode::start(LlmConfig::default()).await;
    let ada = node.register("ada").await;
    let eve = node.register("eve").await;
    let adas = node.conversation(&ada, json!({})).await;
    let eve_client = node.client(&eve).await;
    let code = |r: Result<StreamId, ClientError>| server_code(r.unwrap_err());
    assert_eq!(
        code(
            eve_client
                .llm_start(adas, "hi", LlmOptions::default())
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            eve_client
                .llm_start(ConversationId::new(), "hi", LlmOptions::default())
                .await
        ),
        ErrorCode::NotFound
    );
    let (status, _) = node
        .get(
            &format!("/api/v1/ai/conversations/{adas}/messages"),
            &eve.token,
        )
        .await;
    assert_eq!(status, 404);
    let evec = node.conversation(&eve, json!({})).await;
    let hot = LlmOptions {
        temperature: Some(5.0),
        ..LlmOptions::default()
    };
    assert_eq!(
        code(eve_client.llm_start(evec, "hi", hot).await),
        ErrorCode::Invalid
    );
    assert_eq!(
        code(
            eve_client
                .llm_start(evec, "   ", LlmOptions::default())
                .await
        ),
        ErrorCode::Invalid
    );
    assert_eq!(
        code(eve_client.llm_start(evec, "hi", model("nope")).await),
        ErrorCode::Invalid
    );
    assert_eq!(
        code(
            eve_client
                .llm_start(evec, &"x".repeat(16_001), LlmOptions::default())
                .await
        ),
        ErrorCode::Invalid
    );
    assert_eq!(
        server_code(eve_client.llm_cancel(StreamId::new()).await.unwrap_err()),
        ErrorCode::NotFound
    );
    // Nothing was stored by the refused requests.
    assert!(messages(&node, &eve.token, evec).await.is_empty());
    let (status, _) = node
        .post(
            "/api/v1/ai/conversations",
            &eve.token,
            json!({"temperature": 9}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_admin_manages_models_and_keys_over_the_api() {
    let mock = Mock::start().await;
    let node = TestNode::start(LlmConfig {
        encryption_key: mock_llm(&mock).encryption_key,
        ..LlmConfig::default()
    })
    .await;
    let admin = node.register("root").await;
    let user = node.register("bob").await;
    let secret = "sk-admin-secret-9876";
    let (status, put) = node
        .call(
            Method::PUT,
            "/api/v1/admin/providers/acme",
            &admin.token,
            Some(json!({"kind": "openai", "base_url": mock.base_url, "api_key": secret})),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["key"], "********9876");
    assert_eq!(put["key_source"], "stored");
    let (_, listed) = node.get("/api/v1/admin/providers", &admin.token).await;
    assert!(
        !listed.to_string().contains(secret),
        "the key is never returned"
    );
    let stored = node.node.store.get_provider("acme").await.unwrap();
    let sealed = stored.key.unwrap();
    assert!(
        !sealed
            .ciphertext
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "stored encrypted"
    );
    // Users may not manage providers or models.
    let (status, _) = node.get("/api/v1/admin/providers", &user.token).await;
    assert_eq!(status, 403);

    let (status, gpt) = node
        .post("/api/v1/admin/models", &admin.token, json!({"name": "gpt", "provider": "acme", "model_id": "ok", "is_default": true, "input_price": 1000000, "output_price": 2000000, "fallback": ["local"]}))
        .await;
    assert_eq!(status, 201, "{gpt}");
    let (status, other) = node
        .post(
            "/api/v1/admin/models",
            &admin.token,
            json!({"name": "gpt-2", "provider": "acme", "model_id": "ok", "is_default": true}),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let (_, all) = node.get("/api/v1/admin/models", &admin.token).await;
    let defaults: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["is_default"] == true)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, vec!["gpt-2"], "a new default unsets the old one");
    let (status, _) = node
        .post(
            "/api/v1/admin/models",
            &admin.token,
            json!({"name": "gpt", "provider": "acme", "model_id": "x"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = node
        .post(
            "/api/v1/admin/models",
            &admin.token,
            json!({"name": "x", "provider": "nowhere", "model_id": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    let id = gpt["id"].as_str().unwrap();
    let (status, patched) = node
        .call(
            Method::PATCH,
            &format!("/api/v1/admin/models/{id}"),
            &admin.token,
            Some(json!({"is_default": true})),
        )
        .await;
    assert_eq!((status, patched["is_default"].as_bool()), (200, Some(true)));

    // The live test goes through the stored (decrypted) key.
    let (status, test) = node
        .post("/api/v1/admin/providers/acme/test", &admin.token, json!({}))
        .await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["ok"], true, "{test}");
    assert!(
        mock.state
            .headers
            .lock()
            .unwrap()
            .iter()
            .any(|h| h == &format!("Bearer {secret}"))
    );

    // Users now get the new default model.
    let c = node.conversation(&user, json!({})).await;
    let client = node.client(&user).await;
    let stream = client
        .llm_start(c, "hi", LlmOptions::default())
        .await
        .unwrap();
    let pushes = collect(&client, stream).await;
    assert!(
        matches!(pushes.last(), Some(LlmPush::Done { model, cost: 17, .. }) if model == "gpt"),
        "{pushes:?}"
    );

    // Removing the key makes the provider unusable; the provider cannot go while models use it.
    let (status, _) = node
        .call(
            Method::DELETE,
            "/api/v1/admin/providers/acme",
            &admin.token,
            None,
        )
        .await;
    assert_eq!(status, 409);
    let (status, put) = node
        .call(
            Method::PUT,
            "/api/v1/admin/providers/acme",
            &admin.token,
            Some(json!({"kind": "openai", "base_url": mock.base_url, "api_key": null})),
        )
        .await;
    assert_eq!((status, put["key_source"].as_str()), (200, Some("none")));

    // Admin actions are in the audit log, without the key.
    let (_, audit) = node
        .get("/api/v1/admin/audit-log?action=admin.*", &admin.token)
        .await;
    let text = audit.to_string();
    assert!(
        text.contains("admin.provider_put")
            && text.contains("admin.model_create")
            && text.contains("admin.provider_test"),
        "{text}"
    );
    assert!(!text.contains(secret));
}
