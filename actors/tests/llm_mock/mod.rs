//! A scripted stand-in for an LLM provider: an axum server on 127.0.0.1:0 that records every
//! request and answers with a fixed reply (a chunked SSE body that may stall, or an HTTP error),
//! plus helpers to drain a provider stream.

#![allow(dead_code)] // each test binary uses a different subset

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrium_actors::llm::{
    ChatRequest, FinishReason, LlmConfig, LlmTimeouts, ModelConfig, ModelRouter, ProviderConfig,
    ProviderError, ProviderStream, StreamEvent, TokenUsage,
};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

/// Longest any test waits for a stream to end; far above the configured timeouts.
pub const TEST_DEADLINE: Duration = Duration::from_secs(10);

/// What the mock answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `200 text/event-stream`, the chunks written one by one; with `stall` the body then stays
    /// open without sending anything.
    Sse { chunks: Vec<Bytes>, stall: bool },
    /// A non-success status with headers and a body.
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
}

impl Reply {
    /// A complete SSE body. Each block is one event without its terminating blank line (the
    /// mock adds it); each block is sent as its own chunk.
    pub fn events(blocks: &[&str]) -> Self {
        Reply::Sse {
            chunks: blocks.iter().map(|b| encode(b, "\n")).collect(),
            stall: false,
        }
    }

    /// Like [`Reply::events`] with CRLF line endings (Gemini's servers use them).
    pub fn events_crlf(blocks: &[&str]) -> Self {
        Reply::Sse {
            chunks: blocks.iter().map(|b| encode(b, "\r\n")).collect(),
            stall: false,
        }
    }

    /// The events, then silence with the connection open.
    pub fn events_then_stall(blocks: &[&str]) -> Self {
        Reply::Sse {
            chunks: blocks.iter().map(|b| encode(b, "\n")).collect(),
            stall: true,
        }
    }

    /// The same body re-cut into `size`-byte chunks, so event blocks (and multi-byte UTF-8
    /// characters) straddle chunk boundaries.
    pub fn events_rechunked(blocks: &[&str], size: usize) -> Self {
        let all: Vec<u8> = blocks
            .iter()
            .flat_map(|b| encode(b, "\n").to_vec())
            .collect();
        Reply::Sse {
            chunks: all.chunks(size).map(Bytes::copy_from_slice).collect(),
            stall: false,
        }
    }

    pub fn status(status: u16, body: &str) -> Self {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn status_with_header(status: u16, header: &'static str, value: &str, body: &str) -> Self {
        Reply::Status {
            status,
            headers: vec![(header, value.to_owned())],
            body: body.to_owned(),
        }
    }
}

/// One event block on the wire: its lines joined by `eol`, then a blank line.
fn encode(block: &str, eol: &str) -> Bytes {
    let mut text = block.lines().collect::<Vec<_>>().join(eol);
    text.push_str(eol);
    text.push_str(eol);
    Bytes::from(text)
}

/// One request the mock received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Shared {
    reply: Reply,
    requests: Mutex<Vec<Recorded>>,
    bodies_dropped: mpsc::UnboundedSender<()>,
}

/// A running mock provider; stops when dropped.
pub struct MockProvider {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    dropped: tokio::sync::Mutex<mpsc::UnboundedReceiver<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockProvider {
    pub async fn start(reply: Reply) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            reply,
            requests: Mutex::new(Vec::new()),
            bodies_dropped: tx,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock provider");
        let addr = listener.local_addr().expect("mock address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            shared,
            dropped: tokio::sync::Mutex::new(rx),
            task,
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path` (e.g. `/v1`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The one request this mock received.
    pub fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request");
        requests[0].clone()
    }

    /// Waits until the server dropped a response body: the stream finished or the client went
    /// away. Used to prove that dropping a provider stream closes the upstream request.
    pub async fn body_dropped(&self) -> bool {
        let mut rx = self.dropped.lock().await;
        tokio::time::timeout(TEST_DEADLINE, rx.recv()).await.is_ok()
    }
}

/// Sends on drop: lives inside a response body stream.
struct DropSignal(mpsc::UnboundedSender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    };
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(recorded);
    }
    match &shared.reply {
        Reply::Sse { chunks, stall } => {
            let guard = DropSignal(shared.bodies_dropped.clone());
            let bytes = chunks.clone();
            let tail = if *stall {
                stream::pending().boxed()
            } else {
                stream::empty().boxed()
            };
            let body = stream::iter(bytes.into_iter().map(Ok::<_, Infallible>))
                .chain(tail)
                .map(move |chunk| {
                    let _keep = &guard;
                    chunk
                });
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .header("cache-control", "no-cache")
                .body(Body::from_stream(body))
                .unwrap_or_default()
        }
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder()
                .status(StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .header("content-type", "application/json");
            for (name, value) in headers {
                response = response.header(*name, value);
            }
            response.body(Body::from(body.clone())).unwrap_or_default()
        }
    }
}

/// Everything a drained stream produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub text: String,
    pub deltas: usize,
    pub usage: TokenUsage,
    pub usage_reports: usize,
    pub done: Option<FinishReason>,
    pub error: Option<ProviderError>,
    /// Items seen after `Done` or an error (must stay zero).
    pub after_end: usize,
}

/// Drains `stream`, failing the test if it does not end within [`TEST_DEADLINE`].
pub async fn collect(mut stream: ProviderStream) -> Outcome {
    tokio::time::timeout(TEST_DEADLINE, async move {
        let mut out = Outcome::default();
        while let Some(item) = stream.next().await {
            if out.done.is_some() || out.error.is_some() {
                out.after_end += 1;
                continue;
            }
            match item {
                Ok(StreamEvent::Delta(text)) => {
                    assert!(!text.is_empty(), "empty delta");
                    out.deltas += 1;
                    out.text.push_str(&text);
                }
                Ok(event @ StreamEvent::Usage { .. }) => {
                    out.usage_reports += 1;
                    out.usage.record(&event);
                }
                Ok(StreamEvent::Done { finish_reason }) => out.done = Some(finish_reason),
                Err(error) => out.error = Some(error),
            }
        }
        out
    })
    .await
    .expect("the provider stream did not end in time")
}

/// Short timeouts so stall tests take about a second at most, with enough margin over the
/// (immediate) mock replies that a loaded CI machine cannot make the wrong phase fire.
pub fn fast_timeouts() -> LlmTimeouts {
    LlmTimeouts {
        connect_ms: 2_000,
        first_token_ms: 1_000,
        idle_ms: 300,
    }
}

/// A router with one provider, one model named `model.name`, and the local bot.
pub fn router(provider: ProviderConfig, model: ModelConfig) -> ModelRouter {
    let config = LlmConfig {
        timeouts: fast_timeouts(),
        providers: vec![provider],
        models: vec![model],
        ..LlmConfig::default()
    };
    ModelRouter::new(&config).expect("valid test configuration")
}

/// Starts a mock answering `reply`, configures `provider` with the mock's URL plus `api_path`,
/// and drains one stream of `request` against `model`.
pub async fn run_against(
    reply: Reply,
    api_path: &str,
    provider: impl FnOnce(&str) -> ProviderConfig,
    model: ModelConfig,
    request: &ChatRequest,
) -> (MockProvider, Outcome) {
    let mock = MockProvider::start(reply).await;
    let router = router(provider(&mock.url(api_path)), model);
    let outcome = collect(router.stream(request)).await;
    (mock, outcome)
}

/// A URL on which nothing listens: bind a port, then release it.
pub async fn dead_url(path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}{path}")
}
