//! The result of a run: merged from every worker, with the rates and ratios computed once here.
//!
//! The JSON file is this structure; the comparison table and the plots are made from it, so a
//! figure in `docs/benchmarks.md` can always be traced to a report and the command in it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::config::LoadConfig;
use crate::control::WorkerReport;
use crate::counts::{LlmCounts, RoomCounts};
use crate::feature_report::{LlmSummary, RoomsSummary};
use crate::integrity::Integrity;
use crate::recorder::{LatencyRecorder, LatencySummary, TimelinePoint};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Sessions the scenario asked for (standing ones; churning `soak` sessions are apart).
    pub requested: u64,
    pub connected: u64,
    pub failed: u64,
    /// TCP + WebSocket + greeting + subscription.
    pub connect_latency: LatencySummary,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FanoutSummary {
    pub channels: u32,
    pub members: u32,
    pub publishers: u64,
    /// Offered messages per second (0 = as fast as confirmations allowed).
    pub offered_rate_per_sec: u64,
    pub published: u64,
    pub confirmed: u64,
    /// Confirmed messages per second of publishing time.
    pub publish_rate_per_sec: f64,
    pub deliveries: u64,
    /// Deliveries due from the confirmed messages (confirmed × members, roughly).
    pub expected_deliveries: u64,
    /// Deliveries per second from the start until the last delivery.
    pub deliveries_per_sec: f64,
    /// Seconds from the start until the last delivery.
    pub delivery_window_secs: f64,
    /// Publish → server confirmation (Atrium: after commit).
    pub ack_latency: LatencySummary,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChurnSummary {
    pub connects: u64,
    pub deliveries: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSample {
    pub pid: u32,
    pub rss_before_kib: u64,
    /// After all sessions were open (connect) or at the end of publishing (fanout).
    pub rss_loaded_kib: u64,
    /// (loaded − before) / sessions open, bytes.
    pub rss_per_session_bytes: f64,
    /// CPU seconds the server used during the active phase, and the same per second of it.
    pub cpu_seconds: f64,
    pub cpu_cores: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneratorSummary {
    pub processes: u32,
    pub source_addrs: Vec<String>,
    pub cpu_seconds: f64,
    pub cpu_cores: f64,
}

/// One run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub label: String,
    pub target: String,
    pub scenario: String,
    /// The command line that produced this report.
    pub command: String,
    pub started_at_unix_ms: u64,
    /// The machine's 1-minute load average when the run started (other work competes for CPU).
    pub load_average: f64,
    /// Seconds of the active phase (publishing, or opening + holding).
    pub active_secs: f64,
    pub config: LoadConfig,
    pub sessions: SessionSummary,
    pub fanout: Option<FanoutSummary>,
    pub churn: Option<ChurnSummary>,
    #[serde(default)]
    pub rooms: Option<RoomsSummary>,
    #[serde(default)]
    pub llm: Option<LlmSummary>,
    /// End-to-end delivery latency (payload timestamp → subscriber; rooms: a peer's `pos` send
    /// → the first snapshot showing it; llm: the mock's write → the delta's arrival).
    pub latency: LatencySummary,
    pub errors: BTreeMap<String, u64>,
    pub reconnects: u64,
    pub integrity: Integrity,
    /// `seq` (Atrium) or `publisher counter` (peers).
    pub integrity_basis: String,
    pub server: Option<ServerSample>,
    pub generator: GeneratorSummary,
    pub timeline: Vec<TimelinePoint>,
    /// `(latency ms, count)` per histogram bucket.
    pub latency_buckets: Vec<(f64, u64)>,
}

/// Everything the coordinator knows besides the worker reports.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    pub command: String,
    pub started_at_unix_ms: u64,
    pub load_average: f64,
    pub start_us: u64,
    pub active_secs: f64,
    pub server: Option<ServerSample>,
}

/// Deliveries per second over the window from `start_us` to the last delivery (at least 1 ms,
/// so a run with one delivery does not divide by zero).
pub fn delivery_rate(deliveries: u64, start_us: u64, last_delivery_us: u64) -> (f64, f64) {
    if deliveries == 0 {
        return (0.0, 0.0);
    }
    let window = (last_delivery_us.saturating_sub(start_us) as f64 / 1e6).max(1e-3);
    (deliveries as f64 / window, window)
}

/// Memory per session in bytes, from RSS in KiB (0 when no session was open).
pub fn per_session_bytes(before_kib: u64, after_kib: u64, sessions: u64) -> f64 {
    if sessions == 0 {
        return 0.0;
    }
    (after_kib.saturating_sub(before_kib) as f64 * 1024.0) / sessions as f64
}

impl Report {
    pub fn build(config: &LoadConfig, workers: &[WorkerReport], facts: RunFacts) -> Report {
        let mut latency = LatencyRecorder::default();
        let mut acks = LatencyRecorder::default();
        let mut connects = LatencyRecorder::default();
        let mut errors = BTreeMap::new();
        let mut integrity = Integrity::default();
        let mut w = WorkerReport::default();
        let mut room_counts = RoomCounts::default();
        let mut llm_counts = LlmCounts::default();
        let mut first_delta = LatencyRecorder::default();
        for r in workers {
            room_counts.merge(&r.rooms);
            llm_counts.merge(&r.llm);
            first_delta.merge(&LatencyRecorder::from_snapshot(&r.llm.first_delta));
            latency.merge(&LatencyRecorder::from_snapshot(&r.latency));
            acks.merge(&LatencyRecorder::from_snapshot(&r.ack_latency));
            connects.merge(&LatencyRecorder::from_snapshot(&r.connect_latency));
            for (code, n) in &r.errors {
                *errors.entry(code.clone()).or_insert(0) += n;
            }
            integrity.merge(&r.integrity);
            w.deliveries += r.deliveries;
            w.expected_deliveries += r.expected_deliveries;
            w.churn_deliveries += r.churn_deliveries;
            w.churn_connects += r.churn_connects;
            w.published += r.published;
            w.confirmed += r.confirmed;
            w.connected += r.connected;
            w.connect_failed += r.connect_failed;
            w.reconnects += r.reconnects;
            w.last_delivery_us = w.last_delivery_us.max(r.last_delivery_us);
            w.cpu_seconds += r.cpu_seconds;
        }
        let scenario = config.scenario;
        let uses_fanout = matches!(
            scenario,
            crate::config::ScenarioKind::Fanout | crate::config::ScenarioKind::Soak
        );
        let requested = match scenario {
            crate::config::ScenarioKind::Connect => config.connect.sessions,
            _ => {
                config.total_sessions()
                    - if uses_fanout {
                        config.soak_sessions()
                    } else {
                        0
                    }
            }
        };
        let fanout = uses_fanout.then(|| {
            let f = &config.fanout;
            let (deliveries_per_sec, window) =
                delivery_rate(w.deliveries, facts.start_us, w.last_delivery_us);
            FanoutSummary {
                channels: f.channels,
                members: f.members,
                publishers: u64::from(f.channels) * u64::from(f.publishers_per_channel),
                offered_rate_per_sec: f.rate_per_sec,
                published: w.published,
                confirmed: w.confirmed,
                publish_rate_per_sec: w.confirmed as f64 / facts.active_secs.max(1e-3),
                deliveries: w.deliveries,
                expected_deliveries: w.expected_deliveries,
                deliveries_per_sec,
                delivery_window_secs: window,
                ack_latency: acks.summary(),
            }
        });
        let churn = (scenario == crate::config::ScenarioKind::Soak).then_some(ChurnSummary {
            connects: w.churn_connects,
            deliveries: w.churn_deliveries,
        });
        Report {
            label: config.label(),
            target: config.target.kind.as_str().to_owned(),
            scenario: scenario.as_str().to_owned(),
            command: facts.command,
            started_at_unix_ms: facts.started_at_unix_ms,
            load_average: facts.load_average,
            active_secs: facts.active_secs,
            config: config.clone(),
            sessions: SessionSummary {
                requested,
                connected: w.connected,
                failed: w.connect_failed,
                connect_latency: connects.summary(),
            },
            fanout,
            churn,
            rooms: (scenario == crate::config::ScenarioKind::Rooms)
                .then(|| RoomsSummary::build(config, &room_counts)),
            llm: (scenario == crate::config::ScenarioKind::Llm)
                .then(|| LlmSummary::build(config, &llm_counts, &first_delta)),
            latency: latency.summary(),
            errors,
            reconnects: w.reconnects,
            integrity,
            integrity_basis: match (scenario, config.target.kind) {
                (crate::config::ScenarioKind::Rooms, _) => "none (poses are not a sequence)",
                (crate::config::ScenarioKind::Llm, _) => "delta seq per stream",
                (_, crate::config::TargetKind::Atrium) => "seq",
                _ => "publisher counter",
            }
            .to_owned(),
            server: facts.server,
            generator: GeneratorSummary {
                processes: config.run.processes,
                source_addrs: config.run.source_addrs.clone(),
                cpu_seconds: w.cpu_seconds,
                cpu_cores: 0.0,
            },
            timeline: latency.timeline(),
            latency_buckets: latency.buckets(),
        }
    }

    /// The human summary printed at the end of a run.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — {} against {}",
            self.label, self.scenario, self.target
        );
        let c = &self.sessions;
        let _ = writeln!(
            s,
            "sessions      {} of {} open, {} failed; connect p50 {:.1} ms, p99 {:.1} ms",
            c.connected, c.requested, c.failed, c.connect_latency.p50_ms, c.connect_latency.p99_ms
        );
        if let Some(f) = &self.fanout {
            let _ = writeln!(
                s,
                "publishing    {} channels × {} members, {} publishers: {} sent, {} confirmed ({:.0}/s, offered {})",
                f.channels,
                f.members,
                f.publishers,
                f.published,
                f.confirmed,
                f.publish_rate_per_sec,
                if f.offered_rate_per_sec == 0 {
                    "unlimited".to_owned()
                } else {
                    format!("{}/s", f.offered_rate_per_sec)
                }
            );
            let _ = writeln!(
                s,
                "deliveries    {} of {} due, {:.0}/s over {:.1} s",
                f.deliveries, f.expected_deliveries, f.deliveries_per_sec, f.delivery_window_secs
            );
            let a = &f.ack_latency;
            let _ = writeln!(
                s,
                "confirmation  p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                a.p50_ms, a.p99_ms, a.max_ms
            );
        }
        if let Some(rooms) = &self.rooms {
            rooms.text(&mut s);
        }
        if let Some(llm) = &self.llm {
            llm.text(&mut s);
        }
        let measured_deliveries = self.scenario != "connect";
        let l = &self.latency;
        if measured_deliveries {
            let _ = writeln!(
                s,
                "latency       p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} samples)",
                l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.count
            );
        }
        let i = &self.integrity;
        if measured_deliveries && self.rooms.is_none() {
            let _ = writeln!(
                s,
                "integrity     by {}: {} gaps, {} duplicates, {} reordered over {} subscribers ({})",
                self.integrity_basis,
                i.totals.gaps,
                i.totals.duplicates,
                i.totals.reordered,
                i.subscribers,
                if i.is_clean() { "clean" } else { "NOT CLEAN" }
            );
        }
        if let Some(churn) = &self.churn {
            let _ = writeln!(
                s,
                "churn         {} connects, {} deliveries to churning sessions",
                churn.connects, churn.deliveries
            );
        }
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "errors        {errors}; reconnects {}", self.reconnects);
        if let Some(server) = &self.server {
            let _ = writeln!(
                s,
                "server        RSS {} → {} KiB ({:.0} B per session), CPU {:.1} s ({:.2} cores)",
                server.rss_before_kib,
                server.rss_loaded_kib,
                server.rss_per_session_bytes,
                server.cpu_seconds,
                server.cpu_cores
            );
        }
        let g = &self.generator;
        let _ = writeln!(
            s,
            "generator     {} process(es), CPU {:.1} s ({:.2} cores)",
            g.processes, g.cpu_seconds, g.cpu_cores
        );
        s
    }
}

impl LoadConfig {
    /// Churning sessions (`soak` only).
    pub fn soak_sessions(&self) -> u64 {
        if self.scenario == crate::config::ScenarioKind::Soak {
            self.soak.churn_sessions
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::LatencyRecorder;

    #[test]
    fn delivery_rate_divides_by_the_window_to_the_last_delivery() {
        let (rate, window) = delivery_rate(1_000_000, 10_000_000, 30_000_000);
        assert_eq!(window, 20.0);
        assert_eq!(rate, 50_000.0);
        assert_eq!(delivery_rate(0, 5, 10), (0.0, 0.0));
        // A single delivery at the very start does not divide by zero.
        assert_eq!(delivery_rate(1, 5, 5).0, 1000.0);
    }

    #[test]
    fn memory_per_session_is_growth_over_sessions() {
        assert_eq!(per_session_bytes(100_000, 119_000, 1000), 19_456.0);
        assert_eq!(
            per_session_bytes(100, 50, 10),
            0.0,
            "shrinking RSS is not negative memory"
        );
        assert_eq!(per_session_bytes(1, 2, 0), 0.0);
    }

    #[test]
    fn worker_reports_merge_into_one() {
        let mut config = LoadConfig::default();
        config.fanout.channels = 2;
        config.fanout.members = 3;
        let mut a = LatencyRecorder::default();
        a.record(0, 1_000);
        let mut b = LatencyRecorder::default();
        b.record(1, 3_000);
        let mut integrity = Integrity::default();
        integrity.add_subscriber(&[crate::integrity::StreamCounts {
            received: 2,
            ..Default::default()
        }]);
        let workers = [
            WorkerReport {
                latency: a.snapshot(),
                deliveries: 1,
                expected_deliveries: 1,
                confirmed: 1,
                published: 1,
                connected: 5,
                errors: BTreeMap::from([("rate_limited".to_owned(), 2)]),
                integrity,
                last_delivery_us: 2_000_000,
                ..Default::default()
            },
            WorkerReport {
                latency: b.snapshot(),
                deliveries: 1,
                expected_deliveries: 1,
                connected: 3,
                errors: BTreeMap::from([("rate_limited".to_owned(), 1)]),
                integrity,
                last_delivery_us: 3_000_000,
                ..Default::default()
            },
        ];
        let facts = RunFacts {
            start_us: 1_000_000,
            active_secs: 1.0,
            ..Default::default()
        };
        let r = Report::build(&config, &workers, facts);
        assert_eq!(r.latency.count, 2);
        assert_eq!(r.errors["rate_limited"], 3);
        assert_eq!(r.sessions.connected, 8);
        assert_eq!(r.sessions.requested, 2 * 3 + 2);
        assert_eq!(r.integrity.subscribers, 2);
        let f = r.fanout.as_ref().unwrap();
        assert_eq!(f.deliveries, 2);
        assert_eq!(f.deliveries_per_sec, 1.0, "2 deliveries over 2 s");
        assert_eq!(r.timeline.len(), 2);
        assert!(r.text().contains("integrity     by seq: 0 gaps"));
        let json = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
