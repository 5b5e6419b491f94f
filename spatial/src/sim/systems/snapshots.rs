//! Snapshots: what each client sees, delta-coded against what it acknowledged, encoded, split.
//!
//! Most of the work is shared. Per room, [`prepare_frames`] (run by the grid step, right after
//! the roster is built) encodes every member's entry once: its full state, and its delta
//! against each baseline tick some client of the room holds (the state an avatar had at a tick
//! is the same in every client's view of that tick). Per client,
//! [`build_snapshots`] then only walks its baseline view against its current view — both lists
//! of ids — and copies the prepared bytes. A view is kept as its ids only, shared between ticks
//! while it does not change. A snapshot too big for one datagram is re-derived and split by the
//! general encoder ([`encode_snapshot`]), which produces the same bytes for what fits.
//!
//! [`collect_outputs`] then moves each client's gains and snapshot into the outbox, in avatar
//! order, and counts them.

use bevy_ecs::system::{Local, Query, Res, ResMut};
use bevy_ecs::utils::Parallel;
use bytes::{BufMut, Bytes, BytesMut};
use smallvec::smallvec;

use crate::config::SpatialConfig;
use crate::ids::{AvatarId, Tick};
use crate::messages::{RoomSnapshot, SpatialOutput};
use crate::sim::components::{
    Avatar, Interest, Member, Occupants, Outgoing, RoomFrames, RoomHearing, Roster, SnapshotState,
    Span,
};
use crate::sim::parallel::batching;
use crate::sim::resources::{Outbox, Settings, SimStats, SimTick};
use crate::snapshot::codec::{
    ENTRY_ROOM, header_len, put_change_body, put_entry, put_entry_window, put_header, put_varint,
    varint_len,
};
use crate::snapshot::delta::field_delta;
use crate::snapshot::{AvatarChange, Delivery, EncodedSnapshot, View, diff, encode_snapshot};
use crate::telemetry;

/// One room's recent roster states, and this tick's entry bodies (full, and delta against every
/// baseline its clients hold). Run by the grid step right after it builds the roster, while
/// that is at hand.
pub(crate) fn prepare_frames(
    now: Tick,
    window: u64,
    occupants: &Occupants,
    roster: &[Member],
    frames: &mut RoomFrames,
    viewers: &Query<&SnapshotState>,
) {
    // The states of this tick join the past; those no baseline can refer to leave it.
    let mut states = Vec::new();
    while frames
        .past
        .front()
        .is_some_and(|(t, _)| now.saturating_sub(*t) > window)
    {
        if let Some((_, old)) = frames.past.pop_front() {
            states = old;
        }
    }
    states.clear();
    states.extend(roster.iter().map(|m| m.state));
    frames.past.push_back((now, states));

    frames.bytes.clear();
    frames.full.clear();
    for member in roster {
        let start = frames.bytes.len();
        put_change_body(&mut frames.bytes, &AvatarChange::Full(member.state));
        frames.full.push(span(start, frames.bytes.len()));
    }

    // The baselines the room's clients will be coded against this tick.
    let mut tables = std::mem::take(&mut frames.deltas);
    for (_, mut table) in tables.drain(..) {
        table.clear();
        frames.spare.push(table);
    }
    frames.deltas = tables;
    for (entity, _) in &occupants.members {
        let Some(baseline) = viewers
            .get(*entity)
            .ok()
            .and_then(|s| s.history.baseline_tick(now, window))
        else {
            continue;
        };
        if frames.deltas.iter().any(|(t, _)| *t == baseline) {
            continue;
        }
        let mut table = frames.spare.pop().unwrap_or_default();
        delta_table(frames, roster, baseline, &mut table);
        frames.deltas.push((baseline, table));
    }
}

fn span(start: usize, end: usize) -> Span {
    // Entry bodies are at most 17 bytes, and a room's bytes stay far below 4 GiB.
    Span {
        start: start as u32,
        len: (end - start) as u16,
    }
}

/// Per roster member, its delta body against its state at `baseline`.
fn delta_table(frames: &mut RoomFrames, roster: &[Member], baseline: Tick, table: &mut Vec<Span>) {
    table.clear();
    let RoomFrames { past, bytes, .. } = frames;
    let old: &[_] = past
        .iter()
        .find(|(t, _)| *t == baseline)
        .map(|(_, states)| states.as_slice())
        .unwrap_or(&[]);
    let mut k = 0;
    for member in roster {
        let now = &member.state;
        while old.get(k).is_some_and(|s| s.id < now.id) {
            k += 1;
        }
        let entry = match old.get(k).filter(|s| s.id == now.id) {
            None => Span::ABSENT,
            Some(before) if before == now => Span::UNCHANGED,
            Some(before) => {
                let start = bytes.len();
                put_change_body(bytes, &AvatarChange::Delta(field_delta(before, now)));
                span(start, bytes.len())
            }
        };
        table.push(entry);
    }
}

/// Per-thread scratch space: the removed list and the changes, encoded; and the buffer the
/// finished snapshots are cut from.
#[derive(Default)]
pub(crate) struct Scratch {
    removed: Vec<u8>,
    /// Written at a cursor (the first [`Written::change_bytes`] are this client's), never
    /// shrunk: it keeps room for a full view's entries without a length to keep up per entry.
    changes: Vec<u8>,
    header: Vec<u8>,
    /// Snapshots are written here back to back and handed out as slices of it (`Bytes` keeps
    /// the block alive while any slice is): one allocation per [`ARENA_BYTES`], not per
    /// snapshot.
    arena: BytesMut,
}

/// The size of each block of [`Scratch::arena`].
const ARENA_BYTES: usize = 64 * 1024;

/// Per client: its snapshot, when one is due.
pub(crate) fn build_snapshots(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    scratch: Local<Parallel<Scratch>>,
    rooms: Query<(&Roster, &RoomFrames)>,
    mut viewers: Query<(&Avatar, &Interest, &mut SnapshotState, &mut Outgoing)>,
) {
    let config = &settings.0;
    let now = tick.0;
    viewers
        .par_iter_mut()
        .batching_strategy(batching())
        .for_each(|(viewer, interest, mut state, mut outgoing)| {
            outgoing.snapshot = None;
            let Ok((roster, frames)) = rooms.get(viewer.room) else {
                return;
            };
            let roster = &roster.0;
            let history = &mut state.history;
            let visible = &interest.visible;
            history.expire(now, config.ack_window);
            let baseline = history.baseline();

            let mut scratch = scratch.borrow_local_mut();
            let scratch = &mut *scratch;
            let written = write_entries(frames, roster, visible, baseline, scratch);
            let has_changes = written.is_none_or(|w| w.removed + w.changes > 0);
            if !history.due(now, has_changes, config.snapshot_keepalive_ticks) {
                return;
            }
            let baseline_tick = baseline.map(|(tick, _)| tick);
            let fitted = written.and_then(|written| {
                assemble(
                    now,
                    baseline_tick,
                    written,
                    scratch,
                    config.max_datagram_bytes,
                )
            });
            let encoded = match fitted {
                Some(part) => EncodedSnapshot {
                    tick: now,
                    baseline: baseline_tick,
                    delivery: Delivery::Datagrams,
                    parts: smallvec![part],
                },
                None => encode_generally(now, baseline, frames, roster, visible, config),
            };
            let ids = visible.iter().map(|&i| roster[i as usize].state.id);
            history.record_sent(now, ids, config.ack_window);
            outgoing.snapshot = Some(RoomSnapshot {
                room: viewer.room_id,
                snapshot: encoded,
            });
        });
}

/// Encodes the removed list and the changes from `baseline` (a tick and the ids seen then) to
/// the `visible` roster members into the scratch buffers, from the room's prepared bodies, and
/// returns their counts. `None` if the room has no table for that baseline (never expected).
fn write_entries(
    frames: &RoomFrames,
    roster: &[Member],
    visible: &[u32],
    baseline: Option<(Tick, &[AvatarId])>,
    scratch: &mut Scratch,
) -> Option<Written> {
    let Scratch {
        removed, changes, ..
    } = scratch;
    removed.clear();
    let (old, table) = match baseline {
        Some((tick, ids)) => (ids, Some(frames.deltas_against(tick)?)),
        None => (&[][..], None),
    };
    let (mut removed_count, mut change_count) = (0, 0);
    let (mut prev_removed, mut prev_change) = (0u32, 0u32);
    // Room for every visible avatar in full.
    let room = visible.len() * ENTRY_ROOM;
    if changes.len() < room {
        changes.resize(room, 0);
    }
    let mut at = 0;
    let mut copy =
        |at: usize, gap: u32, span: Span| copy_entry(frames, changes, at, gap, span, visible.len());
    let (mut i, mut j) = (0, 0);
    loop {
        let now = visible
            .get(j)
            .map(|&index| (index, roster[index as usize].state.id));
        match (old.get(i), now) {
            (Some(&before), Some((index, id))) if before == id => {
                match table.and_then(|t| t.get(index as usize)).copied() {
                    Some(Span::UNCHANGED) => {}
                    Some(span) if span != Span::ABSENT => {
                        at = copy(at, id.0 - prev_change, span);
                        prev_change = id.0;
                        change_count += 1;
                    }
                    _ => {
                        at = copy(at, id.0 - prev_change, frames.full[index as usize]);
                        prev_change = id.0;
                        change_count += 1;
                    }
                }
                i += 1;
                j += 1;
            }
            (Some(&before), now) if now.is_none_or(|(_, id)| before < id) => {
                put_varint(removed, u64::from(before.0 - prev_removed));
                prev_removed = before.0;
                removed_count += 1;
                i += 1;
            }
            (_, Some((index, id))) => {
                at = copy(at, id.0 - prev_change, frames.full[index as usize]);
                prev_change = id.0;
                change_count += 1;
                j += 1;
            }
            (_, None) => break,
        }
    }
    Some(Written {
        removed: removed_count,
        changes: change_count,
        change_bytes: at,
    })
}

/// What [`write_entries`] left in the scratch buffers: the removed ids and the changes
/// (`removed` is all of its buffer, the changes are its first `change_bytes`).
#[derive(Clone, Copy)]
struct Written {
    removed: usize,
    changes: usize,
    change_bytes: usize,
}

/// Writes the entry of `span` with its id gap into `changes` at `at`, which has
/// [`ENTRY_ROOM`] bytes there; returns where it ends. A body longer than the window (none is)
/// is written by the general encoder, and the buffer regrown for `entries` more.
#[inline(always)]
fn copy_entry(
    frames: &RoomFrames,
    changes: &mut Vec<u8>,
    at: usize,
    gap: u32,
    span: Span,
    entries: usize,
) -> usize {
    match frames.window(span) {
        Some(window) => put_entry_window(changes, at, gap, window, usize::from(span.len)),
        None => {
            changes.truncate(at);
            put_entry(changes, gap, frames.body(span));
            let end = changes.len();
            changes.resize(end + entries * ENTRY_ROOM, 0);
            end
        }
    }
}

/// The whole snapshot as one message, if it fits in a datagram.
fn assemble(
    now: Tick,
    baseline: Option<Tick>,
    written: Written,
    scratch: &mut Scratch,
    max_part_bytes: usize,
) -> Option<Bytes> {
    let size = header_len(now, baseline)
        + varint_len(written.removed as u64)
        + scratch.removed.len()
        + varint_len(written.changes as u64)
        + written.change_bytes;
    if size > max_part_bytes {
        return None;
    }
    let Scratch {
        removed,
        changes,
        header,
        arena,
    } = scratch;
    header.clear();
    put_header(header, now, baseline, 0, 1);
    put_varint(header, written.removed as u64);
    if arena.capacity() < size {
        // A fresh block; the old one lives on in the slices already handed out.
        *arena = BytesMut::with_capacity(ARENA_BYTES.max(size));
    }
    arena.put_slice(header);
    arena.put_slice(removed);
    header.clear();
    put_varint(header, written.changes as u64);
    arena.put_slice(header);
    arena.put_slice(&changes[..written.change_bytes]);
    Some(arena.split().freeze())
}

/// The general path (a snapshot that needs splitting or a stream): the views rebuilt from the
/// room's states, diffed, encoded and split.
fn encode_generally(
    now: Tick,
    baseline: Option<(Tick, &[AvatarId])>,
    frames: &RoomFrames,
    roster: &[Member],
    visible: &[u32],
    config: &SpatialConfig,
) -> EncodedSnapshot {
    let current = View::from_sorted_unique(
        visible
            .iter()
            .map(|&index| roster[index as usize].state)
            .collect(),
    );
    let before = baseline.map(|(tick, ids)| {
        View::from_sorted_unique(
            ids.iter()
                .filter_map(|id| frames.state_at(tick, *id))
                .copied()
                .collect(),
        )
    });
    let (removed, changes) = diff(before.as_ref(), &current);
    encode_snapshot(
        now,
        baseline.map(|(tick, _)| tick),
        &removed,
        &changes,
        config.max_datagram_bytes,
        config.max_datagram_parts,
    )
}

/// Moves this tick's gains and snapshots into the outbox (gains first, per client) and counts
/// them.
pub(crate) fn collect_outputs(
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<SimStats>,
    mut tables: Query<&mut RoomHearing>,
    mut viewers: Query<(&Avatar, &mut Outgoing)>,
) {
    let (mut full, mut delta, mut stream, mut bytes, mut gains) = (0u64, 0u64, 0u64, 0u64, 0u64);
    // Gains from room tables first: every client's gains still precede its snapshot.
    for mut table in &mut tables {
        for (client, update) in table.out.drain(..) {
            gains += 1;
            outbox.send(client, SpatialOutput::Gains(update));
        }
    }
    for (avatar, mut outgoing) in &mut viewers {
        let Outgoing {
            gains: gain_update,
            snapshot,
        } = &mut *outgoing;
        if let Some(update) = gain_update.take() {
            gains += 1;
            outbox.send(avatar.client, SpatialOutput::Gains(update));
        }
        if let Some(snapshot) = snapshot.take() {
            let encoded = &snapshot.snapshot;
            match (encoded.delivery, encoded.baseline) {
                (Delivery::Stream, _) => stream += 1,
                (Delivery::Datagrams, None) => full += 1,
                (Delivery::Datagrams, Some(_)) => delta += 1,
            }
            if encoded.baseline.is_some() {
                stats.delta_snapshots += 1;
            } else {
                stats.full_snapshots += 1;
            }
            bytes += encoded.byte_len() as u64;
            outbox.send(avatar.client, SpatialOutput::Snapshot(snapshot));
        }
    }
    stats.gain_updates += gains;
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
    if gains > 0 {
        metrics::counter!(telemetry::GAIN_UPDATES).increment(gains);
    }
}
