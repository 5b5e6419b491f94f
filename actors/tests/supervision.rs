//! Failure isolation: a panicking channel (or session) actor is restarted by its supervisor,
//! keeps its subscribers, and nothing else notices. Idle channels stop and come back on demand.

mod common;

use std::time::Duration;

use atrium_actors::{RealtimeConfig, RestartBudget};
use atrium_core::protocol::{ClientFrame, ErrorCode, ServerFrame};

use common::{Node, WAIT};

async fn wait_lifecycle(
    node: &Node,
    done: impl FnMut(&atrium_actors::Lifecycle) -> bool,
) -> atrium_actors::Lifecycle {
    let mut rx = node.realtime.lifecycle();
    *tokio::time::timeout(WAIT, rx.wait_for(done))
        .await
        .expect("timed out waiting for a supervision event")
        .expect("realtime running")
}

#[tokio::test]
async fn a_panicking_channel_is_restarted_and_touches_no_other_channel() {
    let node = Node::start(RealtimeConfig::default()).await;
    let org = node.org("acme").await;
    let ann = node.user(org.id, "ann").await;
    let bob = node.user(org.id, "bob").await;
    let hot = node.channel(org.id, ann.id, &[bob.id]).await;
    let calm = node.channel(org.id, ann.id, &[bob.id]).await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    for ch in [hot.id, calm.id] {
        a.sub(ch).await;
        b.sub(ch).await;
    }
    a.post(hot.id, "before").await;
    b.msg(hot.id, 1).await;
    let before = node
        .realtime
        .channel_actor(org.id, hot.id)
        .expect("running");

    assert!(node.realtime.crash_channel(org.id, hot.id));
    // The calm channel is not affected, while the hot one is being restarted.
    for i in 1..=5 {
        let (_, seq) = a.post(calm.id, &format!("calm {i}")).await;
        assert_eq!(b.msg(calm.id, seq).await, format!("calm {i}"));
    }
    wait_lifecycle(&node, |l| l.channel_restarts >= 1).await;
    let after = node
        .realtime
        .channel_actor(org.id, hot.id)
        .expect("restarted");
    assert_ne!(before, after, "a new incarnation runs");

    // The restarted channel continues the seq and still pushes to its subscribers, who did not
    // have to subscribe again.
    let (_, seq) = a.post(hot.id, "after").await;
    assert_eq!(seq, 2);
    assert_eq!(b.msg(hot.id, 2).await, "after");
}

#[tokio::test]
async fn a_channel_that_keeps_failing_is_given_up_and_can_start_afresh() {
    let config = RealtimeConfig {
        restart_budget: RestartBudget {
            max_restarts: 1,
            window: Duration::from_secs(60),
        },
        ..RealtimeConfig::default()
    };
    let node = Node::start(config).await;
    let org = node.org("acme").await;
    let ann = node.user(org.id, "ann").await;
    let ch = node.channel(org.id, ann.id, &[]).await;
    let mut a = node.connect(&ann);
    a.sub(ch.id).await;

    assert!(node.realtime.crash_channel(org.id, ch.id));
    wait_lifecycle(&node, |l| l.channel_restarts >= 1).await;
    assert!(node.realtime.crash_channel(org.id, ch.id));
    wait_lifecycle(&node, |l| l.channels_given_up >= 1).await;
    // The subscriber is told, and may subscribe again to a fresh actor.
    let code = a
        .expect(|f| match f {
            ServerFrame::Err {
                rid: None, code, ..
            } => Some(*code),
            _ => None,
        })
        .await;
    assert_eq!(code, ErrorCode::Internal);
    assert_eq!(a.sub(ch.id).await, 0);
    assert_eq!(a.post(ch.id, "fresh").await.1, 1);
}

#[tokio::test]
async fn a_panicking_session_is_restarted_with_its_subscriptions() {
    let node = Node::start(RealtimeConfig::default()).await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    a.sub(ch.id).await;
    b.sub(ch.id).await;

    b.handle.crash();
    wait_lifecycle(&node, |l| l.session_restarts >= 1).await;
    // Bob's session still receives, and still takes requests.
    let (_, seq) = a.post(ch.id, "still there?").await;
    assert_eq!(b.msg(ch.id, seq).await, "still there?");
    let rid = b.send(|rid| ClientFrame::Ping { rid });
    assert!(matches!(b.reply(rid).await, ServerFrame::Pong { .. }));
}

#[tokio::test]
async fn idle_channels_stop_and_restart_on_demand() {
    let config = RealtimeConfig {
        channel_idle_timeout: Duration::from_millis(50),
        ..RealtimeConfig::default()
    };
    let node = Node::start(config).await;
    let org = node.org("acme").await;
    let ann = node.user(org.id, "ann").await;
    let ch = node.channel(org.id, ann.id, &[]).await;
    let mut a = node.connect(&ann);
    a.sub(ch.id).await;
    a.post(ch.id, "one").await;
    // Subscribed: never idle, however long it is quiet.
    let rid = a.send(|rid| ClientFrame::Unsub { rid, ch: ch.id });
    a.reply(rid).await;
    wait_lifecycle(&node, |l| l.channels_retired >= 1).await;
    assert_eq!(node.realtime.stats().channels, 0);
    // The next request starts it again, with its state rebuilt from the store.
    assert_eq!(a.sub(ch.id).await, 1);
    assert_eq!(a.post(ch.id, "two").await.1, 2);
}

#[tokio::test]
async fn requests_for_channels_of_no_one_do_not_pile_up_actors() {
    let node = Node::start(RealtimeConfig::default()).await;
    let org = node.org("acme").await;
    let ann = node.user(org.id, "ann").await;
    let mut a = node.connect(&ann);
    for _ in 0..20 {
        let ch = atrium_core::ids::ChannelId::new();
        let rid = a.send(|rid| ClientFrame::Sub { rid, ch });
        assert!(matches!(
            a.reply(rid).await,
            ServerFrame::Err {
                code: ErrorCode::Forbidden,
                ..
            }
        ));
    }
    wait_lifecycle(&node, |l| l.channels_retired >= 20).await;
    assert_eq!(node.realtime.stats().channels, 0);
}

#[tokio::test]
async fn an_idle_session_hibernates_and_wakes_on_its_next_request() {
    let node = Node::start(RealtimeConfig {
        session_hibernate_after: Duration::from_millis(50),
        ..RealtimeConfig::default()
    })
    .await;
    let common::Duo { ann, bob, ch, .. } = node.duo().await;
    let mut a = node.connect(&ann);
    let mut b = node.connect(&bob);
    b.welcome().await;
    // Greeted and idle: Bob's actor stops, his session does not.
    wait_lifecycle(&node, |l| l.sessions_hibernated >= 2).await;
    assert_eq!(node.realtime.stats().sessions, 2);

    // A request wakes it; it subscribes; it can hibernate again and still receive pushes,
    // which go to its outbox without any session actor involved.
    b.sub(ch.id).await;
    // Quiet for `session_hibernate_after`: its actor stops again by itself.
    wait_lifecycle(&node, |l| l.sessions_hibernated >= 3).await;
    a.sub(ch.id).await;
    let (_, seq) = a.post(ch.id, "while you sleep").await;
    assert_eq!(b.msg(ch.id, seq).await, "while you sleep");
    let rid = b.send(|rid| ClientFrame::Ping { rid });
    assert!(matches!(b.reply(rid).await, ServerFrame::Pong { .. }));
}
