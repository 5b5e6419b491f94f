//! What the `rooms` and `llm` scenarios count besides latency and integrity: per worker, sent to
//! the coordinator in the worker's report, and summed there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::recorder::LatencySnapshot;

/// One worker's avatars.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoomCounts {
    /// Avatars that joined their room.
    pub joined: u64,
    /// Poses sent during the active phase.
    pub poses: u64,
    /// Complete snapshots (every part of a tick) received during the active phase.
    pub snapshots: u64,
    /// Snapshot parts received during the active phase, and their `data` bytes.
    pub snapshot_parts: u64,
    pub snapshot_bytes: u64,
    /// Parts as they arrived: whole `room.snapshot` frames, or `snap` datagrams.
    pub snapshot_frame_bytes: u64,
    /// Parts that came as `snap` datagrams (WebTransport).
    pub snapshot_datagrams: u64,
    /// Ticks between a client's first and last complete snapshot of the walk that it has no
    /// complete snapshot of (skipped by the server, or a datagram lost).
    pub missed_ticks: u64,
    /// Of those, ticks of which some parts arrived but not all.
    pub incomplete_ticks: u64,
    /// Complete snapshots that were deltas against an acknowledged view.
    pub delta_snapshots: u64,
    /// Parts whose baseline the client did not hold, or that did not decode.
    pub unusable_parts: u64,
    pub gain_updates: u64,
    /// `room.correction` reasons, counted one by one.
    pub corrections: BTreeMap<String, u64>,
    /// Avatars whose watched peer's pose was measured at least once.
    pub measured_pairs: u64,
}

impl RoomCounts {
    pub fn merge(&mut self, o: &RoomCounts) {
        self.joined += o.joined;
        self.poses += o.poses;
        self.snapshots += o.snapshots;
        self.snapshot_parts += o.snapshot_parts;
        self.snapshot_bytes += o.snapshot_bytes;
        self.snapshot_frame_bytes += o.snapshot_frame_bytes;
        self.snapshot_datagrams += o.snapshot_datagrams;
        self.missed_ticks += o.missed_ticks;
        self.incomplete_ticks += o.incomplete_ticks;
        self.delta_snapshots += o.delta_snapshots;
        self.unusable_parts += o.unusable_parts;
        self.gain_updates += o.gain_updates;
        self.measured_pairs += o.measured_pairs;
        for (reason, n) in &o.corrections {
            *self.corrections.entry(reason.clone()).or_default() += n;
        }
    }
}

/// One worker's LLM streams.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmCounts {
    /// `llm.start` requests sent, and accepted (`ok {stream}`).
    pub requested: u64,
    pub accepted: u64,
    /// `llm.done` and `llm.error` pushes.
    pub done: u64,
    pub failed: u64,
    /// `llm.error` codes, and `err` replies to `llm.start`, by code.
    pub errors: BTreeMap<String, u64>,
    pub deltas: u64,
    /// `llm.start` sent → first `llm.delta` of that stream.
    pub first_delta: LatencySnapshot,
    /// First and last delta, microseconds since the epoch (0 if none).
    pub first_delta_us: u64,
    pub last_delta_us: u64,
}

impl LlmCounts {
    pub fn merge(&mut self, o: &LlmCounts) {
        self.requested += o.requested;
        self.accepted += o.accepted;
        self.done += o.done;
        self.failed += o.failed;
        self.deltas += o.deltas;
        for (code, n) in &o.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
        if o.first_delta_us != 0
            && (self.first_delta_us == 0 || o.first_delta_us < self.first_delta_us)
        {
            self.first_delta_us = o.first_delta_us;
        }
        self.last_delta_us = self.last_delta_us.max(o.last_delta_us);
    }
}
