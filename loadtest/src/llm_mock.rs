//! The `llm` scenario's provider: an OpenAI-compatible chat-completions endpoint on loopback.
//!
//! The coordinator serves it and configures it on the server as a provider account. Every
//! streamed answer is `deltas` pieces, one every `interval`, and each piece is `t<µs> `: the
//! wall-clock microsecond at which the mock wrote it. Workers on the same machine read the same
//! clock, so `received − written` is the latency the server added (provider adapter, stream
//! actor, session outbox, WebSocket). Non-streamed requests (the server's automatic conversation
//! title) get a short fixed answer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::payload::now_us;

/// What the mock writes.
#[derive(Debug, Clone, Copy)]
pub struct MockShape {
    pub deltas: u32,
    pub interval: Duration,
}

#[derive(Default)]
struct Counters {
    streamed: AtomicU64,
    other: AtomicU64,
}

/// A running mock; stops when dropped.
pub struct MockProvider {
    /// The API root to configure (`http://127.0.0.1:<port>/v1`).
    pub base_url: String,
    counters: Arc<Counters>,
    stop: CancellationToken,
}

impl MockProvider {
    pub async fn start(shape: MockShape) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state((shape, counters.clone()));
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await });
            if let Err(e) = serve.await {
                tracing::warn!(%e, "the mock provider stopped");
            }
        });
        Ok(Self {
            base_url: format!("http://{addr}/v1"),
            counters,
            stop,
        })
    }

    /// Streamed requests served so far (one per generation that reached the provider).
    pub fn streamed_requests(&self) -> u64 {
        self.counters.streamed.load(Ordering::Relaxed)
    }

    /// Other requests (titles, provider tests).
    pub fn other_requests(&self) -> u64 {
        self.counters.other.load(Ordering::Relaxed)
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// One SSE event carrying a piece of text.
fn piece(text: &str) -> Bytes {
    let chunk =
        json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// The last events of a stream: finish reason, usage, `[DONE]`.
fn ending(deltas: u32) -> Bytes {
    let finish = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    let usage = json!({"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": deltas}});
    Bytes::from(format!(
        "data: {finish}\n\ndata: {usage}\n\ndata: [DONE]\n\n"
    ))
}

/// The microseconds written into a delta's text (`t<µs> ` pieces; several if pieces merged).
pub fn written_at(text: &str) -> impl Iterator<Item = u64> + '_ {
    text.split_whitespace()
        .filter_map(|w| w.strip_prefix('t').and_then(|n| n.parse().ok()))
}

async fn completions(
    State((shape, counters)): State<(MockShape, Arc<Counters>)>,
    body: Bytes,
) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if request["stream"] != Value::Bool(true) {
        counters.other.fetch_add(1, Ordering::Relaxed);
        let answer = json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Load test"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 8, "completion_tokens": 2}
        });
        return ([(CONTENT_TYPE, "application/json")], answer.to_string()).into_response();
    }
    counters.streamed.fetch_add(1, Ordering::Relaxed);
    let stream = futures_util::stream::unfold(0u32, move |i| async move {
        if i > shape.deltas {
            return None;
        }
        if i == shape.deltas {
            return Some((Ok::<_, Infallible>(ending(shape.deltas)), i + 1));
        }
        if i > 0 {
            tokio::time::sleep(shape.interval).await;
        }
        Some((Ok(piece(&format!("t{} ", now_us()))), i + 1))
    });
    Response::builder()
        .header(CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_times_are_read_back_from_a_delta() {
        assert_eq!(written_at("t17 ").collect::<Vec<_>>(), [17]);
        assert_eq!(written_at("t1 t2 x t").collect::<Vec<_>>(), [1, 2]);
    }

    #[tokio::test]
    async fn the_mock_streams_timestamped_pieces_then_done() {
        let mock = MockProvider::start(MockShape {
            deltas: 3,
            interval: Duration::from_millis(1),
        })
        .await
        .unwrap();
        let before = now_us();
        let text = reqwest::Client::new()
            .post(format!("{}/chat/completions", mock.base_url))
            .json(&json!({"model": "m", "stream": true}))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut stamps = Vec::new();
        for event in text.split("\n\n").filter_map(|e| e.strip_prefix("data: ")) {
            if let Ok(v) = serde_json::from_str::<Value>(event)
                && let Some(t) = v["choices"][0]["delta"]["content"].as_str()
            {
                stamps.extend(written_at(t));
            }
        }
        assert_eq!(stamps.len(), 3, "{text}");
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]) && stamps[0] >= before);
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        assert_eq!(mock.streamed_requests(), 1);
    }
}
