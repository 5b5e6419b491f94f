//! Datagrams: none is used before `hello`; after it, `echo` comes back and anything else is
//! dropped and counted.

mod ws_support;
mod wt_support;

use std::time::Duration;

use atrium_core::protocol::{ClientFrame, Datagram, ServerFrame};

use ws_support::WAIT;
use wt_support::WtNode;

/// The value of `atrium_wt_datagrams_dropped_total{reason="<reason>"}` (0 when absent).
fn dropped(reason: &str) -> u64 {
    let text = atrium_gateway::http::metrics::prometheus_handle().render();
    let prefix = format!("atrium_wt_datagrams_dropped_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the `reason` counter exceeds `above` (the server handles datagrams on its own
/// schedule, and a dropped datagram has no other visible effect).
async fn until_dropped(reason: &str, above: u64) {
    tokio::time::timeout(WAIT, async {
        while dropped(reason) <= above {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no datagram was dropped as {reason}"));
}

#[tokio::test]
async fn datagrams_before_hello_are_dropped_and_echo_works_after() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;

    let mut wt = node.connect().await;
    let before = dropped("before_hello");
    wt.send_datagram(Datagram::Echo { n: 1 });
    until_dropped("before_hello", before).await;

    wt.send_frame(&ClientFrame::Hello {
        rid: 1,
        token: ann.token.clone(),
        client: None,
        resume: Default::default(),
    })
    .await;
    assert!(matches!(wt.frame().await, ServerFrame::Welcome { .. }));
    wt.send_datagram(Datagram::Echo { n: 2 });
    // The first datagram back answers the second: the first was never used.
    assert_eq!(wt.datagram().await, Datagram::Echo { n: 2 });
}

#[tokio::test]
async fn unknown_and_malformed_datagrams_are_counted_and_dropped() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;
    let mut wt = node.hello(&ann.token).await;

    let unknown_before = dropped("unknown");
    let malformed_before = dropped("malformed");
    // ["jump", 1, 2]: a type this build does not know.
    wt.conn
        .send_datagram([0x93, 0xa4, b'j', b'u', b'm', b'p', 0x01, 0x02])
        .unwrap();
    wt.conn.send_datagram(b"not msgpack at all").unwrap();
    wt.send_datagram(Datagram::Echo { n: 3 });
    assert_eq!(wt.datagram().await, Datagram::Echo { n: 3 });
    until_dropped("unknown", unknown_before).await;
    until_dropped("malformed", malformed_before).await;

    // The control stream is untouched by all this.
    let rid = wt.rid();
    assert_eq!(
        wt.request(ClientFrame::Ping { rid }).await,
        ServerFrame::Pong { rid }
    );
}

#[tokio::test]
async fn many_echoes_come_back() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;
    let wt = node.hello(&ann.token).await;
    // One at a time (datagrams may be lost in general; not on loopback at this pace).
    for n in 0..100 {
        wt.send_datagram(Datagram::Echo { n });
        assert_eq!(wt.datagram().await, Datagram::Echo { n });
    }
    // The path's datagram size is known and far above an echo's 7 bytes.
    let max = wt.conn.max_datagram_size().expect("datagrams negotiated");
    assert!(max > 1000, "{max}");
}
