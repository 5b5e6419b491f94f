//! Fitting snapshots into datagrams.
//!
//! A datagram has a hard size limit; a crowded view can exceed it. The splitter cuts a snapshot
//! into parts that each fit and each decode on their own (same tick and baseline, their own
//! slice of removals and changes). A client applies parts as they come but acknowledges the tick
//! only once it holds all of them; a lost part just means the next snapshot is again relative to
//! the older acknowledged view. A snapshot needing more than the configured number of parts is
//! not split at all: it is flagged for a reliable stream.

use bytes::Bytes;
use smallvec::{SmallVec, smallvec};

use super::AvatarChange;
use super::codec::{encode_into, put_change, put_header, put_varint, varint_len};
use crate::config::MAX_SNAPSHOT_PARTS;
use crate::ids::{AvatarId, Tick};

/// How an encoded snapshot should travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Each part fits one datagram (WebTransport) or one frame (WebSocket).
    Datagrams,
    /// Too big for datagrams: one part, to be sent on a reliable stream.
    Stream,
}

/// A snapshot ready to ship to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSnapshot {
    /// The tick it describes (what the client acknowledges).
    pub tick: Tick,
    /// The acknowledged tick it is relative to; `None` for a full snapshot.
    pub baseline: Option<Tick>,
    /// How to send it.
    pub delivery: Delivery,
    /// The encoded parts, in order; each decodes with [`super::decode_part`]. Almost every
    /// snapshot is one part, held inline; a one-part snapshot the simulation assembles is a
    /// slice of a buffer it shares between many clients' snapshots, so handing it out
    /// allocates nothing.
    pub parts: SnapshotParts,
}

/// The parts of one snapshot (usually one, stored inline).
pub type SnapshotParts = SmallVec<[Bytes; 1]>;

impl EncodedSnapshot {
    /// Total encoded bytes.
    pub fn byte_len(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum()
    }
}

/// The body of one part being filled: removals and changes already encoded, with the last id of
/// each list (the next id is gap-coded against it).
struct PartBuilder {
    removed: Vec<u8>,
    removed_count: usize,
    removed_prev: AvatarId,
    changes: Vec<u8>,
    change_count: usize,
    change_prev: AvatarId,
}

impl PartBuilder {
    fn new() -> Self {
        Self {
            removed: Vec::new(),
            removed_count: 0,
            removed_prev: AvatarId(0),
            changes: Vec::new(),
            change_count: 0,
            change_prev: AvatarId(0),
        }
    }

    fn push_removed(&mut self, id: AvatarId) {
        put_varint(
            &mut self.removed,
            u64::from(id.0.wrapping_sub(self.removed_prev.0)),
        );
        self.removed_count += 1;
        self.removed_prev = id;
    }

    fn is_empty(&self) -> bool {
        self.removed_count == 0 && self.change_count == 0
    }

    /// Encoded size with this body and a header of `header_len` bytes.
    fn size_with(
        &self,
        header_len: usize,
        removed: (usize, usize),
        changes: (usize, usize),
    ) -> usize {
        header_len
            + varint_len(removed.0 as u64)
            + removed.1
            + varint_len(changes.0 as u64)
            + changes.1
    }

    fn size(&self, header_len: usize) -> usize {
        self.size_with(
            header_len,
            (self.removed_count, self.removed.len()),
            (self.change_count, self.changes.len()),
        )
    }

    fn finish(self, header: &[u8], part: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size(header.len()));
        out.extend_from_slice(header);
        // The header template ends with `part index, part count`: patch the index.
        let index_at = header.len() - 2;
        out[index_at] = part;
        put_varint(&mut out, self.removed_count as u64);
        out.extend_from_slice(&self.removed);
        put_varint(&mut out, self.change_count as u64);
        out.extend_from_slice(&self.changes);
        out
    }
}

/// Encodes a snapshot, splitting it into parts of at most `max_part_bytes` (assumed ≥ the
/// config's minimum, which always holds a header plus one entry). More than `max_parts` parts
/// (capped at 255) means [`Delivery::Stream`] with a single part.
pub fn encode_snapshot(
    tick: Tick,
    baseline: Option<Tick>,
    removed: &[AvatarId],
    changes: &[AvatarChange],
    max_part_bytes: usize,
    max_parts: usize,
) -> EncodedSnapshot {
    let max_parts = max_parts.clamp(1, MAX_SNAPSHOT_PARTS);
    // The common case: it fits in one datagram. The whole encoding is also what a stream gets.
    let mut whole =
        Vec::with_capacity(max_part_bytes.min(16 + 14 * changes.len() + 5 * removed.len()));
    encode_into(&mut whole, tick, baseline, (0, 1), removed, changes);
    if whole.len() <= max_part_bytes {
        return EncodedSnapshot {
            tick,
            baseline,
            delivery: Delivery::Datagrams,
            parts: smallvec![Bytes::from(whole)],
        };
    }

    // The header's size does not depend on the part index or count (one byte each), so a
    // template with count 1 measures every part; the count is patched in at the end.
    let mut header = Vec::new();
    put_header(&mut header, tick, baseline, 0, 1);
    let header_len = header.len();

    let mut parts: Vec<PartBuilder> = Vec::new();
    let mut current = PartBuilder::new();
    for id in removed {
        let gap_len = varint_len(u64::from(id.0.wrapping_sub(current.removed_prev.0)));
        let fits = current.size_with(
            header_len,
            (current.removed_count + 1, current.removed.len() + gap_len),
            (current.change_count, current.changes.len()),
        ) <= max_part_bytes;
        if !fits && !current.is_empty() {
            parts.push(std::mem::replace(&mut current, PartBuilder::new()));
        }
        current.push_removed(*id);
    }
    let mut scratch = Vec::new();
    for change in changes {
        scratch.clear();
        put_change(&mut scratch, current.change_prev, change);
        let fits = current.size_with(
            header_len,
            (current.removed_count, current.removed.len()),
            (
                current.change_count + 1,
                current.changes.len() + scratch.len(),
            ),
        ) <= max_part_bytes;
        if !fits && !current.is_empty() {
            parts.push(std::mem::replace(&mut current, PartBuilder::new()));
            // The first id of a part is coded from 0, so re-encode.
            scratch.clear();
            put_change(&mut scratch, current.change_prev, change);
        }
        current.changes.extend_from_slice(&scratch);
        current.change_count += 1;
        current.change_prev = change.id();
    }
    parts.push(current);

    if parts.len() > max_parts {
        return EncodedSnapshot {
            tick,
            baseline,
            delivery: Delivery::Stream,
            parts: smallvec![Bytes::from(whole)],
        };
    }
    let count = parts.len() as u8; // ≤ max_parts ≤ 255
    let count_at = header_len - 1;
    header[count_at] = count;
    let parts = parts
        .into_iter()
        .enumerate()
        .map(|(index, builder)| Bytes::from(builder.finish(&header, index as u8)))
        .collect();
    EncodedSnapshot {
        tick,
        baseline,
        delivery: Delivery::Datagrams,
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AvatarState, SnapshotPart, View, apply_snapshot, decode_part, diff};
    use super::*;

    fn crowd(n: u32, shift: u32) -> View {
        View::from_states(
            (1..=n)
                .map(|i| AvatarState {
                    id: AvatarId(i * 3),
                    x: 1000 + i * 37 + shift,
                    y: 0,
                    z: 2000 + i * 11,
                    yaw: (i * 500) as u16,
                    flags: (i % 3) as u8,
                })
                .collect(),
        )
    }

    fn decode_all(snapshot: &EncodedSnapshot) -> Vec<SnapshotPart> {
        snapshot
            .parts
            .iter()
            .map(|bytes| decode_part(bytes).unwrap())
            .collect()
    }

    #[test]
    fn a_small_snapshot_is_one_part() {
        let view = crowd(3, 0);
        let (removed, changes) = diff(None, &view);
        let encoded = encode_snapshot(7, None, &removed, &changes, 1100, 8);
        assert_eq!(encoded.delivery, Delivery::Datagrams);
        assert_eq!(encoded.parts.len(), 1);
        let parts = decode_all(&encoded);
        assert_eq!(apply_snapshot(|_| None, &parts).unwrap(), view);
    }

    #[test]
    fn a_big_snapshot_splits_into_parts_that_fit_and_reassemble() {
        let base = crowd(400, 0);
        let mut current = crowd(380, 5); // 20 left, everyone else moved
        current = View::from_states(
            current
                .states()
                .iter()
                .copied()
                .chain((1..=30).map(|i| AvatarState {
                    id: AvatarId(5000 + i),
                    x: i,
                    y: 1,
                    z: 2,
                    yaw: 3,
                    flags: 0,
                }))
                .collect(),
        );
        for (baseline, base_view) in [(None, None), (Some(90), Some(&base))] {
            let (removed, changes) = diff(base_view, &current);
            let encoded = encode_snapshot(100, baseline, &removed, &changes, 200, 255);
            assert_eq!(encoded.delivery, Delivery::Datagrams);
            assert!(encoded.parts.len() > 5, "expected many parts");
            assert!(encoded.parts.iter().all(|p| p.len() <= 200));
            let parts = decode_all(&encoded);
            for (i, part) in parts.iter().enumerate() {
                assert_eq!((part.part as usize, part.parts as usize), (i, parts.len()));
                assert_eq!((part.tick, part.baseline), (100, baseline));
            }
            let rebuilt = apply_snapshot(|_| base_view, &parts).unwrap();
            assert_eq!(rebuilt, current);
        }
    }

    #[test]
    fn too_many_parts_are_flagged_for_a_stream() {
        let view = crowd(300, 0);
        let (removed, changes) = diff(None, &view);
        let encoded = encode_snapshot(3, None, &removed, &changes, 200, 4);
        assert_eq!(encoded.delivery, Delivery::Stream);
        assert_eq!(encoded.parts.len(), 1);
        assert!(encoded.parts[0].len() > 200);
        let parts = decode_all(&encoded);
        assert_eq!(apply_snapshot(|_| None, &parts).unwrap(), view);
    }

    #[test]
    fn an_empty_delta_is_one_small_part() {
        let view = crowd(10, 0);
        let (removed, changes) = diff(Some(&view), &view);
        let encoded = encode_snapshot(50, Some(49), &removed, &changes, 1100, 8);
        assert_eq!(encoded.parts.len(), 1);
        assert!(encoded.byte_len() <= 8, "{} bytes", encoded.byte_len());
    }
}
