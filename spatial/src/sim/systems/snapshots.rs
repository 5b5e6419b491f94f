//! Per client: quantise what it sees, delta-code against what it acknowledged, encode, split.

use bevy_ecs::system::{Query, Res, ResMut};

use crate::messages::{RoomSnapshot, SpatialOutput};
use crate::sim::components::{Avatar, Interest, Position, Seat, SnapshotState, Yaw, Zones};
use crate::sim::resources::{Outbox, Settings, SimStats, SimTick};
use crate::snapshot::{
    AvatarState, Delivery, View, diff, encode_snapshot, flags, quantize_position, quantize_yaw,
};
use crate::telemetry;

pub(crate) fn build_snapshots(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<SimStats>,
    mut viewers: Query<(&Avatar, &Interest, &mut SnapshotState)>,
    subjects: Query<(&Avatar, &Position, &Yaw, &Zones, &Seat)>,
) {
    let config = &settings.0;
    let now = tick.0;
    for (viewer, interest, mut state) in &mut viewers {
        let bounds = &viewer.template.bounds;
        let mut states = Vec::with_capacity(interest.visible.len());
        for visible in &interest.visible {
            let Ok((avatar, position, yaw, zones, seat)) = subjects.get(visible.entity) else {
                continue;
            };
            let [x, y, z] = quantize_position(bounds, position.0);
            let mut bits = 0;
            if zones.0.on_stage {
                bits |= flags::ON_STAGE;
            }
            if seat.0.is_some() {
                bits |= flags::SEATED;
            }
            if zones.0.private_zone.is_some() {
                bits |= flags::IN_PRIVATE_ZONE;
            }
            states.push(AvatarState {
                id: avatar.id,
                x,
                y,
                z,
                yaw: quantize_yaw(yaw.0),
                flags: bits,
            });
        }
        let view = View::from_states(states);

        let history = &mut state.history;
        let baseline = history.baseline(now, config.ack_window);
        let baseline_tick = baseline.as_ref().map(|(t, _)| *t);
        let (removed, changes) = diff(baseline.map(|(_, v)| v), &view);
        let has_changes = !removed.is_empty() || !changes.is_empty();
        if !history.due(now, has_changes, config.snapshot_keepalive_ticks) {
            continue;
        }
        let encoded = encode_snapshot(
            now,
            baseline_tick,
            &removed,
            &changes,
            config.max_datagram_bytes,
            config.max_datagram_parts,
        );
        history.record_sent(now, view, config.ack_window);

        let kind = match (encoded.delivery, baseline_tick) {
            (Delivery::Stream, _) => {
                stats.stream_snapshots += 1;
                "stream"
            }
            (Delivery::Datagrams, None) => "full",
            (Delivery::Datagrams, Some(_)) => "delta",
        };
        if baseline_tick.is_some() {
            stats.delta_snapshots += 1;
        } else {
            stats.full_snapshots += 1;
        }
        let bytes = encoded.byte_len() as u64;
        stats.snapshot_bytes += bytes;
        metrics::counter!(telemetry::SNAPSHOTS, "kind" => kind).increment(1);
        metrics::counter!(telemetry::SNAPSHOT_BYTES).increment(bytes);
        outbox.send(
            viewer.client,
            SpatialOutput::Snapshot(RoomSnapshot {
                room: viewer.room_id,
                snapshot: encoded,
            }),
        );
    }
}
