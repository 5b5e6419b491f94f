//! How much latency a delta gains inside the engine with many generations streaming at once.
//!
//! A mock OpenAI-compatible provider streams `DELTAS` deltas per request, one every `INTERVAL`,
//! each carrying the microsecond (on one process-wide clock) at which the mock wrote it. Two runs
//! read them and histogram `received − written`:
//!
//! - **baseline**: `STREAMS` concurrent requests read straight from the mock (HTTP + SSE parsing
//!   in the client, no engine);
//! - **engine**: `STREAMS` concurrent generations through a node (provider adapter → stream
//!   actor → session outboxes → WebSocket → `atrium-client`), spread over `USERS` users with one
//!   connection each.
//!
//! The engine's addition is the difference. Run (it is `--ignored` so it never runs in CI):
//!
//! ```sh
//! cargo test -p atrium --test llm_latency -- --ignored --nocapture
//! ```
//!
//! `ATRIUM_BENCH_STREAMS`, `ATRIUM_BENCH_USERS`, `ATRIUM_BENCH_DELTAS` and
//! `ATRIUM_BENCH_INTERVAL_MS` change the shape (defaults 1000, 50, 20, 50).

mod llm_support;

use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use atrium_actors::llm::{LlmConfig, LlmTimeouts, ModelConfig, ProviderConfig, ProviderKind};
use atrium_client::{Client, ClientConfig, Event, LlmOptions, LlmPush};
use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use llm_support::TestNode;
use serde_json::json;

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_us() -> u64 {
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
struct Shape {
    streams: u64,
    users: u64,
    deltas: u64,
    interval: Duration,
}

async fn start_mock(shape: Shape) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move || async move {
            let stream = futures_util::stream::unfold(0u64, move |i| async move {
                if i > shape.deltas {
                    return None;
                }
                if i == shape.deltas {
                    let end = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
                               data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20}}\n\n\
                               data: [DONE]\n\n";
                    return Some((Ok::<_, Infallible>(Bytes::from(end)), i + 1));
                }
                tokio::time::sleep(shape.interval).await;
                let v = json!({"choices": [{"index": 0, "delta": {"content": format!("t{} ", now_us())}, "finish_reason": null}]});
                Some((Ok(Bytes::from(format!("data: {v}\n\n"))), i + 1))
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/v1")
}

/// Microseconds written into each `t<us>` of `text`, as latencies now.
fn record(hist: &mut Histogram<u64>, text: &str) {
    let now = now_us();
    for word in text.split_whitespace() {
        if let Some(sent) = word.strip_prefix('t').and_then(|n| n.parse::<u64>().ok()) {
            let _ = hist.record(now.saturating_sub(sent).max(1));
        }
    }
}

async fn baseline(base: &str, shape: Shape) -> Histogram<u64> {
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..shape.streams)
        .map(|_| {
            let http = http.clone();
            let url = format!("{base}/chat/completions");
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new(3).unwrap();
                let resp = http
                    .post(url)
                    .json(&json!({"model": "m", "stream": true}))
                    .send()
                    .await
                    .unwrap();
                let mut body = resp.bytes_stream();
                let mut pending = String::new();
                while let Some(chunk) = body.next().await {
                    pending.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                    while let Some(end) = pending.find("\n\n") {
                        let event: String = pending.drain(..end + 2).collect();
                        if let Some(data) = event.trim().strip_prefix("data: ")
                            && let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
                            && let Some(text) = v["choices"][0]["delta"]["content"].as_str()
                        {
                            record(&mut hist, text);
                        }
                    }
                }
                hist
            })
        })
        .collect();
    let mut all = Histogram::<u64>::new(3).unwrap();
    for t in tasks {
        all.add(t.await.unwrap()).unwrap();
    }
    all
}

async fn through_the_engine(base: &str, shape: Shape) -> Histogram<u64> {
    let mut model = ModelConfig::new("timed", "mock", "timed");
    model.fallback = vec![];
    let llm = LlmConfig {
        default_model: Some("timed".into()),
        timeouts: LlmTimeouts {
            connect_ms: 5_000,
            first_token_ms: 60_000,
            idle_ms: 60_000,
        },
        providers: vec![
            ProviderConfig::new("mock", ProviderKind::OpenAi)
                .with_base_url(base)
                .with_api_key("bench-key"),
        ],
        models: vec![model],
        streams: atrium_actors::llm::StreamSettings {
            max_per_user: usize::try_from(shape.streams).unwrap(),
            context_messages: 4,
            auto_title: false,
        },
        ..LlmConfig::default()
    };
    let node = TestNode::start(llm).await;
    let per_user = shape.streams / shape.users;
    let mut readers = Vec::new();
    let mut starters = Vec::new();
    for u in 0..shape.users {
        let user = node.register(&format!("user{u}")).await;
        let mut conversations = Vec::new();
        for _ in 0..per_user {
            conversations.push(node.conversation(&user, json!({})).await);
        }
        let config = ClientConfig {
            event_buffer: 65_536,
            ..ClientConfig::default()
        };
        let client = Client::connect_with(&node.ws, &user.token, config)
            .await
            .unwrap();
        let reader = client.clone();
        readers.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new(3).unwrap();
            let mut done = 0;
            while done < per_user {
                match reader.next_event().await {
                    Some(Event::Push(frame)) => match LlmPush::from_frame(&frame) {
                        Some(LlmPush::Delta { text, .. }) => record(&mut hist, &text),
                        Some(LlmPush::Done { .. } | LlmPush::Error { .. }) => done += 1,
                        _ => {}
                    },
                    Some(_) => {}
                    None => break,
                }
            }
            hist
        }));
        starters.push((client, conversations));
    }
    let started = Instant::now();
    let mut starts = Vec::new();
    for (client, conversations) in starters {
        for c in conversations {
            let client = client.clone();
            starts.push(tokio::spawn(async move {
                client
                    .llm_start(c, "go", LlmOptions::default())
                    .await
                    .unwrap();
            }));
        }
    }
    for s in starts {
        s.await.unwrap();
    }
    let mut all = Histogram::<u64>::new(3).unwrap();
    for r in readers {
        all.add(r.await.unwrap()).unwrap();
    }
    println!(
        "engine run: {} streams started and finished in {:?}",
        shape.streams,
        started.elapsed()
    );
    node.node.shutdown();
    all
}

fn line(name: &str, h: &Histogram<u64>) {
    println!(
        "| {name} | {} | {} | {} | {} | {} |",
        h.len(),
        h.value_at_quantile(0.50),
        h.value_at_quantile(0.90),
        h.value_at_quantile(0.99),
        h.max()
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn delta_latency_with_many_concurrent_generations() {
    let shape = Shape {
        streams: env("ATRIUM_BENCH_STREAMS", 1000),
        users: env("ATRIUM_BENCH_USERS", 50).max(1),
        deltas: env("ATRIUM_BENCH_DELTAS", 20),
        interval: Duration::from_millis(env("ATRIUM_BENCH_INTERVAL_MS", 50)),
    };
    now_us();
    let base = start_mock(shape).await;
    let direct = baseline(&base, shape).await;
    let engine = through_the_engine(&base, shape).await;
    println!("\n| path | deltas | p50 µs | p90 µs | p99 µs | max µs |\n|---|---|---|---|---|---|");
    line("mock → client (baseline)", &direct);
    line("mock → engine → WebSocket → client", &engine);
    println!(
        "\nadded by the engine: p50 {} µs, p99 {} µs",
        engine
            .value_at_quantile(0.50)
            .saturating_sub(direct.value_at_quantile(0.50)),
        engine
            .value_at_quantile(0.99)
            .saturating_sub(direct.value_at_quantile(0.99))
    );
    let expected = shape.streams * shape.deltas;
    assert_eq!(direct.len(), expected, "every baseline delta measured");
    assert_eq!(engine.len(), expected, "every engine delta measured");
}
