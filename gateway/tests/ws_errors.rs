//! Every bad input on a live connection gets a coded answer, never a panic or a silent drop:
//! text frames, garbage, oversized frames, no hello, bad/expired tokens, expiry during a
//! session, other tenants' channels, floods, dead peers.

mod ws_support;

use std::time::Duration;

use bytes::Bytes;
use tokio_tungstenite::tungstenite::Message;

use atrium_actors::RealtimeConfig;
use atrium_core::protocol::{ClientFrame, ErrorCode, ServerFrame};
use atrium_gateway::ws::WsConfig;

use ws_support::{Node, Raw, Seen};

fn code_of(frame: &ServerFrame) -> (Option<u32>, ErrorCode) {
    match frame {
        ServerFrame::Err { rid, code, .. } => (*rid, *code),
        ServerFrame::Bye { code, .. } => (None, *code),
        other => panic!("expected err or bye, got {other:?}"),
    }
}

/// A MessagePack map `{"t": "ping", "rid": 9, "pad": <n bytes>}`: a frame of any size whose rid
/// the server can still read.
fn padded_ping(rid: u8, pad: usize) -> Vec<u8> {
    let mut out = vec![0x83, 0xa1, b't', 0xa4, b'p', b'i', b'n', b'g'];
    out.extend_from_slice(&[0xa3, b'r', b'i', b'd', rid]);
    out.extend_from_slice(&[0xa3, b'p', b'a', b'd', 0xc6]);
    out.extend_from_slice(&u32::try_from(pad).unwrap().to_be_bytes());
    out.extend(std::iter::repeat_n(0u8, pad));
    out
}

#[tokio::test]
async fn malformed_frames_get_coded_errors_and_the_session_lives_on() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let mut raw = Raw::hello(&node, &ann.token).await;

    raw.send(Message::Text("hello?".into())).await;
    assert_eq!(code_of(&raw.frame().await), (None, ErrorCode::BadFrame));

    raw.send(Message::Binary(Bytes::from_static(b"\xc1\xc1garbage")))
        .await;
    assert_eq!(code_of(&raw.frame().await), (None, ErrorCode::BadFrame));

    // A map with a readable rid but an unknown type: the error echoes the rid.
    raw.send(Message::Binary(Bytes::from_static(&[
        0x82, 0xa1, b't', 0xa3, b'n', b'o', b'p', 0xa3, b'r', b'i', b'd', 0x07,
    ])))
    .await;
    assert_eq!(code_of(&raw.frame().await), (Some(7), ErrorCode::BadFrame));

    // Over the 64 KiB frame limit but under the transport's cut-off: `too_large` with the rid,
    // and the session continues.
    raw.send(Message::Binary(Bytes::from(padded_ping(9, 70 * 1024))))
        .await;
    assert_eq!(code_of(&raw.frame().await), (Some(9), ErrorCode::TooLarge));

    // A valid frame breaking a value rule.
    raw.send_frame(&ClientFrame::MsgSend {
        rid: 10,
        ch: atrium_core::ids::ChannelId::new(),
        body: "   ".into(),
        reply_to: None,
        nonce: None,
    })
    .await;
    assert_eq!(code_of(&raw.frame().await), (Some(10), ErrorCode::Invalid));

    raw.send_frame(&ClientFrame::Ping { rid: 11 }).await;
    assert!(matches!(raw.frame().await, ServerFrame::Pong { rid: 11 }));
}

#[tokio::test]
async fn a_huge_frame_is_refused_and_the_connection_closed() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let mut raw = Raw::hello(&node, &ann.token).await;
    raw.send(Message::Binary(Bytes::from(padded_ping(3, 1024 * 1024))))
        .await;
    let first = raw.frame().await;
    assert_eq!(code_of(&first).1, ErrorCode::TooLarge);
    // The server follows with `bye too_large` and closes; the unread rest of the huge message
    // may turn that close into a reset that swallows the `bye`, so only the close is certain.
    let bye = raw.until_closed().await;
    assert!(
        bye.is_none()
            || matches!(
                bye,
                Some(ServerFrame::Bye {
                    code: ErrorCode::TooLarge,
                    ..
                })
            ),
        "{bye:?}"
    );
}

#[tokio::test]
async fn the_first_frame_must_be_a_valid_hello() {
    let ws = WsConfig {
        hello_timeout_ms: 200,
        ..WsConfig::default()
    };
    let node = Node::start_with(RealtimeConfig::default(), ws).await;
    let ann = node.register("ann").await;

    // Silence: bye timeout, then close.
    let mut raw = Raw::connect(&node).await;
    assert_eq!(code_of(&raw.frame().await), (None, ErrorCode::Timeout));
    assert!(matches!(raw.next().await, Seen::Closed));

    // Something else first.
    let mut raw = Raw::connect(&node).await;
    raw.send_frame(&ClientFrame::Ping { rid: 4 }).await;
    assert_eq!(
        code_of(&raw.frame().await),
        (Some(4), ErrorCode::Unauthorized)
    );
    assert!(matches!(raw.next().await, Seen::Closed));

    // A forged token.
    let mut raw = Raw::connect(&node).await;
    raw.send_frame(&ClientFrame::Hello {
        rid: 5,
        token: format!("{}x", ann.token),
        client: None,
        resume: Default::default(),
    })
    .await;
    assert_eq!(
        code_of(&raw.frame().await),
        (Some(5), ErrorCode::Unauthorized)
    );
    assert!(matches!(raw.next().await, Seen::Closed));

    // An expired token (past the verifier's clock-skew leeway).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = node
        .state
        .tokens
        .sign(&atrium_core::auth::AccessClaims {
            sub: ann.id,
            org: ann.org,
            role: atrium_core::rbac::Role::User,
            iat: now - 120,
            exp: now - 60,
            jti: None,
        })
        .unwrap();
    let mut raw = Raw::connect(&node).await;
    raw.send_frame(&ClientFrame::Hello {
        rid: 6,
        token: expired,
        client: None,
        resume: Default::default(),
    })
    .await;
    assert_eq!(
        code_of(&raw.frame().await),
        (Some(6), ErrorCode::TokenExpired)
    );
    assert!(matches!(raw.next().await, Seen::Closed));

    // Garbage first.
    let mut raw = Raw::connect(&node).await;
    raw.send(Message::Binary(Bytes::from_static(b"nope"))).await;
    assert_eq!(code_of(&raw.frame().await), (None, ErrorCode::BadFrame));
    assert!(matches!(raw.next().await, Seen::Closed));
}

#[tokio::test]
async fn the_subprotocol_is_required() {
    let node = Node::start().await;
    let error = tokio_tungstenite::connect_async(node.ws_url.as_str())
        .await
        .expect_err("upgrade without atrium.v1 must fail");
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 400);
        }
        other => panic!("unexpected error: {other}"),
    }
}

#[tokio::test]
async fn an_expiring_token_ends_the_session_unless_refreshed() {
    let node = Node::start().await;
    let ann = node.register("ann").await;

    // Refreshed in time: the session outlives the first token.
    let short = node.token_valid_for(&ann, Duration::from_secs(1));
    let mut raw = Raw::hello(&node, &short).await;
    let fresh = node.token_valid_for(&ann, Duration::from_secs(600));
    raw.send_frame(&ClientFrame::AuthRefresh {
        rid: 2,
        token: fresh,
    })
    .await;
    assert!(matches!(raw.frame().await, ServerFrame::Ok { rid: 2, .. }));

    // Someone else's token is refused; the session continues on its own.
    let bob = node.register("bob").await;
    raw.send_frame(&ClientFrame::AuthRefresh {
        rid: 3,
        token: bob.token.clone(),
    })
    .await;
    assert_eq!(
        code_of(&raw.frame().await),
        (Some(3), ErrorCode::Unauthorized)
    );

    // Not refreshed: `bye token_expired`, then close.
    let mut lapsing = Raw::hello(&node, &node.token_valid_for(&ann, Duration::from_secs(1))).await;
    let bye = lapsing.until_closed().await;
    assert!(
        matches!(
            bye,
            Some(ServerFrame::Bye {
                code: ErrorCode::TokenExpired,
                ..
            })
        ),
        "{bye:?}"
    );

    // The refreshed one is still alive after the first token's expiry.
    raw.send_frame(&ClientFrame::Ping { rid: 4 }).await;
    assert!(matches!(raw.frame().await, ServerFrame::Pong { rid: 4 }));
}

#[tokio::test]
async fn another_organizations_channel_is_forbidden() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let ch = node.channel(&ann, &[]).await;
    let mallory = node.foreign_account("mallory").await;
    let m = node.client(&mallory).await;
    assert_eq!(
        m.sub(ch).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        m.send(ch, "hi").await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        m.history(ch, None, None).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    // A member of the same organization who is not in the channel is refused too.
    let eve = node.register("eve").await;
    let e = node.client(&eve).await;
    assert_eq!(
        e.sub(ch).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
}

#[tokio::test]
async fn a_flood_is_answered_with_rate_limited() {
    let ws = WsConfig {
        rate_per_second: 20.0,
        rate_burst: 10.0,
        ..WsConfig::default()
    };
    let node = Node::start_with(RealtimeConfig::default(), ws).await;
    let ann = node.register("ann").await;
    let mut raw = Raw::hello(&node, &ann.token).await;
    for rid in 100..150 {
        raw.send_frame(&ClientFrame::Ping { rid }).await;
    }
    let (mut pongs, mut limited) = (0, 0);
    for _ in 100..150 {
        match raw.frame().await {
            ServerFrame::Pong { .. } => pongs += 1,
            ServerFrame::Err {
                code: ErrorCode::RateLimited,
                rid: Some(_),
                ..
            } => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(pongs >= 10, "the burst is served: {pongs}");
    assert!(
        limited >= 30,
        "the excess is refused, not dropped: {limited}"
    );
    // The session survives; once tokens refill, requests are served again.
    let deadline = tokio::time::Instant::now() + ws_support::WAIT;
    let mut rid = 1000;
    loop {
        rid += 1;
        raw.send_frame(&ClientFrame::Ping { rid }).await;
        if matches!(raw.frame().await, ServerFrame::Pong { .. }) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never served again");
        tokio::time::sleep(Duration::from_millis(50)).await; // let the bucket refill
    }
}

#[tokio::test]
async fn a_silent_peer_is_closed_after_two_heartbeats() {
    let ws = WsConfig {
        heartbeat_ms: 100,
        ..WsConfig::default()
    };
    let node = Node::start_with(RealtimeConfig::default(), ws).await;
    let ann = node.register("ann").await;
    let raw = Raw::hello(&node, &ann.token).await;
    // Never read again (so pings are never answered): the server gives up on it.
    assert_eq!(node.realtime.stats().sessions, 1);
    let mut lifecycle = node.realtime.lifecycle();
    tokio::time::timeout(
        ws_support::WAIT,
        lifecycle.wait_for(|l| l.sessions_closed >= 1),
    )
    .await
    .expect("the silent session was not closed")
    .expect("realtime running");
    drop(raw);
}

#[tokio::test]
async fn a_deactivated_account_cannot_open_a_session_with_a_still_valid_token() {
    let node = Node::start().await;
    let _admin = node.register("root").await; // the first account is the admin
    let ann = node.register("ann").await;
    node.state
        .store
        .set_user_active(ann.org, ann.id, false)
        .await
        .unwrap();
    let mut raw = Raw::connect(&node).await;
    raw.send_frame(&ClientFrame::Hello {
        rid: 1,
        token: ann.token.clone(),
        client: None,
        resume: Default::default(),
    })
    .await;
    assert_eq!(
        code_of(&raw.frame().await),
        (Some(1), ErrorCode::Unauthorized)
    );
    assert!(matches!(
        raw.until_closed().await,
        Some(ServerFrame::Bye {
            code: ErrorCode::Unauthorized,
            ..
        })
    ));
}
