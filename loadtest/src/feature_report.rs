//! The report sections of `rooms` and `llm`: the counts of every worker summed, and the rates a
//! reader compares (snapshots per client per second against the tick rate, deltas per second).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::config::{LoadConfig, RoomTransport};
use crate::counts::{LlmCounts, RoomCounts};
use crate::recorder::{LatencyRecorder, LatencySummary};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoomsSummary {
    pub rooms: u32,
    pub avatars_per_room: u32,
    pub template: String,
    /// `ws` or `wt` in the JSON report.
    pub transport: RoomTransport,
    /// Avatars that joined.
    pub joined: u64,
    pub pos_hz: u32,
    /// The server tick rate the snapshot rate is compared with.
    pub tick_hz: u32,
    pub poses: u64,
    /// Complete snapshots per joined avatar per second of walking.
    pub snapshots: u64,
    pub snapshots_per_client_per_sec: f64,
    /// `snapshots_per_client_per_sec / tick_hz` (1.0: one snapshot every tick).
    pub snapshot_rate_of_ticks: f64,
    pub delta_share: f64,
    /// Snapshot `data` bytes, and whole frames, per joined avatar per second.
    pub snapshot_bytes_per_client_per_sec: f64,
    pub snapshot_frame_bytes_per_client_per_sec: f64,
    pub snapshot_parts: u64,
    /// Parts that came as `snap` datagrams (the rest came as `room.snapshot` frames).
    pub snapshot_datagrams: u64,
    /// Ticks between a client's first and last complete snapshot without one (skipped by the
    /// server, or lost as datagrams), summed over clients; `incomplete_ticks` of them had
    /// some parts arrive.
    pub missed_ticks: u64,
    pub incomplete_ticks: u64,
    /// `missed_ticks / (missed_ticks + snapshots)`.
    pub missed_tick_share: f64,
    pub unusable_parts: u64,
    pub gain_updates: u64,
    /// `room.correction` reasons.
    pub corrections: BTreeMap<String, u64>,
    /// Avatars whose peer's moves were measured (the latency is of those).
    pub measured_pairs: u64,
}

impl RoomsSummary {
    pub fn build(config: &LoadConfig, c: &RoomCounts) -> Self {
        let r = &config.rooms;
        let client_secs = (c.joined as f64 * config.run.duration_secs as f64).max(1e-9);
        let per_client = c.snapshots as f64 / client_secs;
        Self {
            rooms: r.rooms,
            avatars_per_room: r.avatars,
            template: r.template.clone(),
            transport: r.transport,
            joined: c.joined,
            pos_hz: r.pos_hz,
            tick_hz: r.tick_hz,
            poses: c.poses,
            snapshots: c.snapshots,
            snapshots_per_client_per_sec: per_client,
            snapshot_rate_of_ticks: per_client / f64::from(r.tick_hz.max(1)),
            delta_share: c.delta_snapshots as f64 / (c.snapshots as f64).max(1.0),
            snapshot_bytes_per_client_per_sec: c.snapshot_bytes as f64 / client_secs,
            snapshot_frame_bytes_per_client_per_sec: c.snapshot_frame_bytes as f64 / client_secs,
            snapshot_parts: c.snapshot_parts,
            snapshot_datagrams: c.snapshot_datagrams,
            missed_ticks: c.missed_ticks,
            incomplete_ticks: c.incomplete_ticks,
            missed_tick_share: c.missed_ticks as f64
                / ((c.missed_ticks + c.snapshots) as f64).max(1.0),
            unusable_parts: c.unusable_parts,
            gain_updates: c.gain_updates,
            corrections: c.corrections.clone(),
            measured_pairs: c.measured_pairs,
        }
    }

    pub fn text(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "rooms         {} × {} avatars ({}, over {}): {} joined, {} poses at {} Hz",
            self.rooms,
            self.avatars_per_room,
            self.template,
            self.transport.describe(),
            self.joined,
            self.poses,
            self.pos_hz
        );
        let _ = writeln!(
            s,
            "snapshots     {:.1} per client per second ({:.0}% of {} Hz ticks, {:.0}% deltas), {:.0} B/s per client ({:.0} B/s as frames)",
            self.snapshots_per_client_per_sec,
            self.snapshot_rate_of_ticks * 100.0,
            self.tick_hz,
            self.delta_share * 100.0,
            self.snapshot_bytes_per_client_per_sec,
            self.snapshot_frame_bytes_per_client_per_sec
        );
        let _ = writeln!(
            s,
            "delivery      {} of {} parts as datagrams; {} ticks missed ({:.2}% of ticks; {} with parts lost)",
            self.snapshot_datagrams,
            self.snapshot_parts,
            self.missed_ticks,
            self.missed_tick_share * 100.0,
            self.incomplete_ticks
        );
        let corrections = if self.corrections.is_empty() {
            "none".to_owned()
        } else {
            join(&self.corrections)
        };
        let _ = writeln!(
            s,
            "corrections   {corrections}; {} unusable parts; {} gain updates; {} of {} avatars measured a peer",
            self.unusable_parts, self.gain_updates, self.measured_pairs, self.joined
        );
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmSummary {
    pub streams: u32,
    pub deltas_per_stream: u32,
    pub delta_interval_ms: u64,
    pub requested: u64,
    pub accepted: u64,
    pub done: u64,
    pub failed: u64,
    /// `llm.error` codes, refused `llm.start`s, and `unfinished` streams.
    pub errors: BTreeMap<String, u64>,
    pub deltas: u64,
    /// Accepted streams × deltas per stream.
    pub expected_deltas: u64,
    /// Deltas per second between the first and the last.
    pub deltas_per_sec: f64,
    /// `llm.start` sent → the stream's first delta.
    pub first_delta: LatencySummary,
    /// Requests the mock provider served (streamed, and others such as titles).
    pub provider_streams: u64,
    pub provider_other_requests: u64,
}

impl LlmSummary {
    pub fn build(config: &LoadConfig, c: &LlmCounts, first_delta: &LatencyRecorder) -> Self {
        let l = &config.llm;
        let window = (c.last_delta_us.saturating_sub(c.first_delta_us) as f64 / 1e6).max(1e-3);
        Self {
            streams: l.streams,
            deltas_per_stream: l.deltas,
            delta_interval_ms: l.delta_interval_ms,
            requested: c.requested,
            accepted: c.accepted,
            done: c.done,
            failed: c.failed,
            errors: c.errors.clone(),
            deltas: c.deltas,
            expected_deltas: c.accepted * u64::from(l.deltas),
            deltas_per_sec: if c.deltas == 0 {
                0.0
            } else {
                c.deltas as f64 / window
            },
            first_delta: first_delta.summary(),
            provider_streams: 0,
            provider_other_requests: 0,
        }
    }

    pub fn text(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "streams       {} requested, {} accepted, {} done, {} failed ({} deltas each, every {} ms; provider saw {} streams)",
            self.requested,
            self.accepted,
            self.done,
            self.failed,
            self.deltas_per_stream,
            self.delta_interval_ms,
            self.provider_streams
        );
        let f = &self.first_delta;
        let _ = writeln!(
            s,
            "deltas        {} of {} due, {:.0}/s; first delta p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.deltas, self.expected_deltas, self.deltas_per_sec, f.p50_ms, f.p99_ms, f.max_ms
        );
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            join(&self.errors)
        };
        let _ = writeln!(s, "llm errors    {errors}");
    }
}

fn join(map: &BTreeMap<String, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScenarioKind;

    #[test]
    fn room_rates_are_per_joined_client_per_second_of_walking() {
        let mut config = LoadConfig {
            scenario: ScenarioKind::Rooms,
            ..LoadConfig::default()
        };
        config.run.duration_secs = 10;
        let counts = RoomCounts {
            joined: 4,
            snapshots: 760,
            delta_snapshots: 740,
            snapshot_bytes: 40_000,
            snapshot_parts: 760,
            snapshot_datagrams: 750,
            missed_ticks: 40,
            incomplete_ticks: 2,
            ..RoomCounts::default()
        };
        config.rooms.transport = RoomTransport::Wt;
        let r = RoomsSummary::build(&config, &counts);
        assert_eq!(r.transport, RoomTransport::Wt);
        assert_eq!(serde_json::to_value(&r).unwrap()["transport"], "wt");
        assert_eq!(r.missed_tick_share, 0.05);
        assert_eq!(r.snapshots_per_client_per_sec, 19.0);
        assert_eq!(r.snapshot_rate_of_ticks, 0.95);
        assert_eq!(r.snapshot_bytes_per_client_per_sec, 1000.0);
        let mut text = String::new();
        r.text(&mut text);
        assert!(
            text.contains("19.0 per client per second (95% of 20 Hz ticks"),
            "{text}"
        );
        assert!(text.contains("over WebTransport datagrams"), "{text}");
        assert!(
            text.contains(
                "750 of 760 parts as datagrams; 40 ticks missed (5.00% of ticks; 2 with parts lost)"
            ),
            "{text}"
        );
    }

    #[test]
    fn llm_rates_use_the_window_between_first_and_last_delta() {
        let config = LoadConfig {
            scenario: ScenarioKind::Llm,
            ..LoadConfig::default()
        };
        let counts = LlmCounts {
            accepted: 10,
            deltas: 200,
            first_delta_us: 1_000_000,
            last_delta_us: 3_000_000,
            ..LlmCounts::default()
        };
        let l = LlmSummary::build(&config, &counts, &LatencyRecorder::default());
        assert_eq!(l.deltas_per_sec, 100.0);
        assert_eq!(l.expected_deltas, 200);
    }
}
