//! The whole binary against a small in-process NATS-over-WebSocket server: coordinator, worker
//! processes, phases, latency, integrity and the report file; the `rooms` and `llm` scenarios
//! against an in-process Atrium node (debug build, fresh SQLite database). Another test makes
//! sure a non-loopback target is refused before anything connects.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

type Subscribers = Arc<Mutex<HashMap<String, Vec<(String, mpsc::UnboundedSender<Message>)>>>>;

/// Enough of a NATS server for the load tester: INFO, CONNECT, PING/PONG, SUB, PUB → MSG.
/// Each client WebSocket frame holds whole operations, which is what the load tester sends.
async fn mini_nats() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let subs: Subscribers = Arc::default();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let subs = subs.clone();
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let (mut sink, mut source) = ws.split();
                let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
                tokio::spawn(async move {
                    while let Some(m) = rx.recv().await {
                        if sink.send(m).await.is_err() {
                            return;
                        }
                    }
                });
                let _ = tx.send(Message::binary(
                    b"INFO {\"server_id\":\"mini\"}\r\n".to_vec(),
                ));
                while let Some(Ok(message)) = source.next().await {
                    let Message::Binary(bytes) = message else {
                        continue;
                    };
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let mut lines = text.split("\r\n");
                    while let Some(line) = lines.next() {
                        let mut words = line.split(' ');
                        match words.next() {
                            Some("PING") => {
                                let _ = tx.send(Message::binary(b"PONG\r\n".to_vec()));
                            }
                            Some("SUB") => {
                                let subject = words.next().unwrap_or_default().to_owned();
                                let sid = words.next().unwrap_or_default().to_owned();
                                subs.lock()
                                    .unwrap()
                                    .entry(subject)
                                    .or_default()
                                    .push((sid, tx.clone()));
                            }
                            Some("PUB") => {
                                let subject = words.next().unwrap_or_default();
                                let payload = lines.next().unwrap_or_default();
                                let subs = subs.lock().unwrap();
                                for (sid, to) in subs.get(subject).into_iter().flatten() {
                                    let msg = format!(
                                        "MSG {subject} {sid} {}\r\n{payload}\r\n",
                                        payload.len()
                                    );
                                    let _ = to.send(Message::binary(msg.into_bytes()));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            });
        }
    });
    addr
}

fn loadtest() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atrium-loadtest"))
}

/// Runs `atrium-loadtest run --target nats --quiet --url <mini server> <args>`, expects
/// success, returns stdout.
async fn run_against(addr: SocketAddr, args: &[&str]) -> String {
    let mut command = loadtest();
    command
        .args(["run", "--target", "nats", "--quiet"])
        .args(["--url", &format!("ws://{addr}/")])
        .args(args);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn read_report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanout_run_over_two_processes_reports_clean_deliveries() {
    let addr = mini_nats().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let plots = dir.path().join("plots");
    let stdout = run_against(
        addr,
        &[
            "--scenario",
            "fanout",
            "--channels",
            "3",
            "--members",
            "10",
            "--publishers-per-channel",
            "2",
            "--rate",
            "300",
            "--duration",
            "2",
            "--drain",
            "5",
            "--processes",
            "2",
            "--source-addrs",
            "127.0.0.1,127.0.0.2",
            "--report",
            report.to_str().unwrap(),
            "--plots-dir",
            plots.to_str().unwrap(),
        ],
    )
    .await;
    let json = read_report(&report);
    let fanout = &json["fanout"];
    let confirmed = fanout["confirmed"].as_u64().unwrap();
    assert!(
        confirmed >= 400,
        "about 600 messages in 2 s at 300/s: {fanout}"
    );
    // Every subscriber of a channel gets every message of that channel's publishers.
    assert_eq!(
        fanout["deliveries"].as_u64().unwrap(),
        confirmed * 10,
        "{fanout}"
    );
    assert_eq!(fanout["expected_deliveries"], fanout["deliveries"]);
    assert_eq!(json["integrity"]["subscribers"], 30);
    assert_eq!(json["integrity"]["totals"]["gaps"], 0);
    assert_eq!(json["integrity"]["totals"]["duplicates"], 0);
    assert_eq!(json["integrity_basis"], "publisher counter");
    assert_eq!(json["sessions"]["connected"], 36);
    assert_eq!(json["latency"]["count"].as_u64().unwrap(), confirmed * 10);
    assert!(json["latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    assert!(
        json["errors"].as_object().unwrap().is_empty(),
        "{}",
        json["errors"]
    );
    assert!(stdout.contains("(clean)"), "{stdout}");
    assert!(plots.join("nats-fanout-latency-over-time.svg").is_file());
    assert!(plots.join("nats-fanout-latency-histogram.svg").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaced_run_publishes_as_fast_as_confirmations_allow() {
    let addr = mini_nats().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("saturation.json");
    run_against(
        addr,
        &[
            "--scenario",
            "fanout",
            "--channels",
            "1",
            "--members",
            "20",
            "--rate",
            "0",
            "--inflight",
            "8",
            "--duration",
            "1",
            "--drain",
            "5",
            "--report",
            report.to_str().unwrap(),
        ],
    )
    .await;
    let json = read_report(&report);
    let confirmed = json["fanout"]["confirmed"].as_u64().unwrap();
    assert!(confirmed > 100, "{}", json["fanout"]);
    assert_eq!(
        json["fanout"]["deliveries"].as_u64().unwrap(),
        confirmed * 20
    );
    assert_eq!(json["integrity"]["totals"]["gaps"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_run_holds_its_sessions() {
    let addr = mini_nats().await;
    let stdout = run_against(
        addr,
        &[
            "--scenario",
            "connect",
            "--sessions",
            "200",
            "--connect-rate",
            "1000",
            "--hold",
            "1",
            "--channels",
            "4",
        ],
    )
    .await;
    assert!(
        stdout.contains("sessions      200 of 200 open, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn a_remote_target_is_refused_before_connecting() {
    for url in ["ws://192.0.2.10:8080/ws", "ws://example.com/ws"] {
        let output = loadtest()
            .args(["run", "--target", "atrium", "--url", url, "--quiet"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "usage error for {url}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("only targets loopback"), "{stderr}");
    }
    let output = loadtest()
        .args(["run", "--scenario", "rooms", "--transport", "wt", "--quiet"])
        .args(["--wt-url", "https://192.0.2.10:4433/wt"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "usage error for a remote --wt-url"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only targets loopback"), "{stderr}");
}

/// An Atrium node on a free loopback port with a fresh database, fast password hashing and the
/// realtime core; its tick rate is the default 20 Hz. With WebTransport, on a free UDP port and
/// a generated certificate, announced at `GET /api/v1/webtransport` as `atrium serve` does.
struct AtriumNode {
    _node: atrium::commands::serve::Node,
    ws: String,
    _dir: tempfile::TempDir,
}

impl AtriumNode {
    async fn start() -> Self {
        Self::start_with(false).await
    }

    async fn start_with(webtransport: bool) -> Self {
        atrium::crypto::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut config = atrium::config::Config {
            http_addr: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}/atrium.db", dir.path().display()),
            ..atrium::config::Config::default()
        };
        config.webtransport.enabled = webtransport;
        config.webtransport.addr = "127.0.0.1:0".parse().unwrap();
        config.http.password = atrium_core::auth::PasswordParams::INSECURE_FAST_FOR_TESTS;
        let node = atrium::commands::serve::Node::start(
            config,
            tokio_util::sync::CancellationToken::new(),
        )
        .await
        .unwrap();
        Self {
            ws: format!("ws://{}/ws", node.http_addr),
            _node: node,
            _dir: dir,
        }
    }

    async fn run(&self, args: &[&str]) -> (String, serde_json::Value) {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        let plots = dir.path().join("plots");
        let mut command = loadtest();
        command
            .args(["run", "--target", "atrium", "--quiet", "--url", &self.ws])
            .args(["--report", report.to_str().unwrap()])
            .args(["--plots-dir", plots.to_str().unwrap()])
            .args(args);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json = read_report(&report);
        let label = json["label"].as_str().unwrap().to_owned();
        assert!(
            plots
                .join(format!("{label}-latency-histogram.svg"))
                .is_file()
        );
        (stdout, json)
    }
}

/// 2 rooms × 5 avatars walking for 2 s over `transport`.
async fn rooms_run(node: &AtriumNode, transport: &str) -> (String, serde_json::Value) {
    node.run(&[
        "--scenario",
        "rooms",
        "--transport",
        transport,
        "--rooms",
        "2",
        "--avatars",
        "5",
        "--users",
        "10",
        "--duration",
        "2",
        "--drain",
        "1",
    ])
    .await
}

/// What every rooms run must show whatever the transport: everyone joined and walked, every
/// part decoded, every avatar saw its neighbour move (samples plausible: ≥ 0, under a second
/// at the median), no errors.
fn assert_walked_and_measured(json: &serde_json::Value, min_samples: u64) {
    let rooms = &json["rooms"];
    assert_eq!(rooms["joined"], 10, "{rooms}");
    assert_eq!(json["sessions"]["connected"], 10);
    assert!(rooms["snapshot_bytes_per_client_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(rooms["unusable_parts"], 0, "{rooms}");
    let poses = rooms["poses"].as_u64().unwrap();
    assert!(
        (300..=420).contains(&poses),
        "about 10 × 2 s × 20 Hz: {rooms}"
    );
    assert_eq!(rooms["measured_pairs"], 10, "{rooms}");
    let latency = &json["latency"];
    assert!(
        latency["count"].as_u64().unwrap() > min_samples,
        "{latency}"
    );
    assert!(latency["p50_ms"].as_f64().unwrap() < 1000.0, "{latency}");
    assert!(
        json["errors"].as_object().unwrap().is_empty(),
        "{}",
        json["errors"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rooms_run_walks_avatars_and_measures_snapshots_and_peer_latency() {
    let node = AtriumNode::start().await;
    let (stdout, json) = rooms_run(&node, "ws").await;
    assert_walked_and_measured(&json, 100);
    let rooms = &json["rooms"];
    assert_eq!(rooms["transport"], "ws", "{rooms}");
    // 20 Hz ticks: every tick brings a snapshot while everyone walks. A debug node on a loaded
    // machine may skip ticks, so this only asks for most of them.
    let per_client = rooms["snapshots_per_client_per_sec"].as_f64().unwrap();
    assert!((10.0..=21.0).contains(&per_client), "{rooms}");
    assert!(rooms["delta_share"].as_f64().unwrap() > 0.5, "{rooms}");
    assert_eq!(rooms["snapshot_datagrams"], 0, "{rooms}");
    assert!(stdout.contains("per client per second"), "{stdout}");
    assert!(stdout.contains("over WebSocket"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rooms_run_over_webtransport_walks_with_datagrams_and_measures_the_same() {
    // The load tester learns the URL and the certificate hash from GET /api/v1/webtransport.
    let node = AtriumNode::start_with(true).await;
    let (stdout, json) = rooms_run(&node, "wt").await;
    assert_eq!(json["label"], "atrium-rooms-wt");
    // Poses went out as datagrams and peers saw them in snapshots that came in as datagrams.
    assert_walked_and_measured(&json, 50);
    let rooms = &json["rooms"];
    assert_eq!(rooms["transport"], "wt", "{rooms}");
    // Snapshots reached every client (a debug node on a loaded machine may skip ticks and
    // datagrams may be lost, so no rate is asked for beyond "they arrived").
    let per_client = rooms["snapshots_per_client_per_sec"].as_f64().unwrap();
    assert!(per_client > 0.0 && per_client <= 21.0, "{rooms}");
    assert!(rooms["snapshots"].as_u64().unwrap() >= 10 * 2, "{rooms}");
    let parts = rooms["snapshot_parts"].as_u64().unwrap();
    let datagrams = rooms["snapshot_datagrams"].as_u64().unwrap();
    assert!(datagrams > 0 && datagrams <= parts, "{rooms}");
    assert!(stdout.contains("over WebTransport datagrams"), "{stdout}");
    assert!(stdout.contains("parts as datagrams"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_run_streams_every_delta_once_through_the_mock_provider() {
    let node = AtriumNode::start().await;
    let (stdout, json) = node
        .run(&[
            "--scenario",
            "llm",
            "--streams",
            "10",
            "--users",
            "5",
            "--deltas",
            "8",
            "--delta-interval-ms",
            "10",
            "--duration",
            "5",
            "--drain",
            "5",
            "--processes",
            "2",
        ])
        .await;
    let llm = &json["llm"];
    assert_eq!(llm["accepted"], 10, "{llm}");
    assert_eq!(llm["done"], 10, "{llm}");
    assert_eq!(llm["failed"], 0, "{llm}");
    assert!(llm["errors"].as_object().unwrap().is_empty(), "{llm}");
    assert_eq!(llm["deltas"], 80, "{llm}");
    assert_eq!(llm["expected_deltas"], 80);
    assert_eq!(llm["provider_streams"], 10, "{llm}");
    assert!(llm["first_delta"]["count"].as_u64().unwrap() == 10, "{llm}");
    assert_eq!(json["latency"]["count"], 80, "one sample per delta");
    assert_eq!(json["integrity"]["streams"], 10);
    assert_eq!(json["integrity"]["totals"]["gaps"], 0);
    assert_eq!(json["integrity"]["totals"]["duplicates"], 0);
    assert!(stdout.contains("10 done"), "{stdout}");
    drop(node);
}
