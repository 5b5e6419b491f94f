//! Every bad input on a WebTransport session gets the same coded answer as on WebSocket: bad
//! frames, oversized length prefixes (refused before anything is allocated), no or bad `hello`,
//! no control stream, floods, and a reader that stops reading.

mod ws_support;
mod wt_support;

use std::time::Duration;

use atrium_actors::{OutboxLimits, RealtimeConfig};
use atrium_core::protocol::{ClientFrame, ErrorCode, ServerFrame};
use atrium_gateway::webtransport::WtServer;
use atrium_gateway::ws::WsConfig;

use ws_support::{Node, WAIT};
use wt_support::{WtClient, WtNode, hash_of, test_config};

fn code_of(frame: &ServerFrame) -> (Option<u32>, ErrorCode) {
    match frame {
        ServerFrame::Err { rid, code, .. } => (*rid, *code),
        ServerFrame::Bye { code, .. } => (None, *code),
        other => panic!("expected err or bye, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_frames_get_coded_errors_and_the_session_lives_on() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;
    let mut wt = node.hello(&ann.token).await;

    wt.send_payload(b"\xc1\xc1garbage").await;
    assert_eq!(code_of(&wt.frame().await), (None, ErrorCode::BadFrame));

    // An empty frame (a zero length prefix) is not a map either.
    wt.send_raw(&[0, 0, 0, 0]).await;
    assert_eq!(code_of(&wt.frame().await), (None, ErrorCode::BadFrame));

    // A map with a readable rid but an unknown type: the error echoes the rid.
    wt.send_payload(&[
        0x82, 0xa1, b't', 0xa3, b'n', b'o', b'p', 0xa3, b'r', b'i', b'd', 0x07,
    ])
    .await;
    assert_eq!(code_of(&wt.frame().await), (Some(7), ErrorCode::BadFrame));

    // A valid frame breaking a value rule.
    wt.send_frame(&ClientFrame::MsgSend {
        rid: 10,
        ch: atrium_core::ids::ChannelId::new(),
        body: "   ".into(),
        reply_to: None,
        nonce: None,
    })
    .await;
    assert_eq!(code_of(&wt.frame().await), (Some(10), ErrorCode::Invalid));

    // A frame split across writes is reassembled.
    let ping = atrium_core::protocol::FrameCodec::default()
        .encode_client(&ClientFrame::Ping { rid: 11 })
        .unwrap();
    let mut framed = Vec::new();
    atrium_gateway::webtransport::framing::put_frame(&mut framed, &ping);
    for byte in framed {
        wt.send_raw(&[byte]).await;
    }
    assert!(matches!(wt.frame().await, ServerFrame::Pong { rid: 11 }));
}

#[tokio::test]
async fn an_oversized_length_prefix_is_refused_and_the_session_closed() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;

    // 4 GiB declared and nothing sent after it: answered at once (nothing is read or allocated).
    let mut wt = node.hello(&ann.token).await;
    wt.send_raw(&u32::MAX.to_be_bytes()).await;
    assert_eq!(code_of(&wt.frame().await), (None, ErrorCode::TooLarge));
    let bye = wt.until_closed().await.expect("bye");
    assert_eq!(code_of(&bye), (None, ErrorCode::TooLarge));

    // One byte over the frame limit is already too much.
    let limit = WsConfig::default().max_frame_bytes;
    let mut wt = node.hello(&ann.token).await;
    let over = u32::try_from(limit + 1).unwrap();
    wt.send_raw(&over.to_be_bytes()).await;
    assert_eq!(code_of(&wt.frame().await), (None, ErrorCode::TooLarge));
    assert!(wt.until_closed().await.is_some());

    // Before hello, too.
    let mut wt = node.connect().await;
    wt.send_raw(&u32::MAX.to_be_bytes()).await;
    assert_eq!(code_of(&wt.frame().await), (None, ErrorCode::TooLarge));
    assert!(matches!(wt.next().await, ws_support::Seen::Closed));
}

#[tokio::test]
async fn the_first_frame_must_be_a_valid_hello() {
    let ws = WsConfig {
        hello_timeout_ms: 300,
        ..WsConfig::default()
    };
    let node = WtNode::start_with(ws, test_config()).await;
    let ann = node.node.register("ann").await;

    // Silence on the control stream: bye timeout, then close.
    let mut wt = node.connect().await;
    assert_eq!(code_of(&wt.frame().await), (None, ErrorCode::Timeout));
    assert!(matches!(wt.next().await, ws_support::Seen::Closed));

    // Something else first.
    let mut wt = node.connect().await;
    wt.send_frame(&ClientFrame::Ping { rid: 4 }).await;
    assert_eq!(
        code_of(&wt.frame().await),
        (Some(4), ErrorCode::Unauthorized)
    );
    assert!(matches!(wt.next().await, ws_support::Seen::Closed));

    // A forged token.
    let mut wt = node.connect().await;
    wt.send_frame(&ClientFrame::Hello {
        rid: 5,
        token: format!("{}x", ann.token),
        client: None,
        resume: Default::default(),
    })
    .await;
    assert_eq!(
        code_of(&wt.frame().await),
        (Some(5), ErrorCode::Unauthorized)
    );
    assert!(matches!(wt.next().await, ws_support::Seen::Closed));

    // No control stream at all: the session is closed after the hello timeout.
    let info = node.info();
    let (_endpoint, conn) = wt_support::open_session(&info.url, hash_of(&info), None)
        .await
        .expect("session");
    tokio::time::timeout(WAIT, conn.closed())
        .await
        .expect("closed without a control stream");
}

#[tokio::test]
async fn a_flood_is_rate_limited_like_on_websocket() {
    let ws = WsConfig {
        rate_per_second: 0.01,
        rate_burst: 3.0,
        ..WsConfig::default()
    };
    let node = WtNode::start_with(ws, test_config()).await;
    let ann = node.node.register("ann").await;
    // hello takes no token; three pings do, the fourth and fifth are refused.
    let mut wt = node.hello(&ann.token).await;
    for rid in 20..25 {
        wt.send_frame(&ClientFrame::Ping { rid }).await;
    }
    for rid in 20..23 {
        assert_eq!(wt.frame().await, ServerFrame::Pong { rid });
    }
    for rid in 23..25 {
        assert_eq!(
            code_of(&wt.frame().await),
            (Some(rid), ErrorCode::RateLimited)
        );
    }
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_closed_as_a_slow_consumer() {
    const OUTBOX_FRAMES: usize = 64;
    let realtime = RealtimeConfig {
        outbox: OutboxLimits {
            max_frames: OUTBOX_FRAMES,
            max_bytes: 1024 * 1024,
        },
        ..RealtimeConfig::default()
    };
    let ws = ws_support::unlimited();
    let node = Node::start_with(realtime, ws).await;
    let wt = WtServer::start(test_config(), node.state.realtime.clone().unwrap())
        .await
        .unwrap();
    let ann = node.register("ann").await;
    let sloth_account = node.register("sloth").await;
    let ch = node.channel(&ann, &[&sloth_account]).await;

    // The slow reader grants the server 8 KiB of unread stream data, subscribes, then stops.
    let info = wt.info().borrow().clone();
    let mut sloth = WtClient::connect_with(&info.url, hash_of(&info), Some(8 * 1024))
        .await
        .unwrap();
    sloth
        .send_frame(&ClientFrame::Hello {
            rid: 1,
            token: sloth_account.token.clone(),
            client: None,
            resume: Default::default(),
        })
        .await;
    let ServerFrame::Welcome { session, .. } = sloth.frame().await else {
        panic!("no welcome");
    };
    let outbox = node.realtime.session_outbox(session).expect("live session");
    let rid = sloth.rid();
    sloth.request(ClientFrame::Sub { rid, ch }).await;

    // Ann (WebSocket) publishes far more than the stream window and the outbox hold.
    let publisher = node.client(&ann).await;
    let body = "x".repeat(1500);
    for _ in 0..(OUTBOX_FRAMES * 3) {
        publisher
            .send(ch, &body)
            .await
            .expect("the publisher is never held up");
    }
    let mut lifecycle = node.realtime.lifecycle();
    tokio::time::timeout(WAIT, lifecycle.wait_for(|l| l.sessions_closed >= 1))
        .await
        .expect("the stalled session is still open")
        .unwrap();
    assert_eq!(outbox.close_code(), Some(ErrorCode::SlowConsumer));
    assert!(outbox.peak_frames() <= OUTBOX_FRAMES);
    tokio::time::timeout(WAIT, sloth.conn.closed())
        .await
        .expect("the connection is closed too");
    wt.shutdown(Duration::from_secs(1)).await;
}
