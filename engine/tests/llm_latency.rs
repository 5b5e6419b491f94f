//! How much latency a delta gains inside the engine with many generations streaming at once.
//!
//! A mock OpenAI-compatible provider answers every request with one *first* delta at once and
//! then `DELTAS` *steady* deltas, one every `INTERVAL`. Each delta's text carries timestamps in
//! microseconds on one process-wide clock: `t<µs>` when the mock wrote it and, in the first
//! delta only, `s<µs>` when the client asked (the question text is `s<µs>`) and `r<µs>` when the
//! request reached the mock. Two runs, each against its own mock, read them:
//!
//! - **baseline**: `STREAMS` concurrent requests read straight from the mock (HTTP + SSE parsing
//!   in the client, no engine);
//! - **engine**: `STREAMS` concurrent generations through a node (provider adapter → stream
//!   actor → session outboxes → WebSocket → `atrium-client`), spread over `USERS` users with one
//!   connection each.
//!
//! The run is split into phases so that start-up work does not leak into delta latency:
//!
//! 1. **start**: all `STREAMS` requests are sent at once; the mock writes each one's first delta
//!    as soon as the request arrives, then holds the stream until *every* request has arrived.
//!    For the engine this phase holds the `llm.start` preparations (database reads and writes
//!    through SQLite's single writer). It is reported as time to first delta (`s → received`)
//!    and, for the engine, as the time until the provider request reached the mock (`s → r`).
//! 2. **steady state**: every stream is open; stream *k* (in arrival order) writes its steady
//!    deltas at `k/STREAMS` of an interval after the release, so that deltas arrive evenly
//!    (`STREAMS / INTERVAL` per second) instead of in bursts. Only these deltas enter the
//!    delta-latency histograms (`received − t`).
//! 3. **end**: the mock holds each stream's end (finish reason, usage, `[DONE]`) until every
//!    stream wrote its last steady delta, so the 1,000 answers being stored and billed never
//!    overlap a measured delta.
//!
//! The engine's addition is the difference of the two steady-state histograms. Run it (it is
//! `--ignored` so it never runs in CI) in a release build:
//!
//! ```sh
//! cargo test --release -p atrium --test llm_latency -- --ignored --nocapture
//! ```
//!
//! `ATRIUM_BENCH_STREAMS`, `ATRIUM_BENCH_USERS`, `ATRIUM_BENCH_DELTAS` (steady deltas per
//! stream) and `ATRIUM_BENCH_INTERVAL_MS` change the shape (defaults 1000, 50, 20, 50).

mod llm_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use atrium_actors::llm::{LlmConfig, LlmTimeouts, ModelConfig, ProviderConfig, ProviderKind};
use atrium_client::{Client, ClientConfig, Event, LlmOptions, LlmPush};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::serve::ListenerExt as _;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use llm_support::TestNode;
use serde_json::{Value, json};
use tokio::sync::{Barrier, mpsc};

/// Connections the mock's listener queues before accepting them.
const ACCEPT_BACKLOG: u32 = 4096;

/// Longest the whole benchmark may take before it fails instead of hanging.
const RUN_LIMIT: Duration = Duration::from_secs(600);

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
    /// Steady-state deltas per stream (after the first one).
    deltas: u64,
    interval: Duration,
}

/// The timestamps one delta's text carries.
#[derive(Default)]
struct Stamps {
    asked: Option<u64>,
    arrived: Option<u64>,
    written: Option<u64>,
}

fn stamps(text: &str) -> Stamps {
    let mut found = Stamps::default();
    for word in text.split_whitespace() {
        let (tag, value) = word.split_at(1);
        let Ok(us) = value.parse::<u64>() else {
            continue;
        };
        match tag {
            "s" => found.asked = Some(us),
            "r" => found.arrived = Some(us),
            "t" => found.written = Some(us),
            _ => {}
        }
    }
    found
}

fn histogram() -> Histogram<u64> {
    Histogram::new(3).unwrap()
}

fn record(hist: &mut Histogram<u64>, from: u64, to: u64) {
    let _ = hist.record(to.saturating_sub(from).max(1));
}

/// What one run measured.
struct Figures {
    /// Steady-state deltas: written by the mock → received by the client.
    steady: Histogram<u64>,
    /// Asked → first delta received.
    first_delta: Histogram<u64>,
    /// Asked → the provider request reached the mock.
    to_provider: Histogram<u64>,
    /// Streams that ended in an error.
    errors: u64,
    took: Duration,
}

impl Figures {
    fn new() -> Self {
        Self {
            steady: histogram(),
            first_delta: histogram(),
            to_provider: histogram(),
            errors: 0,
            took: Duration::ZERO,
        }
    }

    fn add(&mut self, other: &Self) {
        self.steady.add(&other.steady).unwrap();
        self.first_delta.add(&other.first_delta).unwrap();
        self.to_provider.add(&other.to_provider).unwrap();
        self.errors += other.errors;
    }

    /// One received delta with `seq` (1 = the first of its stream).
    fn delta(&mut self, seq: u64, text: &str) {
        let now = now_us();
        let s = stamps(text);
        if seq == 1 {
            if let Some(asked) = s.asked {
                record(&mut self.first_delta, asked, now);
                if let Some(arrived) = s.arrived {
                    record(&mut self.to_provider, asked, arrived);
                }
            }
        } else if let Some(written) = s.written {
            record(&mut self.steady, written, now);
        }
    }
}

/// The phases of one mock's run, shared by all its streams.
struct Phases {
    shape: Shape,
    /// Arrival order of the requests.
    arrivals: AtomicU64,
    /// Released once every request arrived (and got its first delta).
    all_started: Barrier,
    /// Released once every stream wrote its last steady delta.
    all_written: Barrier,
}

fn chunk(text: &str) -> Bytes {
    let v = json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    Bytes::from(format!("data: {v}\n\n"))
}

const END: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
                   data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20}}\n\n\
                   data: [DONE]\n\n";

async fn completions(State(phases): State<Arc<Phases>>, body: String) -> Response {
    let arrived = now_us();
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let question = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let index = phases.arrivals.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let shape = phases.shape;
        // A reader that went away only loses its own stream: every stream still passes both
        // barriers, so the others are never held forever.
        let _ = tx
            .send(chunk(&format!("{question} r{arrived} t{} ", now_us())))
            .await;
        phases.all_started.wait().await;
        let offset = shape.interval.mul_f64(index as f64 / shape.streams as f64);
        let release = tokio::time::Instant::now() + offset;
        for i in 0..shape.deltas {
            tokio::time::sleep_until(release + shape.interval * u32::try_from(i).unwrap()).await;
            let _ = tx.send(chunk(&format!("t{} ", now_us()))).await;
        }
        phases.all_written.wait().await;
        let _ = tx.send(Bytes::from_static(END.as_bytes())).await;
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|b| b.map(Ok::<_, std::convert::Infallible>))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

async fn start_mock(shape: Shape) -> String {
    let n = usize::try_from(shape.streams).unwrap();
    let phases = Arc::new(Phases {
        shape,
        arrivals: AtomicU64::new(0),
        all_started: Barrier::new(n),
        all_written: Barrier::new(n),
    });
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(phases);
    // All requests connect at once: a deep accept queue keeps the kernel from dropping SYNs
    // (which the client retries only after a second).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(ACCEPT_BACKLOG).unwrap();
    let addr = listener.local_addr().unwrap();
    // Like a provider that writes every chunk at once: Nagle would hold a chunk written while
    // the previous one is unacknowledged, in both runs.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/v1")
}

async fn baseline(shape: Shape) -> Figures {
    let base = start_mock(shape).await;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..shape.streams)
        .map(|_| {
            let http = http.clone();
            let url = format!("{base}/chat/completions");
            tokio::spawn(async move {
                let mut figures = Figures::new();
                let question = format!("s{}", now_us());
                let resp = http
                    .post(url)
                    .json(&json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": question}]}))
                    .send()
                    .await
                    .unwrap();
                let mut body = resp.bytes_stream();
                let mut pending = String::new();
                let mut seq = 0;
                while let Some(chunk) = body.next().await {
                    pending.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                    while let Some(end) = pending.find("\n\n") {
                        let event: String = pending.drain(..end + 2).collect();
                        if let Some(data) = event.trim().strip_prefix("data: ")
                            && let Ok(v) = serde_json::from_str::<Value>(data)
                            && let Some(text) = v["choices"][0]["delta"]["content"].as_str()
                        {
                            seq += 1;
                            figures.delta(seq, text);
                        }
                    }
                }
                figures
            })
        })
        .collect();
    let mut all = Figures::new();
    for t in tasks {
        all.add(&t.await.unwrap());
    }
    all.took = started.elapsed();
    all
}

async fn through_the_engine(shape: Shape) -> Figures {
    let base = start_mock(shape).await;
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
            let mut figures = Figures::new();
            let mut ended = 0;
            while ended < per_user {
                match reader.next_event().await {
                    Some(Event::Push(frame)) => match LlmPush::from_frame(&frame) {
                        Some(LlmPush::Delta { seq, text, .. }) => {
                            figures.delta(u64::from(seq), &text);
                        }
                        Some(LlmPush::Done { .. }) => ended += 1,
                        Some(LlmPush::Error { .. }) => {
                            ended += 1;
                            figures.errors += 1;
                        }
                        _ => {}
                    },
                    Some(_) => {}
                    None => break,
                }
            }
            figures
        }));
        starters.push((client, conversations));
    }
    let started = Instant::now();
    let mut starts = Vec::new();
    for (client, conversations) in starters {
        for c in conversations {
            let client = client.clone();
            starts.push(tokio::spawn(async move {
                let question = format!("s{}", now_us());
                client
                    .llm_start(c, &question, LlmOptions::default())
                    .await
                    .unwrap();
            }));
        }
    }
    for s in starts {
        s.await.unwrap();
    }
    let mut all = Figures::new();
    for r in readers {
        all.add(&r.await.unwrap());
    }
    all.took = started.elapsed();
    node.node.shutdown();
    all
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn line(name: &str, h: &Histogram<u64>) {
    println!(
        "| {name} | {} | {} | {} | {} | {} |",
        h.len(),
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
}

/// The 1-, 5- and 15-minute load averages, as the kernel reports them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
async fn delta_latency_with_many_concurrent_generations() {
    let shape = Shape {
        streams: env("ATRIUM_BENCH_STREAMS", 1000).max(1),
        users: env("ATRIUM_BENCH_USERS", 50).max(1),
        deltas: env("ATRIUM_BENCH_DELTAS", 20),
        interval: Duration::from_millis(env("ATRIUM_BENCH_INTERVAL_MS", 50)),
    };
    assert_eq!(
        shape.streams % shape.users,
        0,
        "streams must divide evenly among users"
    );
    now_us();
    let run = async {
        println!("load average before: {}", load_average());
        let direct = baseline(shape).await;
        println!(
            "baseline: {} streams in {:?}; load average {}",
            shape.streams,
            direct.took,
            load_average()
        );
        let engine = through_the_engine(shape).await;
        println!(
            "engine: {} streams in {:?}; load average {}",
            shape.streams,
            engine.took,
            load_average()
        );
        (direct, engine)
    };
    let (direct, engine) = tokio::time::timeout(RUN_LIMIT, run)
        .await
        .expect("the benchmark finishes in time");

    println!("\nsteady state (every stream open), written by the mock → received:\n");
    println!("| path | deltas | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|");
    line("mock → client (baseline)", &direct.steady);
    line("mock → engine → WebSocket → client", &engine.steady);
    let added = |q: f64| {
        ms(engine
            .steady
            .value_at_quantile(q)
            .saturating_sub(direct.steady.value_at_quantile(q)))
    };
    println!(
        "\nadded by the engine: p50 {} ms, p90 {} ms, p99 {} ms",
        added(0.50),
        added(0.90),
        added(0.99)
    );
    println!("\nstart ({} requests at once):\n", shape.streams);
    println!(
        "| measure | streams | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|"
    );
    line("baseline: request → first delta", &direct.first_delta);
    line("engine: llm.start → provider request", &engine.to_provider);
    line("engine: llm.start → first llm.delta", &engine.first_delta);

    let steady = shape.streams * shape.deltas;
    assert_eq!(engine.errors, 0, "no generation failed");
    assert_eq!(direct.steady.len(), steady, "every baseline delta measured");
    assert_eq!(engine.steady.len(), steady, "every engine delta measured");
    assert_eq!(direct.first_delta.len(), shape.streams);
    assert_eq!(engine.first_delta.len(), shape.streams);
}
