//! Harness for the live-connection tests: a real node (HTTP router + realtime core + a temporary
//! SQLite store) on 127.0.0.1:0; accounts and channels through the HTTP API; chat through
//! `atrium-client` or, for malformed input, a raw WebSocket.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use atrium_actors::{Realtime, RealtimeConfig};
use atrium_client::{Client, ClientConfig, Event};
use atrium_core::auth::{AccessClaims, PasswordParams};
use atrium_core::ids::{ChannelId, OrgId, UserId};
use atrium_core::protocol::{ClientFrame, FrameCodec, SUBPROTOCOL, ServerFrame};
use atrium_gateway::ws::WsConfig;
use atrium_gateway::{AppState, HttpConfig, router};
use atrium_persistence::open_store;
use atrium_persistence::writer::{MessageWriter, WriterConfig};

pub const PASSWORD: &str = "password-123";
/// The longest any test waits for one expected event.
pub const WAIT: Duration = Duration::from_secs(15);

pub struct Node {
    pub base: String,
    pub ws_url: String,
    pub state: AppState,
    pub realtime: Realtime,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

/// Transport settings for tests that publish far faster than the default rate limit allows.
pub fn unlimited() -> WsConfig {
    WsConfig {
        rate_per_second: 1e9,
        rate_burst: 1e9,
        ..WsConfig::default()
    }
}

/// An account with a fresh access token.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: UserId,
    pub org: OrgId,
    pub username: String,
    pub token: String,
}

impl Node {
    pub async fn start() -> Self {
        Self::start_with(RealtimeConfig::default(), WsConfig::default()).await
    }

    pub async fn start_with(realtime_config: RealtimeConfig, ws: WsConfig) -> Self {
        Self::start_full(realtime_config, ws, None).await
    }

    /// Like [`Node::start_with`], with the kernel send buffer of every accepted socket fixed at
    /// `send_buffer` bytes (so a stalled reader backs up into the outbox quickly instead of into
    /// megabytes of autotuned socket buffer).
    pub async fn start_full(
        realtime_config: RealtimeConfig,
        ws: WsConfig,
        send_buffer: Option<usize>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("atrium.db").display());
        let mut node = Self::start_at(&url, realtime_config, ws, send_buffer).await;
        node._dir = Some(dir);
        node
    }

    /// A node on the database at `url` (which the caller keeps), so a test can stop a node and
    /// start another on the same data.
    pub async fn start_at(
        url: &str,
        realtime_config: RealtimeConfig,
        ws: WsConfig,
        send_buffer: Option<usize>,
    ) -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let store = open_store(url).await.expect("open store");
        store.migrate().await.expect("migrate");
        let writer = MessageWriter::spawn(store.clone(), WriterConfig::default());
        let realtime = Realtime::start(store.clone(), Arc::new(writer), realtime_config)
            .await
            .expect("realtime");
        let config = HttpConfig {
            password: PasswordParams::INSECURE_FAST_FOR_TESTS,
            ..HttpConfig::default()
        };
        let state = AppState::new(store, config)
            .await
            .expect("state")
            .with_realtime(realtime.clone(), ws);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = router(state.clone());
        let server = tokio::spawn(async move {
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(move |socket: &mut tokio::net::TcpStream| {
                if let Some(size) = send_buffer {
                    let _ = socket2::SockRef::from(&*socket).set_send_buffer_size(size);
                }
            });
            axum::serve(listener, app).await.expect("serve");
        });
        Self {
            base: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/ws"),
            state,
            realtime,
            http: reqwest::Client::builder()
                .timeout(WAIT)
                .build()
                .expect("http client"),
            server,
            _dir: None,
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers an account through the HTTP API (default organization, or `organization`).
    pub async fn register(&self, username: &str) -> Account {
        let (status, body) = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                }),
            )
            .await;
        assert_eq!(status, 201, "register {username}: {body}");
        let id: UserId = body["user"]["id"]
            .as_str()
            .expect("user id")
            .parse()
            .expect("uuid");
        let user = self.state.store.get_user(id).await.expect("user");
        Account {
            id,
            org: user.org_id,
            username: username.to_owned(),
            token: body["access_token"].as_str().expect("token").to_owned(),
        }
    }

    /// An account in a separate organization, created through the store (registration only
    /// joins existing organizations), with a token signed by the node's keys.
    pub async fn foreign_account(&self, username: &str) -> Account {
        let org = atrium_core::model::Organization {
            id: OrgId::new(),
            slug: format!("org-{username}"),
            name: "Elsewhere".into(),
            created_at: OffsetDateTime::now_utc(),
        };
        self.state.store.create_org(&org).await.expect("org");
        let user = atrium_core::model::User {
            id: UserId::new(),
            org_id: org.id,
            username: username.into(),
            email: format!("{username}@elsewhere.example"),
            password_hash: String::from("unused"),
            role: atrium_core::rbac::Role::User,
            active: true,
            created_at: OffsetDateTime::now_utc(),
        };
        self.state.store.create_user(&user).await.expect("user");
        let mut account = Account {
            id: user.id,
            org: org.id,
            username: username.into(),
            token: String::new(),
        };
        account.token = self.token_valid_for(&account, Duration::from_secs(600));
        account
    }

    /// A token for `account` that expires `ttl` from now.
    pub fn token_valid_for(&self, account: &Account, ttl: Duration) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.state
            .tokens
            .sign(&AccessClaims {
                sub: account.id,
                org: account.org,
                role: atrium_core::rbac::Role::User,
                iat: now,
                exp: now + i64::try_from(ttl.as_secs()).expect("ttl"),
                jti: None,
            })
            .expect("sign")
    }

    /// A channel created by `owner` through the HTTP API, with `members` added.
    pub async fn channel(&self, owner: &Account, members: &[&Account]) -> ChannelId {
        let (status, body) = self
            .post(
                "/api/v1/channels",
                Some(&owner.token),
                json!({"name": format!("room-{}", uuid::Uuid::new_v4().simple()), "kind": "group"}),
            )
            .await;
        assert_eq!(status, 201, "create channel: {body}");
        let id: ChannelId = body["id"].as_str().expect("id").parse().expect("uuid");
        for member in members {
            let (status, body) = self
                .post(
                    &format!("/api/v1/channels/{id}/members"),
                    Some(&owner.token),
                    json!({"user_id": member.id.to_string()}),
                )
                .await;
            assert!(
                status == 200 || status == 201,
                "add member: {status} {body}"
            );
        }
        id
    }

    pub async fn client(&self, account: &Account) -> Client {
        self.client_with(account, ClientConfig::default()).await
    }

    pub async fn client_with(&self, account: &Account, config: ClientConfig) -> Client {
        Client::connect_with(&self.ws_url, &account.token, config)
            .await
            .expect("connect")
    }

    pub fn stop(&self) {
        self.server.abort();
    }
}

/// Waits (up to [`WAIT`]) for the first push that `want` accepts, skipping others.
pub async fn expect_push<T>(client: &Client, mut want: impl FnMut(&ServerFrame) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            match client.next_event().await {
                Some(Event::Push(frame)) => {
                    if let Some(found) = want(&frame) {
                        return found;
                    }
                }
                Some(_) => {}
                None => panic!("client closed while waiting"),
            }
        }
    })
    .await
    .expect("timed out waiting for a push")
}

/// Waits for the first event that `want` accepts.
pub async fn expect_event<T>(client: &Client, mut want: impl FnMut(&Event) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = client.next_event().await.expect("client closed");
            if let Some(found) = want(&event) {
                return found;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

/// A bare WebSocket for sending what a well-behaved client never would.
pub struct Raw {
    pub ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    codec: FrameCodec,
}

/// What a raw connection observed next.
#[derive(Debug)]
pub enum Seen {
    Frame(ServerFrame),
    /// The server closed the connection (close frame or end of stream).
    Closed,
}

impl Raw {
    pub async fn connect(node: &Node) -> Self {
        let mut request = node.ws_url.as_str().into_client_request().expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .max_message_size(Some(16 << 20))
            .max_frame_size(Some(16 << 20));
        let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .expect("connect");
        Self {
            ws,
            codec: FrameCodec::new(16 << 20),
        }
    }

    /// Wraps an already upgraded WebSocket.
    pub fn from_stream(
        ws: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    ) -> Self {
        Self {
            ws,
            codec: FrameCodec::new(16 << 20),
        }
    }

    pub async fn hello(node: &Node, token: &str) -> Self {
        let mut raw = Self::connect(node).await;
        raw.send_frame(&ClientFrame::Hello {
            rid: 1,
            token: token.into(),
            client: None,
            resume: Default::default(),
        })
        .await;
        match raw.next().await {
            Seen::Frame(ServerFrame::Welcome { .. }) => raw,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn send_frame(&mut self, frame: &ClientFrame) {
        let bytes = self.codec.encode_client(frame).expect("encode");
        self.send(Message::Binary(bytes)).await;
    }

    pub async fn send(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    /// The next frame or the end of the connection (pings, pongs and presence are skipped).
    pub async fn next(&mut self) -> Seen {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Binary(bytes))) => {
                        match self.codec.decode_server(&bytes).expect("frame") {
                            // Presence is not what these tests are about (a raw session sees
                            // its own user come online).
                            ServerFrame::Presence { .. } => {}
                            frame => return Seen::Frame(frame),
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => return Seen::Closed,
                    Some(Err(tungstenite::Error::ConnectionClosed))
                    | Some(Err(tungstenite::Error::Protocol(_)))
                    | Some(Err(tungstenite::Error::Io(_))) => return Seen::Closed,
                    Some(Err(e)) => panic!("websocket error: {e}"),
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .expect("timed out waiting for the server")
    }

    /// The next frame; panics on close.
    pub async fn frame(&mut self) -> ServerFrame {
        match self.next().await {
            Seen::Frame(frame) => frame,
            Seen::Closed => panic!("connection closed"),
        }
    }

    /// Skips frames until the connection ends; returns the `bye` seen on the way, if any.
    pub async fn until_closed(&mut self) -> Option<ServerFrame> {
        let mut bye = None;
        loop {
            match self.next().await {
                Seen::Closed => return bye,
                Seen::Frame(frame @ ServerFrame::Bye { .. }) => bye = Some(frame),
                Seen::Frame(_) => {}
            }
        }
    }
}

/// A TCP relay between clients and the node whose links can be cut, to drop connections the
/// way a network does (no close frame, no `bye`).
pub struct Proxy {
    pub ws_url: String,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(node: &Node) -> Self {
        let upstream: std::net::SocketAddr = node
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("node address");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let accept = {
            let links = links.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let link = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    links.lock().unwrap().push(link);
                }
            })
        };
        Self {
            ws_url: format!("ws://{addr}/ws"),
            links,
            accept,
        }
    }

    /// Cuts every open link (new connections still pass).
    pub fn sever(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.sever();
    }
}
