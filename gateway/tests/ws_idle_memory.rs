//! Memory of idle authenticated sessions: the server's RSS growth per WebSocket session that
//! completed `hello`/`welcome` and then stays quiet.
//!
//! The clients run in a child process (this same test binary, re-run with an environment
//! variable) so their memory does not count. Run it in release:
//!
//! ```text
//! cargo test --release -p atrium-gateway --test ws_idle_memory -- --ignored --nocapture
//! ```
//!
//! `ATRIUM_IDLE_SESSIONS` overrides the number of sessions (default 10,000).

mod ws_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use atrium_actors::RealtimeConfig;
use atrium_core::protocol::{ClientFrame, FrameCodec, SUBPROTOCOL, ServerFrame};

use ws_support::Node;

const CHILD_URL: &str = "ATRIUM_IDLE_CHILD_URL";
const CHILD_TOKENS: &str = "ATRIUM_IDLE_CHILD_TOKENS";
const CHILD_COUNT: &str = "ATRIUM_IDLE_CHILD_COUNT";
const DEFAULT_SESSIONS: usize = 10_000;
/// Distinct users the sessions belong to (presence keeps one entry per user).
const USERS: usize = 10;
/// Sessions opened before the baseline is taken, so one-time allocations (runtime workers,
/// allocator arenas, lazily built tables) are not charged to the measured sessions.
const WARM_UP: usize = 200;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// Starts `count` idle sessions in a child process; returns it once all got `welcome`.
fn spawn_clients(url: &str, tokens: &[String], count: usize) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--ignored", "--exact", "idle_clients", "--nocapture"])
        .env(CHILD_URL, url)
        .env(CHILD_TOKENS, tokens.join(","))
        .env(CHILD_COUNT, count.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn client process");
    let Some(stdout) = child.stdout.take() else {
        give_up(child, "no stdout");
    };
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.trim() == "READY" {
            // Keep reading what the child prints later, so it never writes into a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return child;
        }
        if line.starts_with("FAILED") {
            give_up(child, &line);
        }
    }
    give_up(child, "it ended before all sessions were open");
}

fn give_up(mut child: std::process::Child, why: &str) -> ! {
    let _ = child.kill();
    let _ = child.wait();
    panic!("client process: {why}");
}

async fn wait_for_sessions(node: &Node, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lifecycle = node.realtime.lifecycle();
    while node.realtime.stats().sessions < count {
        assert!(Instant::now() < deadline, "sessions never all registered");
        // Registration is not a lifecycle event; recheck on any change or every 100 ms.
        let _ = tokio::time::timeout(Duration::from_millis(100), lifecycle.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release with --ignored --nocapture"]
async fn idle_session_memory() {
    let sessions: usize = std::env::var("ATRIUM_IDLE_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SESSIONS);
    // Heartbeats far apart: the idle clients never read, so they would never answer a ping.
    let ws = atrium_gateway::ws::WsConfig {
        heartbeat_ms: 600_000,
        ..ws_support::unlimited()
    };
    let node = Node::start_with(RealtimeConfig::default(), ws).await;
    let mut tokens = Vec::new();
    for i in 0..USERS {
        tokens.push(node.register(&format!("idle{i:02}")).await.token);
    }

    let warm = spawn_clients(&node.ws_url, &tokens, WARM_UP);
    wait_for_sessions(&node, WARM_UP).await;
    let before = rss_bytes();

    let child = spawn_clients(&node.ws_url, &tokens, sessions);
    wait_for_sessions(&node, WARM_UP + sessions).await;
    let after = rss_bytes();

    let per_session = (after.saturating_sub(before)) as f64 / sessions as f64;
    println!(
        "idle sessions: {sessions}; server RSS {:.1} MiB -> {:.1} MiB; growth {:.0} bytes ({:.2} KiB) per session",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per_session,
        per_session / 1024.0
    );
    for mut c in [warm, child] {
        if let Some(mut stdin) = c.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = c.wait();
    }
}

/// The client side (runs only in the child process started by `idle_session_memory`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process of idle_session_memory"]
async fn idle_clients() {
    let (Ok(url), Ok(tokens), Ok(count)) = (
        std::env::var(CHILD_URL),
        std::env::var(CHILD_TOKENS),
        std::env::var(CHILD_COUNT),
    ) else {
        return;
    };
    let tokens: Vec<String> = tokens.split(',').map(str::to_owned).collect();
    let count: usize = count.parse().expect("count");
    let codec = FrameCodec::default();
    let config = WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0);
    let mut open = Vec::with_capacity(count);
    let mut pending = FuturesUnordered::new();
    let mut next = 0;
    const IN_FLIGHT: usize = 256;
    while open.len() < count {
        while next < count && pending.len() < IN_FLIGHT {
            let token = tokens[next % tokens.len()].clone();
            let url = url.clone();
            pending.push(async move {
                let mut request = url.as_str().into_client_request().expect("request");
                request.headers_mut().insert(
                    "Sec-WebSocket-Protocol",
                    HeaderValue::from_static(SUBPROTOCOL),
                );
                let (mut ws, _) =
                    tokio_tungstenite::connect_async_with_config(request, Some(config), true)
                        .await
                        .map_err(|e| e.to_string())?;
                let hello = codec
                    .encode_client(&ClientFrame::Hello {
                        rid: 1,
                        token,
                        client: None,
                        resume: Default::default(),
                    })
                    .expect("encode");
                futures_util::SinkExt::send(&mut ws, Message::Binary(hello))
                    .await
                    .map_err(|e| e.to_string())?;
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Binary(bytes))) => {
                            if let Ok(ServerFrame::Welcome { .. }) = codec.decode_server(&bytes) {
                                return Ok(ws);
                            }
                        }
                        Some(Ok(_)) => {}
                        other => return Err(format!("no welcome: {other:?}")),
                    }
                }
            });
            next += 1;
        }
        match pending.next().await {
            Some(Ok(ws)) => open.push(ws),
            Some(Err(e)) => {
                println!("FAILED {e}");
                return;
            }
            None => break,
        }
    }
    println!("READY");
    // Idle until the parent is done measuring (it writes a line, or goes away).
    let mut line = String::new();
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
    drop(open);
}
