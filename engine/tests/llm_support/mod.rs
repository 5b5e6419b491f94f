//! A node with an OpenAI-compatible mock provider (axum on 127.0.0.1:0), and helpers to drive
//! it over HTTP and WebSocket.
//!
//! The mock chooses its behaviour by the upstream model id in the request:
//! - `ok`: streams "Hello", " from", " mock", then usage (11 in, 3 out) and `[DONE]`;
//! - `fail`: HTTP 503;
//! - `slow`: streams "first" and then nothing, until the client goes away (reported);
//! - `break`: streams "one ", "two ", then an error chunk.

#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrium::commands::serve::Node;
use atrium::config::Config;
use atrium_actors::llm::{LlmConfig, LlmTimeouts, ModelConfig, ProviderConfig, ProviderKind};
use atrium_client::{Client, Event, LlmPush};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

pub const MOCK_KEY: &str = "sk-mock-key-1234";
pub const WAIT: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct MockState {
    pub requests: Mutex<Vec<Value>>,
    pub headers: Mutex<Vec<String>>,
    /// Notified when a `slow` stream's client went away.
    pub dropped: Notify,
}

pub struct Mock {
    pub base_url: String,
    pub state: Arc<MockState>,
}

impl Mock {
    pub async fn start() -> Self {
        let state = Arc::new(MockState::default());
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            state,
        }
    }

    /// Requests received for `upstream`.
    pub fn requests_for(&self, upstream: &str) -> Vec<Value> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["model"] == upstream)
            .cloned()
            .collect()
    }
}

fn chunk(text: &str) -> Bytes {
    let v = json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    Bytes::from(format!("data: {v}\n\n"))
}

async fn completions(
    State(state): State<Arc<MockState>>,
    headers: axum::http::HeaderMap,
    body: String,
) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    state.requests.lock().unwrap().push(request.clone());
    if let Some(auth) = headers.get("authorization").and_then(|h| h.to_str().ok()) {
        state.headers.lock().unwrap().push(auth.to_owned());
    }
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    if model == "fail" {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"error\":{\"message\":\"down\"}}",
        )
            .into_response();
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let notify = state.clone();
    tokio::spawn(async move {
        match model.as_str() {
            "slow" => {
                let _ = tx.send(chunk("first")).await;
                tx.closed().await;
                notify.dropped.notify_one();
            }
            "break" => {
                for t in ["one ", "two "] {
                    let _ = tx.send(chunk(t)).await;
                }
                let e = json!({"error": {"message": "boom", "type": "server_error"}});
                let _ = tx.send(Bytes::from(format!("data: {e}\n\n"))).await;
            }
            _ => {
                for t in ["Hello", " from", " mock"] {
                    let _ = tx.send(chunk(t)).await;
                }
                let fin = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
                let _ = tx.send(Bytes::from(format!("data: {fin}\n\n"))).await;
                let usage =
                    json!({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}});
                let _ = tx.send(Bytes::from(format!("data: {usage}\n\n"))).await;
                let _ = tx.send(Bytes::from("data: [DONE]\n\n")).await;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|b| b.map(Ok::<_, Infallible>))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// The `[llm]` section pointing at the mock.
pub fn mock_llm(mock: &Mock) -> LlmConfig {
    let model = |name: &str, upstream: &str, fallback: &[&str]| {
        let mut m = ModelConfig::new(name, "mock", upstream).with_fallback(fallback);
        m.input_price = 1_000_000;
        m.output_price = 2_000_000;
        m
    };
    LlmConfig {
        default_model: Some("gpt".into()),
        timeouts: LlmTimeouts {
            connect_ms: 2_000,
            first_token_ms: 5_000,
            idle_ms: 5_000,
        },
        providers: vec![
            ProviderConfig::new("mock", ProviderKind::OpenAi)
                .with_base_url(mock.base_url.clone())
                .with_api_key(MOCK_KEY),
        ],
        models: vec![
            model("gpt", "ok", &["local"]),
            model("flaky", "fail", &["gpt"]),
            model("slow", "slow", &[]),
            model("breaking", "break", &["gpt"]),
        ],
        encryption_key: Some(atrium_actors::llm::ApiKey::new(
            atrium_actors::ai::KeyCipher::generate_config_text(),
        )),
        ..LlmConfig::default()
    }
}

pub struct TestNode {
    pub node: Node,
    pub base: String,
    pub ws: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub struct User {
    pub id: String,
    pub token: String,
}

impl TestNode {
    pub async fn start(llm: LlmConfig) -> Self {
        atrium::crypto::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            http_addr: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}/atrium.db", dir.path().display()),
            llm,
            ..Config::default()
        };
        config.webtransport.enabled = false;
        config.http.password = atrium_core::auth::PasswordParams::INSECURE_FAST_FOR_TESTS;
        let node = Node::start(config, CancellationToken::new()).await.unwrap();
        Self {
            base: format!("http://{}", node.http_addr),
            ws: format!("ws://{}/ws", node.http_addr),
            node,
            http: reqwest::Client::builder().timeout(WAIT).build().unwrap(),
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            r = r.json(&body);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn register(&self, name: &str) -> User {
        let body = json!({"username": name, "email": format!("{name}@example.com"), "password": "long enough password"});
        let r = self
            .http
            .post(format!("{}/api/v1/auth/register", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let login: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": name, "password": "long enough password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        User {
            id: login["user"]["id"].as_str().unwrap().to_owned(),
            token: login["access_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn conversation(&self, user: &User, body: Value) -> atrium_core::ids::ConversationId {
        let (status, c) = self
            .post("/api/v1/ai/conversations", &user.token, body)
            .await;
        assert_eq!(status, 201, "{c}");
        c["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn client(&self, user: &User) -> Client {
        Client::connect(&self.ws, &user.token).await.unwrap()
    }
}

/// Every `llm.*` push of `stream` up to and including its final one.
pub async fn collect(client: &Client, stream: atrium_core::ids::StreamId) -> Vec<LlmPush> {
    tokio::time::timeout(WAIT, async {
        let mut seen = Vec::new();
        loop {
            match client.next_event().await {
                Some(Event::Push(frame)) => {
                    if let Some(push) = LlmPush::from_frame(&frame)
                        && push.stream() == stream
                    {
                        let last = push.is_final();
                        seen.push(push);
                        if last {
                            return seen;
                        }
                    }
                }
                Some(_) => continue,
                None => panic!("client closed"),
            }
        }
    })
    .await
    .expect("the generation ends")
}

/// The text of the deltas, checking they are numbered 1, 2, 3, … once each.
pub fn text_of(pushes: &[LlmPush]) -> String {
    let mut expected = 1;
    let mut text = String::new();
    for p in pushes {
        if let LlmPush::Delta { seq, text: t, .. } = p {
            assert_eq!(*seq, expected, "deltas in order, no gap, no repeat");
            expected += 1;
            text.push_str(t);
        }
    }
    text
}
