//! Round trips through a node on loopback: a WebTransport `echo` datagram, and a `ping` frame on
//! the WebTransport control stream and on WebSocket for comparison. One request at a time, so
//! each sample is one full round trip (client → gateway → client), not a throughput figure.
//!
//! `cargo bench -p atrium-gateway --bench wt_rtt` (optionally `-- <samples>`); the results are
//! recorded in docs/benchmarks.md.

#[path = "../tests/ws_support/mod.rs"]
mod ws_support;
#[path = "../tests/wt_support/mod.rs"]
mod wt_support;

use std::time::{Duration, Instant};

use atrium_core::protocol::{ClientFrame, Datagram, ServerFrame};
use atrium_gateway::webtransport::WtConfig;

use wt_support::{WtNode, test_config};

const DEFAULT_SAMPLES: usize = 20_000;
const WARMUP: usize = 500;

fn main() {
    let samples = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(DEFAULT_SAMPLES);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(samples));
}

async fn run(samples: usize) {
    // The echo loop runs far above a real client's datagram rate.
    let wt = WtConfig {
        datagram_rate_per_second: 1e9,
        datagram_burst: 1e9,
        ..test_config()
    };
    let node = WtNode::start_with(ws_support::unlimited(), wt).await;
    let ann = node.node.register("ann").await;
    let mut quic = node.hello(&ann.token).await;
    let tcp = node.node.client(&ann).await;

    let echo = |n: u64| {
        let quic = &quic;
        async move {
            quic.send_datagram(Datagram::Echo { n });
            assert_eq!(quic.datagram().await, Datagram::Echo { n });
        }
    };
    for n in 0..WARMUP as u64 {
        echo(n).await;
    }
    let mut datagram = Vec::with_capacity(samples);
    for n in 0..samples as u64 {
        let started = Instant::now();
        echo(n).await;
        datagram.push(started.elapsed());
    }

    let mut wt_ping = Vec::with_capacity(samples);
    for i in 0..(WARMUP + samples) {
        let rid = quic.rid();
        let started = Instant::now();
        let reply = quic.request(ClientFrame::Ping { rid }).await;
        assert_eq!(reply, ServerFrame::Pong { rid });
        if i >= WARMUP {
            wt_ping.push(started.elapsed());
        }
    }

    let mut ws_ping = Vec::with_capacity(samples);
    for i in 0..(WARMUP + samples) {
        let started = Instant::now();
        tcp.ping().await.expect("ping");
        if i >= WARMUP {
            ws_ping.push(started.elapsed());
        }
    }

    println!("round trips through the node on loopback, {samples} sequential samples each");
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>9}",
        "", "p50", "p90", "p99", "max"
    );
    report("WebTransport datagram echo", datagram);
    report("WebTransport control stream ping", wt_ping);
    report("WebSocket ping", ws_ping);
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |p: f64| {
        let index = ((samples.len() as f64 * p) as usize).min(samples.len() - 1);
        format!("{:.1} µs", samples[index].as_secs_f64() * 1e6)
    };
    println!(
        "{name:<40} {:>9} {:>9} {:>9} {:>9}",
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    );
}
