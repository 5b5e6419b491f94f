//! Resume: a session that comes back with `{channel: last seq}` gets every missed message once,
//! in order, from the ring or from the store, and then continues live without a gap.

mod common;

use std::collections::BTreeMap;

use atrium_actors::RealtimeConfig;
use atrium_core::ids::ChannelId;
use atrium_core::protocol::{ClientFrame, ServerFrame};

use common::{Client, Node};

/// Collects `msg` seqs of `ch` until `last` arrives; panics on a duplicate or a gap.
async fn collect_until(client: &mut Client, ch: ChannelId, first: i64, last: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut expected = first;
    while expected <= last {
        let seq = client
            .expect(|f| match f {
                ServerFrame::Msg { ch: c, seq, .. } if *c == ch => Some(*seq),
                _ => None,
            })
            .await;
        assert_eq!(
            seq, expected,
            "seqs arrive once each and in order: {seen:?}"
        );
        seen.push(seq);
        expected += 1;
    }
    seen
}

async fn resume_case(config: RealtimeConfig, missed: i64, live: i64) {
    let node = Node::start(config).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    a.sub(ch.id).await;

    let mut b = node.connect(&bob);
    b.sub(ch.id).await;
    let (_, seen) = a.post(ch.id, "seen").await;
    b.msg(ch.id, seen).await;
    drop(b);

    for i in 0..missed {
        a.post(ch.id, &format!("missed {i}")).await;
    }
    // Bob comes back while Ann keeps posting (pipelined, not awaited).
    let mut b = node.connect_resuming(&bob, BTreeMap::from([(ch.id, seen)]));
    for i in 0..live {
        a.send(|rid| ClientFrame::MsgSend {
            rid,
            ch: ch.id,
            body: format!("live {i}"),
            reply_to: None,
            nonce: None,
        });
    }
    let got = collect_until(&mut b, ch.id, seen + 1, seen + missed + live).await;
    assert_eq!(got.len() as i64, missed + live);
    // And nothing after that.
    assert!(
        b.drain_now()
            .await
            .iter()
            .all(|f| !matches!(f, ServerFrame::Msg { .. })),
        "no duplicates after the last seq"
    );
}

#[tokio::test]
async fn resume_from_the_ring() {
    resume_case(RealtimeConfig::default(), 20, 20).await;
}

#[tokio::test]
async fn resume_from_the_store_when_the_ring_is_too_short() {
    let config = RealtimeConfig {
        ring_capacity: 4,
        replay_page: 7,
        ..RealtimeConfig::default()
    };
    resume_case(config, 60, 30).await;
}

#[tokio::test]
async fn resume_extends_the_replay_when_live_traffic_outgrows_its_buffer() {
    let config = RealtimeConfig {
        ring_capacity: 0,
        replay_page: 3,
        replay_buffer: 2,
        ..RealtimeConfig::default()
    };
    resume_case(config, 40, 60).await;
}

#[tokio::test]
async fn replay_shows_edits_and_deletes_made_while_away() {
    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    a.sub(ch.id).await;
    let (edited, _) = a.post(ch.id, "tpyo").await;
    let (deleted, _) = a.post(ch.id, "oops").await;
    let rid = a.send(|rid| ClientFrame::MsgEdit {
        rid,
        ch: ch.id,
        id: edited,
        body: "typo".into(),
    });
    a.reply(rid).await;
    let rid = a.send(|rid| ClientFrame::MsgDelete {
        rid,
        ch: ch.id,
        id: deleted,
    });
    a.reply(rid).await;
    // Wait until both changes were published (the ring is updated at the same time).
    a.expect(|f| matches!(f, ServerFrame::MsgDeleted { .. }).then_some(()))
        .await;

    let mut b = node.connect_resuming(&bob, BTreeMap::from([(ch.id, 0)]));
    let mut frames = Vec::new();
    while frames.len() < 4 {
        let frame = b.next().await;
        if !matches!(
            frame,
            ServerFrame::Welcome { .. } | ServerFrame::Presence { .. }
        ) {
            frames.push(frame);
        }
    }
    assert!(matches!(&frames[0], ServerFrame::Msg { seq: 1, .. }));
    assert!(matches!(&frames[1], ServerFrame::MsgEdited { body, .. } if body == "typo"));
    assert!(
        matches!(&frames[2], ServerFrame::Msg { seq: 2, body, .. } if body.is_empty()),
        "a deleted message does not replay its old body: {:?}",
        frames[2]
    );
    assert!(matches!(&frames[3], ServerFrame::MsgDeleted { seq: 2, .. }));
}

#[tokio::test]
async fn a_resume_entry_for_a_foreign_channel_is_refused_alone() {
    let node = Node::start(RealtimeConfig::default()).await;
    let org = node.org("acme").await;
    let ann = node.user(org.id, "ann").await;
    let bob = node.user(org.id, "bob").await;
    let mine = node.channel(org.id, bob.id, &[]).await;
    let not_mine = node.channel(org.id, ann.id, &[]).await;
    let mut a = node.connect(&ann);
    a.sub(not_mine.id).await;
    a.post(not_mine.id, "private").await;

    let mut b = node.connect_resuming(&bob, BTreeMap::from([(mine.id, 0), (not_mine.id, 0)]));
    let refused = b
        .expect(|f| match f {
            ServerFrame::Err {
                rid: None, code, ..
            } => Some(*code),
            ServerFrame::Msg { ch, .. } if *ch == not_mine.id => {
                panic!("a foreign channel was replayed")
            }
            _ => None,
        })
        .await;
    assert_eq!(refused, atrium_core::protocol::ErrorCode::Forbidden);
    // The other resumed channel works.
    let mut other = node.connect(&bob);
    other.post(mine.id, "hello me").await;
    assert_eq!(b.msg(mine.id, 1).await, "hello me");
}
