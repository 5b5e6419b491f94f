//! A panic inside one channel's actor, over the wire: the other channel carries on untouched,
//! the panicked one is restarted by its supervisor and its subscribers keep receiving. A panic
//! inside an AI generation's actor: the text already shown is kept as a partial answer and
//! accounted for, and the user can start the next one.

mod ws_support;

use atrium_client::{LlmOptions, LlmPush};
use atrium_core::ids::{ConversationId, StreamId};
use atrium_core::protocol::ServerFrame;
use serde_json::json;

use ws_support::{Node, WAIT, expect_push};

#[tokio::test]
async fn a_panicking_channel_comes_back_and_others_never_notice() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let hot = node.channel(&ann, &[&bob]).await;
    let calm = node.channel(&ann, &[&bob]).await;
    let a = node.client(&ann).await;
    let b = node.client(&bob).await;
    for ch in [hot, calm] {
        a.sub(ch).await.unwrap();
        b.sub(ch).await.unwrap();
    }
    a.send(hot, "before").await.unwrap();

    assert!(node.realtime.crash_channel(ann.org, hot));
    for i in 1..=10 {
        let sent = a.send(calm, &format!("calm {i}")).await.unwrap();
        let got = expect_push(&b, |f| match f {
            ServerFrame::Msg { ch, seq, .. } if *ch == calm => Some(*seq),
            _ => None,
        })
        .await;
        assert_eq!(got, sent.seq);
    }
    let mut lifecycle = node.realtime.lifecycle();
    tokio::time::timeout(WAIT, lifecycle.wait_for(|l| l.channel_restarts >= 1))
        .await
        .expect("the channel was not restarted")
        .unwrap();

    let sent = a.send(hot, "after").await.unwrap();
    assert_eq!(sent.seq, 2, "the restarted channel continues its seq");
    let got = expect_push(&b, |f| match f {
        ServerFrame::Msg { ch, seq, body, .. } if *ch == hot && *seq == 2 => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, "after");
}

/// Every `llm.*` push of `stream` up to its end (`llm.done` or `llm.error`).
async fn llm_pushes(client: &atrium_client::Client, stream: StreamId) -> Vec<LlmPush> {
    let mut seen = Vec::new();
    loop {
        let push = expect_push(client, |f| {
            LlmPush::from_frame(f).filter(|p| match p {
                LlmPush::Started { stream: s, .. }
                | LlmPush::Delta { stream: s, .. }
                | LlmPush::Done { stream: s, .. }
                | LlmPush::Error { stream: s, .. } => *s == stream,
            })
        })
        .await;
        let end = matches!(push, LlmPush::Done { .. } | LlmPush::Error { .. });
        seen.push(push);
        if end {
            return seen;
        }
    }
}

fn shown_text(pushes: &[LlmPush]) -> String {
    pushes
        .iter()
        .filter_map(|p| match p {
            LlmPush::Delta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_panicking_generation_keeps_the_text_it_showed_and_is_accounted_for() {
    let node = Node::start().await;
    let ann = node.register("ann").await; // the first account: an admin, who may read usage
    let (status, conversation) = node
        .post("/api/v1/ai/conversations", Some(&ann.token), json!({}))
        .await;
    assert_eq!(status, 201, "{conversation}");
    let c: ConversationId = conversation["id"].as_str().unwrap().parse().unwrap();
    let client = node.client(&ann).await;

    // The local bot answers in deltas of three words; the actor dies right after the second.
    node.realtime.crash_next_stream_after_delta(2);
    let question = "Hello! Can you explain how to reset my password, step by step?";
    let stream = client
        .llm_start(c, question, LlmOptions::default())
        .await
        .unwrap();
    let pushes = llm_pushes(&client, stream).await;
    let deltas: Vec<u32> = pushes
        .iter()
        .filter_map(|p| match p {
            LlmPush::Delta { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, [1, 2], "{pushes:?}");
    assert!(
        matches!(pushes.last(), Some(LlmPush::Error { code, .. }) if code == "internal"),
        "{pushes:?}"
    );
    let shown = shown_text(&pushes);
    assert!(!shown.is_empty());

    // The answer is stored as exactly what was shown, marked partial; usage says failed.
    let path = format!("/api/v1/ai/conversations/{c}/messages");
    let stored = tokio::time::timeout(WAIT, async {
        loop {
            let (status, page) = node.get(&path, &ann.token).await;
            assert_eq!(status, 200, "{page}");
            let items = page["items"].as_array().unwrap().clone();
            if items.len() >= 2 {
                return items;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the partial answer is stored");
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0]["content"], question);
    assert_eq!(
        (stored[1]["content"].as_str(), stored[1]["status"].as_str()),
        (Some(shown.as_str()), Some("partial"))
    );
    let (status, usage) = node.get("/api/v1/admin/usage/records", &ann.token).await;
    assert_eq!(status, 200, "{usage}");
    let records: Vec<&serde_json::Value> = usage["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["stream_id"] == stream.to_string().as_str())
        .collect();
    assert_eq!(records.len(), 1, "{usage}");
    assert_eq!(
        (
            records[0]["outcome"].as_str(),
            records[0]["error_code"].as_str()
        ),
        (Some("failed"), Some("internal"))
    );
    // Token counts stay 0: the bot, like most providers, reports usage with its last event.

    // The generation is over (its slot is free) and the next one runs to the end.
    let next = client
        .llm_start(c, "thanks", LlmOptions::default())
        .await
        .unwrap();
    let pushes = llm_pushes(&client, next).await;
    assert!(
        matches!(pushes.last(), Some(LlmPush::Done { .. })),
        "{pushes:?}"
    );
}
