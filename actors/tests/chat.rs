//! Chat through the actors alone (no transport): delivery after commit, order, idempotency,
//! permissions, edits, reactions, mentions, typing, receipts, presence and history.

mod common;

use std::time::Duration;

use atrium_actors::RealtimeConfig;
use atrium_core::protocol::{ClientFrame, ErrorCode, OkResult, PresenceStatus, ServerFrame};

use common::{Client, Node};

fn err_code(frame: &ServerFrame) -> Option<ErrorCode> {
    match frame {
        ServerFrame::Err { code, .. } => Some(*code),
        _ => None,
    }
}

#[tokio::test]
async fn two_users_chat_and_every_subscriber_gets_each_message_once_in_order() {
    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    a.welcome().await;
    b.welcome().await;
    assert_eq!(a.sub(ch.id).await, 0);
    assert_eq!(b.sub(ch.id).await, 0);

    // Pipelined: all sends are in flight before any reply is read.
    let rids: Vec<u32> = (0..50)
        .map(|i| {
            a.send(|rid| ClientFrame::MsgSend {
                rid,
                ch: ch.id,
                body: format!("m{i}"),
                reply_to: None,
                nonce: None,
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for rid in rids {
        match a.reply(rid).await {
            ServerFrame::Ok {
                result: OkResult::Sent(sent),
                ..
            } => seqs.push(sent.seq),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        seqs,
        (1..=50).collect::<Vec<_>>(),
        "a sender's messages commit in the order it sent them"
    );
    for seq in 1..=50 {
        assert_eq!(b.msg(ch.id, seq).await, format!("m{}", seq - 1));
    }
    // Nothing else queued for bob: no duplicates.
    assert!(
        b.drain_now()
            .await
            .iter()
            .all(|f| !matches!(f, ServerFrame::Msg { .. }))
    );
}

#[tokio::test]
async fn a_repeated_nonce_returns_the_original_and_is_not_pushed_again() {
    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    b.sub(ch.id).await;
    let send = |a: &mut Client| {
        a.send(|rid| ClientFrame::MsgSend {
            rid,
            ch: ch.id,
            body: "once".into(),
            reply_to: None,
            nonce: Some("n-1".into()),
        })
    };
    let first = send(&mut a);
    let first = a.reply(first).await;
    let second = send(&mut a);
    let second = a.reply(second).await;
    let (ServerFrame::Ok { result: r1, .. }, ServerFrame::Ok { result: r2, .. }) =
        (&first, &second)
    else {
        panic!("{first:?} {second:?}");
    };
    assert_eq!(r1, r2);
    b.msg(ch.id, 1).await;
    // A later message gets seq 2, and bob sees it right after seq 1: no duplicate in between.
    a.post(ch.id, "next").await;
    let frames = b
        .expect(|f| matches!(f, ServerFrame::Msg { .. }).then(|| f.clone()))
        .await;
    assert!(
        matches!(frames, ServerFrame::Msg { seq: 2, .. }),
        "{frames:?}"
    );
}

#[tokio::test]
async fn non_members_and_other_tenants_are_forbidden() {
    let node = Node::start(RealtimeConfig::default()).await;
    let (acme, other) = (node.org("acme").await, node.org("other").await);
    let ann = node.user(acme.id, "ann").await;
    let eve = node.user(acme.id, "eve").await;
    let mallory = node.user(other.id, "mallory").await;
    let ch = node.channel(acme.id, ann.id, &[]).await;
    let mut e = node.connect(&eve);
    let mut m = node.connect(&mallory);
    for client in [&mut e, &mut m] {
        let rid = client.send(|rid| ClientFrame::Sub { rid, ch: ch.id });
        assert_eq!(
            err_code(&client.reply(rid).await),
            Some(ErrorCode::Forbidden)
        );
        let rid = client.send(|rid| ClientFrame::MsgSend {
            rid,
            ch: ch.id,
            body: "let me in".into(),
            reply_to: None,
            nonce: None,
        });
        assert_eq!(
            err_code(&client.reply(rid).await),
            Some(ErrorCode::Forbidden)
        );
    }
    // Mallory's probe did not disturb the real channel.
    let mut a = node.connect(&ann);
    a.sub(ch.id).await;
    assert_eq!(a.post(ch.id, "still here").await.1, 1);
}

#[tokio::test]
async fn edits_deletes_reactions_mentions_reads_and_history() {
    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    a.sub(ch.id).await;
    // Bob is NOT subscribed, yet gets the mention.
    let (id, seq) = a.post(ch.id, "hello @bob").await;
    let mention = b
        .expect(|f| match f {
            ServerFrame::Mention { id, from, .. } => Some((*id, *from)),
            _ => None,
        })
        .await;
    assert_eq!(mention, (id, ann.id));
    b.sub(ch.id).await;

    // Bob may not edit Ann's message; Ann may.
    let rid = b.send(|rid| ClientFrame::MsgEdit {
        rid,
        ch: ch.id,
        id,
        body: "hijack".into(),
    });
    assert_eq!(err_code(&b.reply(rid).await), Some(ErrorCode::Forbidden));
    let rid = a.send(|rid| ClientFrame::MsgEdit {
        rid,
        ch: ch.id,
        id,
        body: "hello @bob, edited".into(),
    });
    assert!(matches!(a.reply(rid).await, ServerFrame::Ok { .. }));
    let edited = b
        .expect(|f| match f {
            ServerFrame::MsgEdited { body, .. } => Some(body.clone()),
            _ => None,
        })
        .await;
    assert_eq!(edited, "hello @bob, edited");
    assert_eq!(node.store.message_edits(id).await.unwrap().len(), 1);

    // Reaction.
    let rid = b.send(|rid| ClientFrame::React {
        rid,
        ch: ch.id,
        id,
        emoji: "👍".into(),
        on: true,
    });
    assert!(matches!(b.reply(rid).await, ServerFrame::Ok { .. }));
    let reaction = a
        .expect(|f| match f {
            ServerFrame::Reaction {
                user, emoji, on, ..
            } => Some((*user, emoji.clone(), *on)),
            _ => None,
        })
        .await;
    assert_eq!(reaction, (bob.id, "👍".to_owned(), true));

    // Read receipt.
    let rid = b.send(|rid| ClientFrame::Read {
        rid,
        ch: ch.id,
        seq,
    });
    assert!(matches!(b.reply(rid).await, ServerFrame::Ok { .. }));
    let read = a
        .expect(|f| match f {
            ServerFrame::Read { user, seq, .. } => Some((*user, *seq)),
            _ => None,
        })
        .await;
    assert_eq!(read, (bob.id, seq));

    // Bob may not delete Ann's message; Ann may.
    let rid = b.send(|rid| ClientFrame::MsgDelete { rid, ch: ch.id, id });
    assert_eq!(err_code(&b.reply(rid).await), Some(ErrorCode::Forbidden));
    let rid = a.send(|rid| ClientFrame::MsgDelete { rid, ch: ch.id, id });
    assert!(matches!(a.reply(rid).await, ServerFrame::Ok { .. }));
    b.expect(|f| matches!(f, ServerFrame::MsgDeleted { id: d, .. } if *d == id).then_some(()))
        .await;

    // History keeps the deleted message in place.
    for i in 0..3 {
        a.post(ch.id, &format!("later {i}")).await;
    }
    let rid = a.send(|rid| ClientFrame::History {
        rid,
        ch: ch.id,
        before_seq: None,
        limit: Some(2),
    });
    match a.reply(rid).await {
        ServerFrame::Ok {
            result: OkResult::History(page),
            ..
        } => {
            assert_eq!(
                page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
                vec![3, 4]
            );
            assert!(page.has_more);
        }
        other => panic!("{other:?}"),
    }
    let rid = a.send(|rid| ClientFrame::History {
        rid,
        ch: ch.id,
        before_seq: Some(3),
        limit: Some(10),
    });
    match a.reply(rid).await {
        ServerFrame::Ok {
            result: OkResult::History(page),
            ..
        } => {
            assert_eq!(page.messages.len(), 2);
            assert!(page.messages[0].deleted);
            assert!(!page.has_more);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn typing_goes_to_others_and_expires_on_its_own() {
    let config = RealtimeConfig {
        typing_ttl: Duration::from_millis(200),
        ..RealtimeConfig::default()
    };
    let node = Node::start(config).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    a.sub(ch.id).await;
    b.sub(ch.id).await;
    let rid = a.send(|rid| ClientFrame::Typing {
        rid,
        ch: ch.id,
        on: true,
    });
    assert!(matches!(a.reply(rid).await, ServerFrame::Ok { .. }));
    let typing = |f: &ServerFrame| match f {
        ServerFrame::Typing { user, on, .. } => Some((*user, *on)),
        _ => None,
    };
    assert_eq!(b.expect(typing).await, (ann.id, true));
    // Nobody sends `typing {on: false}`: the server does after the TTL.
    assert_eq!(b.expect(typing).await, (ann.id, false));
    // The typist never hears about their own typing.
    assert!(a.drain_now().await.iter().all(|f| typing(f).is_none()));
}

#[tokio::test]
async fn presence_goes_online_and_offline_after_the_grace_period() {
    let config = RealtimeConfig {
        presence_grace: Duration::from_millis(300),
        ..RealtimeConfig::default()
    };
    let node = Node::start(config).await;
    let org = node.org("acme").await;
    let ann = node.user(org.id, "ann").await;
    let bob = node.user(org.id, "bob").await;
    let mut a = node.connect(&ann);
    a.welcome().await;
    let b = node.connect(&bob);
    // Ann also hears about herself coming online; only Bob's changes matter here.
    let bob_id = bob.id;
    let presence = move |f: &ServerFrame| match f {
        ServerFrame::Presence { user, status } if *user == bob_id => Some((*user, *status)),
        _ => None,
    };
    assert_eq!(a.expect(presence).await, (bob.id, PresenceStatus::Online));
    let online = node.realtime.online(org.id).await.unwrap();
    assert_eq!(online.len(), 2);

    // A quick reconnect inside the grace period is not announced at all.
    drop(b);
    let b2 = node.connect(&bob);
    drop(b2);
    assert_eq!(a.expect(presence).await, (bob.id, PresenceStatus::Offline));
    let online = node.realtime.online(org.id).await.unwrap();
    assert_eq!(
        online.iter().map(|p| p.user).collect::<Vec<_>>(),
        vec![ann.id]
    );
    // And only one offline announcement was made.
    assert!(a.drain_now().await.iter().all(|f| presence(f).is_none()));
}

#[tokio::test]
async fn welcome_carries_unread_counts() {
    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    a.sub(ch.id).await;
    a.post(ch.id, "one").await;
    a.post(ch.id, "two").await;
    let mut b = node.connect(&bob);
    let unread = b
        .expect(|f| match f {
            ServerFrame::Welcome { unread, .. } => Some(unread.clone()),
            _ => None,
        })
        .await;
    assert_eq!(unread.get(&ch.id), Some(&2));
}

#[tokio::test]
async fn a_moderated_deletion_is_audited_by_ids_only_and_an_authors_own_is_not() {
    use atrium_actors::channel::work::AUDIT_MODERATED_DELETE;
    use atrium_persistence::store::{AuditFilter, Page};

    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { org, ann, bob, ch } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    a.sub(ch.id).await;
    b.sub(ch.id).await;

    // Bob deletes his own message: no audit entry.
    let (own, _) = b.post(ch.id, "my own words").await;
    let rid = b.send(|rid| ClientFrame::MsgDelete {
        rid,
        ch: ch.id,
        id: own,
    });
    assert!(matches!(b.reply(rid).await, ServerFrame::Ok { .. }));

    // Ann owns the channel and deletes Bob's message: audited.
    let (theirs, seq) = b.post(ch.id, "a secret body").await;
    let rid = a.send(|rid| ClientFrame::MsgDelete {
        rid,
        ch: ch.id,
        id: theirs,
    });
    assert!(matches!(a.reply(rid).await, ServerFrame::Ok { .. }));

    let filter = AuditFilter {
        action: Some(AUDIT_MODERATED_DELETE.to_owned()),
        ..AuditFilter::default()
    };
    // The entry is written before the deletion is published, so it exists once the push did.
    b.expect(|f| matches!(f, ServerFrame::MsgDeleted { id, .. } if *id == theirs).then_some(()))
        .await;
    let log = node
        .store
        .list_audit(org.id, &filter, Page::default())
        .await
        .unwrap();
    assert_eq!(log.total, 1, "{:?}", log.items);
    let entry = &log.items[0];
    assert_eq!(entry.actor_id, Some(ann.id));
    assert_eq!(entry.target.as_deref(), Some(theirs.to_string().as_str()));
    assert_eq!(entry.detail["channel_id"], serde_json::json!(ch.id));
    assert_eq!(entry.detail["author_id"], serde_json::json!(bob.id));
    assert_eq!(entry.detail["seq"], serde_json::json!(seq));
    // Metadata only: the body never reaches the audit log.
    assert!(!entry.detail.to_string().contains("secret"));

    // Deleting it again is a no-op and writes nothing more.
    let rid = a.send(|rid| ClientFrame::MsgDelete {
        rid,
        ch: ch.id,
        id: theirs,
    });
    assert!(matches!(a.reply(rid).await, ServerFrame::Ok { .. }));
    let all = node
        .store
        .list_audit(org.id, &AuditFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total, 1, "{:?}", all.items);
}
