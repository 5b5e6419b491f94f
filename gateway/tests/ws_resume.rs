//! Resume across a dropped connection: while others publish, a client's connection is cut; it
//! reconnects by itself and ends up with every seq exactly once, in order.

mod ws_support;

use std::time::Duration;

use atrium_actors::RealtimeConfig;
use atrium_client::{Client, ClientConfig, Event};
use atrium_core::protocol::ServerFrame;

use ws_support::{Node, Proxy, WAIT, expect_push};

const MESSAGES: i64 = 300;

async fn dropped_connection_case(realtime: RealtimeConfig) {
    let node = Node::start_with(realtime, ws_support::unlimited()).await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let ch = node.channel(&ann, &[&bob]).await;
    let proxy = Proxy::start(&node).await;

    let publisher = node.client(&ann).await;
    let config = ClientConfig {
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        ..ClientConfig::default()
    };
    let reader = Client::connect_with(&proxy.ws_url, &bob.token, config)
        .await
        .expect("connect through the proxy");
    assert_eq!(reader.sub(ch).await.unwrap(), 0);

    // Ann publishes steadily for the whole test.
    let publishing = tokio::spawn(async move {
        for i in 1..=MESSAGES {
            publisher.send(ch, &format!("m{i}")).await.expect("send");
        }
    });

    let mut seen = Vec::new();
    let mut dropped = false;
    let mut reconnected = false;
    tokio::time::timeout(WAIT, async {
        while seen.last() != Some(&MESSAGES) {
            match reader.next_event().await.expect("client open") {
                Event::Push(ServerFrame::Msg { seq, .. }) => {
                    seen.push(seq);
                    if seq == 20 && !dropped {
                        proxy.sever();
                        dropped = true;
                    }
                }
                Event::Reconnected(_) => reconnected = true,
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out; saw {} messages", seen.len()));
    publishing.await.expect("publisher");

    assert!(
        dropped && reconnected,
        "the connection really dropped and came back"
    );
    assert_eq!(
        seen,
        (1..=MESSAGES).collect::<Vec<_>>(),
        "every seq exactly once, in order"
    );
    assert_eq!(reader.last_seq(ch), Some(MESSAGES));
    // Live after the resume: one more message arrives normally.
    node.client(&ann).await.send(ch, "after").await.unwrap();
    let seq = expect_push(&reader, |f| match f {
        ServerFrame::Msg { seq, .. } => Some(*seq),
        _ => None,
    })
    .await;
    assert_eq!(seq, MESSAGES + 1);
}

#[tokio::test]
async fn resume_after_a_dropped_connection_from_the_ring() {
    dropped_connection_case(RealtimeConfig::default()).await;
}

#[tokio::test]
async fn resume_after_a_dropped_connection_from_the_store() {
    dropped_connection_case(RealtimeConfig {
        ring_capacity: 8,
        replay_page: 16,
        ..RealtimeConfig::default()
    })
    .await;
}
