//! A WebTransport session end to end: the announced URL and certificate hash, hello, sub,
//! send/receive, ping, and the certificate's renewal without disturbing open sessions.

mod ws_support;
mod wt_support;

use atrium_core::protocol::{ClientFrame, MsgSent, OkResult, ServerFrame, SubOk};
use atrium_gateway::webtransport::WtConfig;
use atrium_gateway::ws::WsConfig;

use wt_support::{WtClient, WtNode, hash_of, test_config};

#[tokio::test]
async fn the_api_announces_a_url_and_hash_a_pinning_client_accepts() {
    let node = WtNode::start().await;
    let (status, body) = node.info_over_http().await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().expect("url");
    let port = node.wt.local_addr().port();
    assert_eq!(url, format!("https://127.0.0.1:{port}/wt"));
    let hex = body["cert_sha256"].as_str().expect("hash");
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(hex, node.info().cert_sha256.unwrap());

    // The hash is the certificate's: a client pinning it connects, one pinning another fails.
    let info = node.info();
    WtClient::connect(url, hash_of(&info))
        .await
        .expect("pinned hash accepted");
    let mut wrong = hash_of(&info);
    wrong[0] ^= 0xff;
    assert!(WtClient::connect(url, wrong).await.is_err());
    // Sessions are served on /wt only.
    let other = url.replace("/wt", "/other");
    assert!(WtClient::connect(&other, hash_of(&info)).await.is_err());
}

#[tokio::test]
async fn a_node_without_webtransport_says_so() {
    let node = ws_support::Node::start().await;
    let app = atrium_gateway::router(node.state.clone());
    use tower::ServiceExt;
    let response = app
        .oneshot(
            axum::http::Request::get("/api/v1/webtransport")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
}

#[tokio::test]
async fn hello_sub_send_and_receive_over_webtransport() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;
    let bob = node.node.register("bob").await;
    let ch = node.node.channel(&ann, &[&bob]).await;

    let mut a = node.hello(&ann.token).await;
    let mut b = node.hello(&bob.token).await;
    for client in [&mut a, &mut b] {
        let rid = client.rid();
        let reply = client.request(ClientFrame::Sub { rid, ch }).await;
        assert_eq!(
            reply,
            ServerFrame::Ok {
                rid,
                result: OkResult::Subscribed(SubOk { last_seq: 0 })
            }
        );
    }

    let rid = a.rid();
    let reply = a
        .request(ClientFrame::MsgSend {
            rid,
            ch,
            body: "hello over quic".into(),
            reply_to: None,
            nonce: None,
        })
        .await;
    let ServerFrame::Ok {
        result: OkResult::Sent(MsgSent { id, seq: 1 }),
        ..
    } = reply
    else {
        panic!("expected ok {{id, seq: 1}}, got {reply:?}");
    };
    let (from, body, got_id) = b
        .expect(|f| match f {
            ServerFrame::Msg { from, body, id, .. } => Some((*from, body.clone(), *id)),
            _ => None,
        })
        .await;
    assert_eq!(
        (from, body.as_str(), got_id),
        (ann.id, "hello over quic", id)
    );

    let rid = b.rid();
    assert_eq!(
        b.request(ClientFrame::Ping { rid }).await,
        ServerFrame::Pong { rid }
    );
}

#[tokio::test]
async fn large_frames_and_many_frames_keep_their_boundaries() {
    let ws = WsConfig {
        rate_per_second: 1e9,
        rate_burst: 1e9,
        ..WsConfig::default()
    };
    let node = WtNode::start_with(ws, test_config()).await;
    let ann = node.node.register("ann").await;
    let ch = node.node.channel(&ann, &[]).await;
    let mut a = node.hello(&ann.token).await;
    let rid = a.rid();
    a.request(ClientFrame::Sub { rid, ch }).await;

    // 50 requests in one write, each near the body limit: every one is answered in order.
    let body = "x".repeat(3_900);
    let mut burst = Vec::new();
    let codec = atrium_core::protocol::FrameCodec::default();
    for rid in 1000..1050 {
        let frame = ClientFrame::MsgSend {
            rid,
            ch,
            body: body.clone(),
            reply_to: None,
            nonce: None,
        };
        let bytes = codec.encode_client(&frame).unwrap();
        atrium_gateway::webtransport::framing::put_frame(&mut burst, &bytes);
    }
    a.send_raw(&burst).await;
    for rid in 1000..1050 {
        let reply = a
            .expect(|f| match f {
                ServerFrame::Ok { rid: r, result } if *r == rid => Some(result.clone()),
                ServerFrame::Err { rid: Some(r), .. } if *r == rid => panic!("{f:?}"),
                _ => None,
            })
            .await;
        assert!(matches!(reply, OkResult::Sent(_)), "{reply:?}");
    }
    let last = a
        .expect(|f| match f {
            ServerFrame::Msg { seq: 50, body, .. } => Some(body.len()),
            _ => None,
        })
        .await;
    assert_eq!(last, 3_900);
}

#[tokio::test]
async fn the_certificate_is_renewed_before_expiry_without_dropping_sessions() {
    // A 16-second certificate (backdated 4 s) renewed 9 seconds before its end: a new one
    // every 3 seconds.
    let config = WtConfig {
        self_signed_validity_secs: 16,
        renew_before_expiry_secs: 9,
        ..test_config()
    };
    let node = WtNode::start_with(WsConfig::default(), config).await;
    let ann = node.node.register("ann").await;
    let first = node.info();
    let mut open = node.hello(&ann.token).await;

    let mut info = node.wt.info();
    tokio::time::timeout(ws_support::WAIT, info.changed())
        .await
        .expect("renewed in time")
        .expect("server running");
    let second = info.borrow().clone();
    assert_ne!(second.cert_sha256, first.cert_sha256);
    assert_eq!(second.url, first.url);
    let (_, body) = node.info_over_http().await;
    assert_eq!(body["cert_sha256"].as_str(), second.cert_sha256.as_deref());

    // New sessions get the new certificate; the open one goes on.
    let mut fresh = WtClient::connect(&second.url, hash_of(&second))
        .await
        .expect("new certificate served");
    fresh
        .send_frame(&ClientFrame::Hello {
            rid: 1,
            token: ann.token.clone(),
            client: None,
            resume: Default::default(),
        })
        .await;
    assert!(matches!(fresh.frame().await, ServerFrame::Welcome { .. }));
    assert!(
        WtClient::connect(&first.url, hash_of(&first))
            .await
            .is_err()
    );
    let rid = open.rid();
    assert_eq!(
        open.request(ClientFrame::Ping { rid }).await,
        ServerFrame::Pong { rid }
    );
}
