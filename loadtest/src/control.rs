//! The conversation between the coordinator and its worker processes.
//!
//! One JSON object per line: the coordinator writes to a worker's stdin, the worker answers on
//! its stdout (its logs go to stderr). A run is a fixed sequence of phases:
//!
//! 1. `job` → the worker opens its standing sessions (subscribers, publishers) → `ready`;
//! 2. `go` (the shared start time) → the active phase: publishing, or opening and holding
//!    sessions (`held` once all are open), with `progress` twice a second → `published` (what
//!    each publisher had confirmed);
//! 3. `finish` (every publisher's confirmed totals, from all workers) → subscribers drain until
//!    they hold everything confirmed or the drain time is up → `report`.
//!
//! A worker whose stdin closes stops at once: the coordinator is gone or gave up.

use std::collections::BTreeMap;

use atrium_core::ids::{ChannelId, ConversationId, RoomId};
use serde::{Deserialize, Serialize};

use crate::config::LoadConfig;
use crate::counts::{LlmCounts, RoomCounts};
use crate::integrity::Integrity;
use crate::recorder::LatencySnapshot;
use crate::wire::wt::WtAnnouncement;

/// In the `connect` scenario, how long the server is left alone before each RSS sample (the
/// baseline after provisioning, and the loaded figure after the last session opened): long
/// enough for a server that hands freed memory back periodically (Atrium trims every 10 s) to
/// have done so, so both samples are steady states and their difference is what the sessions
/// hold, not what a burst left behind. Every target gets the same wait; workers hold their
/// sessions this long on top of `--hold`. Only when there is a server to sample
/// ([`memory_settle`]).
pub const MEMORY_SETTLE: std::time::Duration = std::time::Duration::from_secs(12);

/// The wait before each RSS sample of this run: [`MEMORY_SETTLE`] for a `connect` run with
/// `--server-pid`, nothing otherwise. The coordinator and the workers read it from the same
/// configuration, so the workers hold exactly as long as the coordinator waits.
pub fn memory_settle(config: &LoadConfig) -> std::time::Duration {
    if config.scenario == crate::config::ScenarioKind::Connect && config.output.server_pid.is_some()
    {
        MEMORY_SETTLE
    } else {
        std::time::Duration::ZERO
    }
}

/// What a worker is told to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub worker: u32,
    pub config: LoadConfig,
    /// Atrium access tokens, indexed by user.
    pub tokens: Vec<String>,
    /// Atrium channel ids, indexed by channel.
    pub channel_ids: Vec<ChannelId>,
    /// `rooms`: room ids, indexed by room.
    #[serde(default)]
    pub room_ids: Vec<RoomId>,
    /// `llm`: conversation ids, indexed by stream.
    #[serde(default)]
    pub conversation_ids: Vec<ConversationId>,
    /// `rooms --transport wt`: what the node announced at `GET /api/v1/webtransport`.
    #[serde(default)]
    pub webtransport: Option<WtAnnouncement>,
}

/// What each publisher had confirmed when publishing stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherOutcome {
    pub id: u32,
    pub channel: u32,
    /// Messages sent.
    pub sent: u64,
    /// Messages the server confirmed (Atrium `ok`, Socket.IO ack, NATS `PONG`).
    pub confirmed: u64,
    /// Atrium: the highest seq among the confirmations.
    pub max_seq: Option<i64>,
}

/// What subscribers must have received by the end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectations {
    /// Per publisher id, messages confirmed.
    #[serde(with = "pairs")]
    pub confirmed: BTreeMap<u32, u64>,
    /// Per channel index, the highest confirmed seq (Atrium).
    #[serde(with = "pairs")]
    pub last_seq: BTreeMap<u32, i64>,
}

/// Integer-keyed maps as `[[key, value], …]`: inside an internally tagged enum serde buffers
/// the content, and JSON object keys (always strings) no longer turn back into integers.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, V: Serialize + Copy>(
        map: &BTreeMap<u32, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u32, V)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        pairs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        d: D,
    ) -> Result<BTreeMap<u32, V>, D::Error> {
        Ok(Vec::<(u32, V)>::deserialize(d)?.into_iter().collect())
    }
}

impl Expectations {
    pub fn from_outcomes<'a>(outcomes: impl IntoIterator<Item = &'a PublisherOutcome>) -> Self {
        let mut e = Expectations::default();
        for o in outcomes {
            *e.confirmed.entry(o.id).or_default() += o.confirmed;
            if let Some(seq) = o.max_seq {
                let last = e.last_seq.entry(o.channel).or_insert(seq);
                *last = (*last).max(seq);
            }
        }
        e
    }
}

/// Live counters for the progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub connected: u64,
    pub connect_failed: u64,
    pub published: u64,
    pub confirmed: u64,
    pub deliveries: u64,
    pub errors: u64,
}

/// Everything a worker measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    pub latency: LatencySnapshot,
    pub ack_latency: LatencySnapshot,
    pub connect_latency: LatencySnapshot,
    /// Deliveries to the measured subscribers.
    pub deliveries: u64,
    /// Deliveries the measured subscribers should have had (from the confirmations).
    pub expected_deliveries: u64,
    /// Deliveries to churning `soak` sessions (not part of latency or integrity).
    pub churn_deliveries: u64,
    pub churn_connects: u64,
    pub published: u64,
    pub confirmed: u64,
    pub connected: u64,
    pub connect_failed: u64,
    pub reconnects: u64,
    pub errors: BTreeMap<String, u64>,
    pub integrity: Integrity,
    /// First and last delivery, microseconds since the epoch (0 if none).
    pub first_delivery_us: u64,
    pub last_delivery_us: u64,
    /// CPU time this worker process used.
    pub cpu_seconds: f64,
    #[serde(default)]
    pub rooms: RoomCounts,
    #[serde(default)]
    pub llm: LlmCounts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    Job(Box<Job>),
    Go { start_us: u64 },
    Finish { expectations: Expectations },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// Standing sessions are open; `cpu_seconds` so far (the active phase is measured apart).
    Ready {
        connected: u64,
        failed: u64,
        cpu_seconds: f64,
    },
    Progress(Progress),
    Held {
        connected: u64,
        failed: u64,
    },
    Published {
        outcomes: Vec<PublisherOutcome>,
        cpu_seconds: f64,
    },
    Report(Box<WorkerReport>),
    Failed {
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connect_run_with_a_server_to_sample_waits_for_its_memory_to_settle() {
        let mut config = LoadConfig {
            scenario: crate::config::ScenarioKind::Connect,
            ..LoadConfig::default()
        };
        assert_eq!(
            memory_settle(&config),
            std::time::Duration::ZERO,
            "no server pid"
        );
        config.output.server_pid = Some(1);
        assert_eq!(memory_settle(&config), MEMORY_SETTLE);
        config.scenario = crate::config::ScenarioKind::Fanout;
        assert_eq!(memory_settle(&config), std::time::Duration::ZERO, "fanout");
    }

    #[test]
    fn expectations_sum_confirmations_and_keep_the_highest_seq() {
        let outcomes = [
            PublisherOutcome {
                id: 0,
                channel: 0,
                sent: 12,
                confirmed: 10,
                max_seq: Some(25),
            },
            PublisherOutcome {
                id: 1,
                channel: 0,
                sent: 15,
                confirmed: 15,
                max_seq: Some(24),
            },
            PublisherOutcome {
                id: 2,
                channel: 1,
                sent: 3,
                confirmed: 3,
                max_seq: None,
            },
        ];
        let e = Expectations::from_outcomes(&outcomes);
        assert_eq!(e.confirmed[&0], 10);
        assert_eq!(e.confirmed[&2], 3);
        assert_eq!(e.last_seq[&0], 25);
        assert!(!e.last_seq.contains_key(&1));
    }

    #[test]
    fn messages_are_one_json_line_each() {
        let line = serde_json::to_string(&ToWorker::Go { start_us: 7 }).unwrap();
        assert_eq!(line, r#"{"type":"go","start_us":7}"#);
        let back: FromWorker =
            serde_json::from_str(r#"{"type":"ready","connected":3,"failed":0,"cpu_seconds":0.5}"#)
                .unwrap();
        assert!(matches!(back, FromWorker::Ready { connected: 3, .. }));
        let finish = ToWorker::Finish {
            expectations: Expectations {
                confirmed: BTreeMap::from([(3, 9)]),
                last_seq: BTreeMap::from([(1, 42)]),
            },
        };
        let json = serde_json::to_string(&finish).unwrap();
        let ToWorker::Finish { expectations } = serde_json::from_str(&json).unwrap() else {
            panic!("{json}");
        };
        assert_eq!(expectations.confirmed[&3], 9);
        assert_eq!(expectations.last_seq[&1], 42);
        let mut errors = WorkerReport::default();
        errors.errors.insert("rate_limited".into(), 2);
        let json = serde_json::to_string(&FromWorker::Report(Box::new(errors))).unwrap();
        let FromWorker::Report(back) = serde_json::from_str(&json).unwrap() else {
            panic!("{json}");
        };
        assert_eq!(back.errors["rate_limited"], 2);
        let report = FromWorker::Report(Box::default());
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains('\n'));
        assert!(matches!(
            serde_json::from_str::<FromWorker>(&json).unwrap(),
            FromWorker::Report(_)
        ));
    }
}
