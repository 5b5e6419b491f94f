//! Harness for the WebTransport tests: the live-connection test node of `ws_support` (HTTP,
//! realtime core, temporary SQLite) plus a WebTransport listener on 127.0.0.1:0 serving the same
//! sessions, and a wtransport client that pins the announced certificate hash, as a browser does.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;
use wtransport::endpoint::endpoint_side;
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Connection, Endpoint, RecvStream, SendStream};

use atrium_actors::RealtimeConfig;
use atrium_core::protocol::{ClientFrame, Datagram, FrameCodec, ServerFrame};
use atrium_gateway::webtransport::framing::{FrameReader, ReadFrame, put_frame};
use atrium_gateway::webtransport::{WtConfig, WtInfo, WtServer};
use atrium_gateway::ws::WsConfig;

use crate::ws_support::{Node, Seen, WAIT};

/// A test node that also listens for WebTransport.
pub struct WtNode {
    pub node: Node,
    pub wt: WtServer,
}

/// `[webtransport]` settings for tests: any free port, defaults otherwise.
pub fn test_config() -> WtConfig {
    WtConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..WtConfig::default()
    }
}

impl WtNode {
    pub async fn start() -> Self {
        Self::start_with(WsConfig::default(), test_config()).await
    }

    pub async fn start_with(ws: WsConfig, wt: WtConfig) -> Self {
        let node = Node::start_with(RealtimeConfig::default(), ws).await;
        let live = node.state.realtime.clone().expect("realtime");
        let wt = WtServer::start(wt, live).await.expect("webtransport");
        Self { node, wt }
    }

    /// What `GET /api/v1/webtransport` answers right now, asked through the real router.
    pub async fn info_over_http(&self) -> (u16, serde_json::Value) {
        let app = atrium_gateway::router(self.node.state.clone().with_webtransport(self.wt.info()));
        let response = app
            .oneshot(
                Request::get("/api/v1/webtransport")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    pub fn info(&self) -> WtInfo {
        self.wt.info().borrow().clone()
    }

    /// A session with its control stream open, nothing sent yet.
    pub async fn connect(&self) -> WtClient {
        let info = self.info();
        WtClient::connect(&info.url, hash_of(&info))
            .await
            .expect("connect")
    }

    /// A session that said `hello` and got `welcome`.
    pub async fn hello(&self, token: &str) -> WtClient {
        let mut client = self.connect().await;
        client
            .send_frame(&ClientFrame::Hello {
                rid: 1,
                token: token.into(),
                client: Some("wt-test".into()),
                resume: Default::default(),
            })
            .await;
        match client.frame().await {
            ServerFrame::Welcome { .. } => client,
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}

/// The announced certificate hash as bytes.
pub fn hash_of(info: &WtInfo) -> [u8; 32] {
    let hex = info
        .cert_sha256
        .as_deref()
        .expect("a generated certificate");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

/// A WebTransport session to `url` pinning `hash`, without any stream yet.
pub async fn open_session(
    url: &str,
    hash: [u8; 32],
    receive_window: Option<u32>,
) -> Result<(Endpoint<endpoint_side::Client>, Connection), String> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut config = ClientConfig::builder()
        .with_bind_address(SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_server_certificate_hashes([Sha256Digest::new(hash)])
        .build();
    if let Some(window) = receive_window {
        let mut transport = wtransport::quinn::TransportConfig::default();
        transport.stream_receive_window(window.into());
        config
            .quic_config_mut()
            .transport_config(Arc::new(transport));
    }
    let endpoint = Endpoint::client(config).map_err(|e| e.to_string())?;
    let conn = tokio::time::timeout(WAIT, endpoint.connect(url))
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    Ok((endpoint, conn))
}

/// A WebTransport client speaking the control-stream framing, for well- and ill-behaved tests.
pub struct WtClient {
    pub conn: Connection,
    send: SendStream,
    recv: RecvStream,
    reader: FrameReader,
    codec: FrameCodec,
    /// Frames read while looking for something else.
    pending: VecDeque<ServerFrame>,
    next_rid: u32,
    _endpoint: Endpoint<endpoint_side::Client>,
}

impl WtClient {
    /// Connects to `url`, accepting only a certificate whose SHA-256 is `hash`, and opens the
    /// control stream.
    pub async fn connect(url: &str, hash: [u8; 32]) -> Result<Self, String> {
        Self::connect_with(url, hash, None).await
    }

    /// Like [`WtClient::connect`]; with `receive_window`, the client grants the server at most
    /// that many unread bytes per stream (so a client that stops reading stalls it quickly).
    pub async fn connect_with(
        url: &str,
        hash: [u8; 32],
        receive_window: Option<u32>,
    ) -> Result<Self, String> {
        let (endpoint, conn) = open_session(url, hash, receive_window).await?;
        let (send, recv) = conn
            .open_bi()
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            conn,
            send,
            recv,
            reader: FrameReader::new(16 << 20),
            codec: FrameCodec::new(16 << 20),
            pending: VecDeque::new(),
            next_rid: 100,
            _endpoint: endpoint,
        })
    }

    /// A fresh request id.
    pub fn rid(&mut self) -> u32 {
        self.next_rid += 1;
        self.next_rid
    }

    pub async fn send_frame(&mut self, frame: &ClientFrame) {
        let bytes = self.codec.encode_client(frame).expect("encode");
        self.send_payload(&bytes).await;
    }

    /// Sends `payload` as one frame (with its length prefix), whatever it holds.
    pub async fn send_payload(&mut self, payload: &[u8]) {
        let mut out = Vec::new();
        put_frame(&mut out, payload);
        self.send_raw(&out).await;
    }

    /// Writes bytes on the control stream as they are (no prefix added).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.send.write_all(bytes).await.expect("write");
    }

    /// The next frame, or the end of the control stream or connection.
    pub async fn next(&mut self) -> Seen {
        if let Some(frame) = self.pending.pop_front() {
            return Seen::Frame(frame);
        }
        let read = tokio::time::timeout(WAIT, self.reader.next(&mut self.recv))
            .await
            .expect("timed out waiting for the server");
        match read {
            Ok(ReadFrame::Frame(bytes)) => {
                Seen::Frame(self.codec.decode_server(&bytes).expect("server frame"))
            }
            Ok(ReadFrame::TooLarge { declared }) => panic!("server sent a {declared}-byte frame"),
            Ok(ReadFrame::Finished) | Err(_) => Seen::Closed,
        }
    }

    /// The next frame other than a presence push; panics on close.
    pub async fn frame(&mut self) -> ServerFrame {
        loop {
            match self.next().await {
                Seen::Frame(ServerFrame::Presence { .. }) => {}
                Seen::Frame(frame) => return frame,
                Seen::Closed => panic!("connection closed"),
            }
        }
    }

    /// The first frame `want` accepts; frames it does not want stay queued for later calls.
    pub async fn expect<T>(&mut self, mut want: impl FnMut(&ServerFrame) -> Option<T>) -> T {
        let mut skipped = VecDeque::new();
        let found = loop {
            match self.next().await {
                Seen::Frame(frame) => match want(&frame) {
                    Some(found) => break found,
                    None => skipped.push_back(frame),
                },
                Seen::Closed => panic!("connection closed while waiting; skipped {skipped:?}"),
            }
        };
        skipped.append(&mut self.pending);
        self.pending = skipped;
        found
    }

    /// Sends a request and returns its reply (pushes meanwhile stay queued).
    pub async fn request(&mut self, frame: ClientFrame) -> ServerFrame {
        let rid = frame.rid();
        self.send_frame(&frame).await;
        self.expect(|f| match f {
            ServerFrame::Ok { rid: r, .. }
            | ServerFrame::Err { rid: Some(r), .. }
            | ServerFrame::Pong { rid: r } => (*r == rid).then(|| f.clone()),
            _ => None,
        })
        .await
    }

    /// Skips frames until the server ends the session; returns the `bye` seen on the way.
    pub async fn until_closed(&mut self) -> Option<ServerFrame> {
        let mut bye = None;
        loop {
            match self.next().await {
                Seen::Frame(frame @ ServerFrame::Bye { .. }) => bye = Some(frame),
                Seen::Frame(_) => {}
                Seen::Closed => return bye,
            }
        }
    }

    pub fn send_datagram(&self, datagram: Datagram) {
        self.conn
            .send_datagram(datagram.encode())
            .expect("send datagram");
    }

    /// The next datagram from the server.
    pub async fn datagram(&self) -> Datagram {
        let received = tokio::time::timeout(WAIT, self.conn.receive_datagram())
            .await
            .expect("timed out waiting for a datagram")
            .expect("connection open");
        Datagram::decode(&received.payload()).expect("a datagram")
    }
}
