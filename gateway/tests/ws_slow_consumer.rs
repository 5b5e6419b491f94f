//! A reader that stops reading must not hurt anyone else: 100 other subscribers get every
//! message, and the stalled session is closed with `slow_consumer` once its bounded outbound
//! queue overflows, instead of buffering without limit.

mod ws_support;

use futures_util::future::join_all;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use atrium_actors::{OutboxLimits, RealtimeConfig};
use atrium_client::Event;
use atrium_core::protocol::{ClientFrame, ErrorCode, SUBPROTOCOL, ServerFrame};

use ws_support::{Node, WAIT};

const READERS: usize = 100;
const MESSAGES: i64 = 600;
const BODY_BYTES: usize = 1500;
const OUTBOX_FRAMES: usize = 128;
/// The server's kernel send buffer per socket in this test.
const SEND_BUFFER: usize = 16 * 1024;

#[tokio::test]
async fn a_stalled_reader_is_cut_loose_and_delays_no_one() {
    let realtime = RealtimeConfig {
        outbox: OutboxLimits {
            max_frames: OUTBOX_FRAMES,
            max_bytes: 1024 * 1024,
        },
        ..RealtimeConfig::default()
    };
    let node = Node::start_full(realtime, ws_support::unlimited(), Some(SEND_BUFFER)).await;
    let ann = node.register("ann").await;
    let mut members = Vec::new();
    for i in 0..READERS {
        members.push(node.register(&format!("reader{i:03}")).await);
    }
    let slow = node.register("sloth").await;
    let mut all: Vec<&ws_support::Account> = members.iter().collect();
    all.push(&slow);
    let ch = node.channel(&ann, &all).await;

    // The stalled reader: a tiny receive buffer, subscribes, then never reads again.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = node.base.trim_start_matches("http://").parse().unwrap();
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(socket.connect(addr).await.unwrap());
    let mut request = node.ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        request,
        stream,
        Some(WebSocketConfig::default().read_buffer_size(4096)),
    )
    .await
    .unwrap();
    let mut sloth = ws_support::Raw::from_stream(ws);
    sloth
        .send_frame(&ClientFrame::Hello {
            rid: 1,
            token: slow.token.clone(),
            client: None,
            resume: Default::default(),
        })
        .await;
    let ServerFrame::Welcome { session, .. } = sloth.frame().await else {
        panic!("no welcome");
    };
    let sloth_outbox = node.realtime.session_outbox(session).expect("live session");
    sloth.send_frame(&ClientFrame::Sub { rid: 2, ch }).await;
    assert!(matches!(
        sloth.frame().await,
        ServerFrame::Ok { rid: 2, .. }
    ));

    // The hundred readers.
    let readers = join_all(members.iter().map(|m| node.client(m))).await;
    for reader in &readers {
        reader.sub(ch).await.unwrap();
    }

    // Ann publishes, pipelined in chunks.
    let publisher = node.client(&ann).await;
    let body = "x".repeat(BODY_BYTES);
    let publishing = tokio::spawn(async move {
        for chunk in (1..=MESSAGES).collect::<Vec<_>>().chunks(50) {
            let sends = chunk.iter().map(|_| publisher.send(ch, &body));
            for sent in join_all(sends).await {
                sent.expect("send");
            }
        }
    });

    // Every reader gets every message, in order.
    let deliveries = readers.iter().map(|reader| async move {
        let mut next = 1;
        while next <= MESSAGES {
            match reader.next_event().await.expect("reader open") {
                Event::Push(ServerFrame::Msg { seq, .. }) => {
                    assert_eq!(seq, next, "in order, exactly once");
                    next += 1;
                }
                Event::Push(_) => {}
                other => panic!("reader lost its connection: {other:?}"),
            }
        }
    });
    tokio::time::timeout(WAIT * 4, join_all(deliveries))
        .await
        .expect("a reader was held up");
    publishing.await.unwrap();

    // Meanwhile the stalled session was cut loose, with its queue never above its bound.
    let mut lifecycle = node.realtime.lifecycle();
    tokio::time::timeout(WAIT, lifecycle.wait_for(|l| l.sessions_closed >= 1))
        .await
        .expect("the stalled session is still open")
        .unwrap();
    assert_eq!(sloth_outbox.close_code(), Some(ErrorCode::SlowConsumer));
    assert!(
        sloth_outbox.peak_frames() <= OUTBOX_FRAMES,
        "peak {} frames",
        sloth_outbox.peak_frames()
    );
    assert_eq!(sloth_outbox.len(), 0, "its backlog was released");
    assert_eq!(node.realtime.stats().sessions, READERS + 1);
}
