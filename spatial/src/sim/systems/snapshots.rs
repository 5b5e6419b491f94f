//! Per client: collect what it sees, delta-code against what it acknowledged, encode, split.
//!
//! This runs for every client every tick, so it reuses its buffers: the view vectors cycle
//! through each client's snapshot history, the diff lists live in the system's `Local`.

use bevy_ecs::system::{Local, Query, Res, ResMut};

use crate::ids::AvatarId;
use crate::messages::{RoomSnapshot, SpatialOutput};
use crate::sim::components::{Avatar, Interest, Roster, SnapshotState};
use crate::sim::resources::{Outbox, Settings, SimStats, SimTick};
use crate::snapshot::{AvatarChange, Delivery, View, diff_into, encode_snapshot};
use crate::telemetry;

#[derive(Default)]
pub(crate) struct Scratch {
    removed: Vec<AvatarId>,
    changes: Vec<AvatarChange>,
}

pub(crate) fn build_snapshots(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<SimStats>,
    mut scratch: Local<Scratch>,
    rooms: Query<&Roster>,
    mut viewers: Query<(&Avatar, &Interest, &mut SnapshotState)>,
) {
    let config = &settings.0;
    let now = tick.0;
    let (mut full, mut delta, mut stream, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let Scratch { removed, changes } = &mut *scratch;
    for (viewer, interest, mut state) in &mut viewers {
        let Ok(roster) = rooms.get(viewer.room) else {
            continue;
        };
        let history = &mut state.history;
        let mut states = history.take_buffer();
        // Interest holds each member once, in roster (= avatar id) order: a valid view as is.
        states.extend(
            interest
                .visible
                .iter()
                .filter_map(|visible| roster.0.get(visible.member as usize))
                .map(|member| member.state),
        );
        let view = View::from_sorted_unique(states);

        let baseline = history.baseline(now, config.ack_window);
        let baseline_tick = baseline.as_ref().map(|(t, _)| *t);
        diff_into(baseline.map(|(_, v)| v), &view, removed, changes);
        let has_changes = !removed.is_empty() || !changes.is_empty();
        if !history.due(now, has_changes, config.snapshot_keepalive_ticks) {
            history.recycle(view);
            continue;
        }
        let encoded = encode_snapshot(
            now,
            baseline_tick,
            removed,
            changes,
            config.max_datagram_bytes,
            config.max_datagram_parts,
        );
        history.record_sent(now, view, config.ack_window);

        match (encoded.delivery, baseline_tick) {
            (Delivery::Stream, _) => stream += 1,
            (Delivery::Datagrams, None) => full += 1,
            (Delivery::Datagrams, Some(_)) => delta += 1,
        }
        if baseline_tick.is_some() {
            stats.delta_snapshots += 1;
        } else {
            stats.full_snapshots += 1;
        }
        bytes += encoded.byte_len() as u64;
        outbox.send(
            viewer.client,
            SpatialOutput::Snapshot(RoomSnapshot {
                room: viewer.room_id,
                snapshot: encoded,
            }),
        );
    }
    stats.stream_snapshots += stream;
    stats.snapshot_bytes += bytes;
    for (kind, count) in [("full", full), ("delta", delta), ("stream", stream)] {
        if count > 0 {
            metrics::counter!(telemetry::SNAPSHOTS, "kind" => kind).increment(count);
        }
    }
    if bytes > 0 {
        metrics::counter!(telemetry::SNAPSHOT_BYTES).increment(bytes);
    }
}
