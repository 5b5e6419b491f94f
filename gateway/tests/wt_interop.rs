//! Both transports reach the same sessions: a WebSocket user and a WebTransport user in one
//! channel see each other's presence, typing and messages.

mod ws_support;
mod wt_support;

use atrium_core::protocol::{ClientFrame, MsgSent, OkResult, PresenceStatus, ServerFrame};

use ws_support::expect_push;
use wt_support::WtNode;

#[tokio::test]
async fn websocket_and_webtransport_users_chat_together() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;
    let bob = node.node.register("bob").await;
    let cid = node.node.register("cid").await;
    let ch = node.node.channel(&ann, &[&bob, &cid]).await;

    // Bob on WebSocket first; Ann comes online over WebTransport and Bob sees it.
    let b = node.node.client(&bob).await;
    b.sub(ch).await.unwrap();
    let mut a = node.hello(&ann.token).await;
    let ann_id = ann.id;
    let status = expect_push(&b, |f| match f {
        ServerFrame::Presence { user, status } if *user == ann_id => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(status, PresenceStatus::Online);
    let rid = a.rid();
    a.request(ClientFrame::Sub { rid, ch }).await;

    // Cid comes online over WebSocket; Ann (WebTransport) sees it.
    let _c = node.node.client(&cid).await;
    let cid_id = cid.id;
    let status = a
        .expect(|f| match f {
            ServerFrame::Presence { user, status } if *user == cid_id => Some(*status),
            _ => None,
        })
        .await;
    assert_eq!(status, PresenceStatus::Online);

    // Typing, both ways.
    let rid = a.rid();
    a.request(ClientFrame::Typing { rid, ch, on: true }).await;
    let typing = expect_push(&b, |f| match f {
        ServerFrame::Typing { user, on, .. } if *user == ann_id => Some(*on),
        _ => None,
    })
    .await;
    assert!(typing);
    b.typing(ch, true).await.unwrap();
    let bob_id = bob.id;
    let typing = a
        .expect(|f| match f {
            ServerFrame::Typing { user, on, .. } if *user == bob_id => Some(*on),
            _ => None,
        })
        .await;
    assert!(typing);

    // Messages, both ways, in one sequence.
    let rid = a.rid();
    let reply = a
        .request(ClientFrame::MsgSend {
            rid,
            ch,
            body: "from quic".into(),
            reply_to: None,
            nonce: None,
        })
        .await;
    assert!(
        matches!(
            reply,
            ServerFrame::Ok {
                result: OkResult::Sent(MsgSent { seq: 1, .. }),
                ..
            }
        ),
        "{reply:?}"
    );
    let (seq, body) = expect_push(&b, |f| match f {
        ServerFrame::Msg {
            seq, body, from, ..
        } if *from == ann_id => Some((*seq, body.clone())),
        _ => None,
    })
    .await;
    assert_eq!((seq, body.as_str()), (1, "from quic"));

    let sent = b.send(ch, "from tcp").await.unwrap();
    assert_eq!(sent.seq, 2);
    let (seq, body) = a
        .expect(|f| match f {
            ServerFrame::Msg {
                seq, body, from, ..
            } if *from == bob_id => Some((*seq, body.clone())),
            _ => None,
        })
        .await;
    assert_eq!((seq, body.as_str()), (2, "from tcp"));

    // HTTP presence counts the WebTransport session like any other.
    let (status, body) = node.node.get("/api/v1/presence", &bob.token).await;
    assert_eq!(status, 200, "{body}");
    let ann_text = ann.id.to_string();
    assert!(
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["user_id"] == ann_text.as_str() && u["sessions"] == 1),
        "{body}"
    );
}
