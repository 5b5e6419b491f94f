//! Two users chat live over WebSocket: messages, typing, receipts, presence (pushed and over
//! HTTP), edits, reactions, mentions, history and unread counts.

mod ws_support;

use atrium_core::protocol::{ErrorCode, PresenceStatus, ServerFrame};

use ws_support::{Node, expect_push};

#[tokio::test]
async fn two_users_chat_live() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let ch = node.channel(&ann, &[&bob]).await;

    let a = node.client(&ann).await;
    let b = node.client(&bob).await;
    assert_eq!(a.sub(ch).await.unwrap(), 0);
    assert_eq!(b.sub(ch).await.unwrap(), 0);

    // Presence: Ann sees Bob come online (pushed), and HTTP agrees.
    let bob_id = bob.id;
    expect_push(&a, |f| match f {
        ServerFrame::Presence { user, status } if *user == bob_id => Some(*status),
        _ => None,
    })
    .await;
    let (status, body) = node.get("/api/v1/presence", &ann.token).await;
    assert_eq!(status, 200, "{body}");
    let online: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    assert!(online.contains(&ann.id.to_string().as_str()));
    assert!(online.contains(&bob.id.to_string().as_str()));

    // Typing reaches the other side only.
    a.typing(ch, true).await.unwrap();
    let ann_id = ann.id;
    let typing = expect_push(&b, |f| match f {
        ServerFrame::Typing { user, on, .. } if *user == ann_id => Some(*on),
        _ => None,
    })
    .await;
    assert!(typing);

    // A message with a mention; Bob gets the message and the mention.
    let sent = a.send(ch, "hi @bob").await.unwrap();
    assert_eq!(sent.seq, 1);
    let (seq, body) = expect_push(&b, |f| match f {
        ServerFrame::Msg { seq, body, .. } => Some((*seq, body.clone())),
        _ => None,
    })
    .await;
    assert_eq!((seq, body.as_str()), (1, "hi @bob"));
    let mention = expect_push(&b, |f| match f {
        ServerFrame::Mention { id, .. } => Some(*id),
        _ => None,
    })
    .await;
    assert_eq!(mention, sent.id);

    // Bob replies, reacts and marks read; Ann sees all three.
    let reply = b
        .send_message(ch, "hello ann", Some(sent.id), None)
        .await
        .unwrap();
    b.react(ch, sent.id, "🎉", true).await.unwrap();
    b.read(ch, reply.seq).await.unwrap();
    let reply_to = expect_push(&a, |f| match f {
        ServerFrame::Msg {
            seq: 2, reply_to, ..
        } => Some(*reply_to),
        _ => None,
    })
    .await;
    assert_eq!(reply_to, Some(sent.id));
    let reaction = expect_push(&a, |f| match f {
        ServerFrame::Reaction { emoji, on, .. } => Some((emoji.clone(), *on)),
        _ => None,
    })
    .await;
    assert_eq!(reaction, ("🎉".to_owned(), true));
    let bob_id = bob.id;
    let read = expect_push(&a, |f| match f {
        ServerFrame::Read { user, seq, .. } if *user == bob_id => Some(*seq),
        _ => None,
    })
    .await;
    assert_eq!(read, 2);

    // Ann edits her message; Bob may not; Ann deletes it.
    let err = b.edit(ch, sent.id, "mine now").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    a.edit(ch, sent.id, "hi @bob!").await.unwrap();
    let edited = expect_push(&b, |f| match f {
        ServerFrame::MsgEdited { body, .. } => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(edited, "hi @bob!");
    a.delete(ch, sent.id).await.unwrap();
    expect_push(&b, |f| {
        matches!(f, ServerFrame::MsgDeleted { seq: 1, .. }).then_some(())
    })
    .await;

    // History shows both, the first deleted.
    let page = b.history(ch, None, Some(10)).await.unwrap();
    assert_eq!(page.messages.len(), 2);
    assert!(page.messages[0].deleted);
    assert_eq!(page.messages[1].body, "hello ann");

    // Bob leaves; Ann sees him go offline after the grace period (default 5 s is too long for
    // a test, so only the HTTP view before that is checked here; the actor tests cover it).
    b.close();

    // Unread counts arrive in welcome: Ann has read nothing of Bob's reply.
    let again = node.client(&ann).await;
    assert_eq!(again.welcome().unread.get(&ch), Some(&1));
}

#[tokio::test]
async fn presence_offline_after_the_grace_period_over_websocket() {
    let realtime = atrium_actors::RealtimeConfig {
        presence_grace: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let node = Node::start_with(realtime, Default::default()).await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let a = node.client(&ann).await;
    let b = node.client(&bob).await;
    let bob_id = bob.id;
    let status = move |f: &ServerFrame| match f {
        ServerFrame::Presence { user, status } if *user == bob_id => Some(*status),
        _ => None,
    };
    assert_eq!(expect_push(&a, status).await, PresenceStatus::Online);
    b.close();
    assert_eq!(expect_push(&a, status).await, PresenceStatus::Offline);
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let ch = node.channel(&ann, &[&bob]).await;
    let a = node.client(&ann).await;
    let b = node.client(&bob).await;
    b.sub(ch).await.unwrap();
    a.send(ch, "welcome bob").await.unwrap();
    expect_push(&b, |f| {
        matches!(f, ServerFrame::Msg { seq: 1, .. }).then_some(())
    })
    .await;

    let response = reqwest::Client::new()
        .delete(format!(
            "{}/api/v1/channels/{ch}/members/{}",
            node.base, bob.id
        ))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // Bob is told, and no longer receives the channel.
    let code = expect_push(&b, |f| match f {
        ServerFrame::Err {
            rid: None, code, ..
        } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    a.sub(ch).await.unwrap();
    a.send(ch, "bob is gone").await.unwrap();
    // Once Ann has seen it published, anything bound for Bob would be queued before this pong.
    expect_push(&a, |f| {
        matches!(f, ServerFrame::Msg { seq: 2, .. }).then_some(())
    })
    .await;
    assert_eq!(
        b.send(ch, "still here?").await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    b.ping().await.unwrap();
    while let Ok(Some(event)) =
        tokio::time::timeout(std::time::Duration::ZERO, b.next_event()).await
    {
        assert!(
            !matches!(event, atrium_client::Event::Push(ServerFrame::Msg { .. })),
            "a removed member received {event:?}"
        );
    }
    a.close();
}
