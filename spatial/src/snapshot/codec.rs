//! The snapshot byte layout (format version 2). `docs/spatial.md` is the normative description;
//! in short:
//!
//! ```text
//! u8      header: bits 0–3 format version (2), bit 4 set when a baseline follows
//! varint  tick
//! varint  tick − baseline                       (only with bit 4; ≥ 1)
//! u8      part index, u8 part count             (index < count, count ≥ 1)
//! varint  removed count, then each removed id as a varint gap from the previous id (from 0)
//! varint  change count, then per change:
//!   u8      head: bit 7 full state; bits 5–6 the id gap from the previous change's id (from 0)
//!           when it is 1–3, else 0; bits 0–4 for a delta: x, y, z, yaw, flags changed
//!   varint  id gap (≥ 1), only when bits 5–6 are 0
//!   full:   varint x, varint y, varint z, u16 yaw (little endian), u8 flags
//!   delta:  zigzag varint dx / dy / dz, zigzag varint dyaw, u8 flags — only those in the mask
//! ```
//!
//! Ids strictly ascend (every gap is at least 1). Neighbours in a view usually have nearby ids,
//! so most changes carry their id inside the head byte.
//!
//! Varints are unsigned LEB128 (7 bits per byte, low first, high bit = more). Zigzag maps
//! 0, −1, 1, −2, … to 0, 1, 2, 3, … so small moves in either direction take one byte.

use thiserror::Error;

use super::{AvatarChange, AvatarDelta, AvatarState, SnapshotPart};
use crate::ids::{AvatarId, Tick};

/// The format version written in every header.
pub const SNAPSHOT_FORMAT_VERSION: u8 = 2;

const VERSION_MASK: u8 = 0x0f;
const HAS_BASELINE: u8 = 0x10;
const FULL: u8 = 0x80;
const DX: u8 = 1;
const DY: u8 = 1 << 1;
const DZ: u8 = 1 << 2;
const DYAW: u8 = 1 << 3;
const DFLAGS: u8 = 1 << 4;
const DELTA_BITS: u8 = DX | DY | DZ | DYAW | DFLAGS;
/// Where a change's head byte carries a small id gap.
const GAP_SHIFT: u8 = 5;
const GAP_BITS: u8 = 0b11 << GAP_SHIFT;
/// The largest id gap the head byte carries itself.
const MAX_INLINE_GAP: u32 = 3;

/// Bytes that are not a valid snapshot part. Every malformed input maps to one of these; decoding
/// never panics and never allocates more than the input's length justifies.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended in the middle of a field.
    #[error("snapshot truncated")]
    Truncated,
    /// A version this decoder does not know.
    #[error("unsupported snapshot format version {0}")]
    Version(u8),
    /// A varint longer than its type allows.
    #[error("varint overflow")]
    VarintOverflow,
    /// Inconsistent header or entries (zero part count, index ≥ count, zero baseline distance,
    /// ids not ascending, unknown mask bits, counts larger than the input).
    #[error("malformed snapshot: {0}")]
    Malformed(&'static str),
    /// Bytes left after the last entry.
    #[error("trailing bytes after the snapshot")]
    TrailingBytes,
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn varint_len(mut value: u64) -> usize {
    let mut len = 1;
    while value >= 0x80 {
        value >>= 7;
        len += 1;
    }
    len
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Writes one change; `prev` is the previous change's id in this part (0 for the first).
pub(crate) fn put_change(out: &mut Vec<u8>, prev: AvatarId, change: &AvatarChange) {
    let at = out.len();
    put_change_body(out, change);
    let gap = change.id().0.wrapping_sub(prev.0);
    if gap <= MAX_INLINE_GAP {
        out[at] |= (gap as u8) << GAP_SHIFT;
    } else {
        let mut varint = [0u8; 10];
        let len = write_varint(&mut varint, u64::from(gap));
        out.splice(at + 1..at + 1, varint[..len].iter().copied());
    }
}

/// Writes one change from its id gap and its body (see [`put_change_body`]).
#[inline]
pub(crate) fn put_entry(out: &mut Vec<u8>, gap: u32, body: &[u8]) {
    let Some((&head, fields)) = body.split_first() else {
        return;
    };
    if gap <= MAX_INLINE_GAP {
        out.push(head | ((gap as u8) << GAP_SHIFT));
    } else {
        out.push(head);
        put_varint(out, u64::from(gap));
    }
    out.extend_from_slice(fields);
}

/// [`put_entry`] for a body given as a 16-byte window that starts with it (the bytes past the
/// body are ignored), written into `out` at `at` rather than appended: copies a fixed size,
/// which compiles to a couple of moves instead of a `memcpy` call per entry, with no length or
/// capacity to keep up to date. `len` (the body's length) is at most 16; `out` must have
/// [`ENTRY_ROOM`] bytes from `at`. Returns where the entry ends.
#[inline(always)]
pub(crate) fn put_entry_window(
    out: &mut [u8],
    at: usize,
    gap: u32,
    window: &[u8; ENTRY_WINDOW],
    len: usize,
) -> usize {
    let room = &mut out[at..at + ENTRY_ROOM];
    if gap <= MAX_INLINE_GAP {
        // The gap goes into the head byte, the lowest of the little-endian word, in a register:
        // patching the byte after the copy made every entry wait on its own store.
        let word = u128::from_le_bytes(*window) | (u128::from(gap) << GAP_SHIFT);
        room[..ENTRY_WINDOW].copy_from_slice(&word.to_le_bytes());
        at + len
    } else {
        room[0] = window[0];
        let mut varint = [0u8; 10];
        let n = write_varint(&mut varint, u64::from(gap));
        room[1..1 + n].copy_from_slice(&varint[..n]);
        room[1 + n..n + ENTRY_WINDOW].copy_from_slice(&window[1..]);
        at + n + len
    }
}

/// The most bytes [`put_entry_window`] writes from its cursor: the window and a gap varint
/// (a `u32` takes at most 5 bytes).
pub(crate) const ENTRY_ROOM: usize = ENTRY_WINDOW + 5;

/// The window [`put_entry_window`] copies. Every entry body fits: a full state is at most
/// 1 + 3 × 3 + 2 + 1 = 13 bytes and a delta at most 1 + 3 × 3 + 3 + 1 = 14, since coordinates
/// of a room at most `MAX_ROOM_EXTENT` wide stay below 2²¹ centimetres.
pub(crate) const ENTRY_WINDOW: usize = 16;

fn write_varint(buf: &mut [u8; 10], mut value: u64) -> usize {
    let mut len = 0;
    while value >= 0x80 {
        buf[len] = (value as u8) | 0x80;
        value >>= 7;
        len += 1;
    }
    buf[len] = value as u8;
    len + 1
}

/// Writes a change without its id: the head byte with its gap bits clear, then the fields. It
/// does not depend on the snapshot it goes into, so the simulation writes it once per avatar and
/// tick and copies it into every snapshot showing that avatar ([`put_entry`] adds the id).
pub(crate) fn put_change_body(out: &mut Vec<u8>, change: &AvatarChange) {
    match change {
        AvatarChange::Full(s) => {
            out.push(FULL);
            put_varint(out, u64::from(s.x));
            put_varint(out, u64::from(s.y));
            put_varint(out, u64::from(s.z));
            out.extend_from_slice(&s.yaw.to_le_bytes());
            out.push(s.flags);
        }
        AvatarChange::Delta(d) => {
            let mut mask = 0;
            for (bit, present) in [
                (DX, d.dx.is_some()),
                (DY, d.dy.is_some()),
                (DZ, d.dz.is_some()),
                (DYAW, d.dyaw.is_some()),
                (DFLAGS, d.flags.is_some()),
            ] {
                if present {
                    mask |= bit;
                }
            }
            out.push(mask);
            for axis in [d.dx, d.dy, d.dz].into_iter().flatten() {
                put_varint(out, zigzag(i64::from(axis)));
            }
            if let Some(dyaw) = d.dyaw {
                put_varint(out, zigzag(i64::from(dyaw)));
            }
            if let Some(flags) = d.flags {
                out.push(flags);
            }
        }
    }
}

/// Writes the header fields that precede the removed list.
pub(crate) fn put_header(
    out: &mut Vec<u8>,
    tick: Tick,
    baseline: Option<Tick>,
    part: u8,
    parts: u8,
) {
    let mut header = SNAPSHOT_FORMAT_VERSION;
    if baseline.is_some() {
        header |= HAS_BASELINE;
    }
    out.push(header);
    put_varint(out, tick);
    if let Some(baseline) = baseline {
        put_varint(out, tick.saturating_sub(baseline));
    }
    out.push(part);
    out.push(parts);
}

/// The length [`put_header`] writes.
pub(crate) fn header_len(tick: Tick, baseline: Option<Tick>) -> usize {
    1 + varint_len(tick) + baseline.map_or(0, |b| varint_len(tick.saturating_sub(b))) + 2
}

/// Appends one whole message to `out`, from borrowed lists (no copies).
pub(crate) fn encode_into(
    out: &mut Vec<u8>,
    tick: Tick,
    baseline: Option<Tick>,
    (part, parts): (u8, u8),
    removed: &[AvatarId],
    changes: &[AvatarChange],
) {
    put_header(out, tick, baseline, part, parts);
    put_varint(out, removed.len() as u64);
    let mut prev = AvatarId(0);
    for id in removed {
        put_varint(out, u64::from(id.0.wrapping_sub(prev.0)));
        prev = *id;
    }
    put_varint(out, changes.len() as u64);
    let mut prev = AvatarId(0);
    for change in changes {
        put_change(out, prev, change);
        prev = change.id();
    }
}

/// Appends the encoding of `part` to `out`. Ids in `removed` and `changes` must ascend (the
/// simulation always produces them so); the encoder does not sort.
pub fn encode_part(part: &SnapshotPart, out: &mut Vec<u8>) {
    encode_into(
        out,
        part.tick,
        part.baseline,
        (part.part, part.parts),
        &part.removed,
        &part.changes,
    );
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let byte = *self.bytes.get(self.at).ok_or(DecodeError::Truncated)?;
        self.at += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DecodeError::VarintOverflow);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintOverflow)
    }

    fn varint_u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.varint()?).map_err(|_| DecodeError::VarintOverflow)
    }

    fn zigzag_i32(&mut self) -> Result<i32, DecodeError> {
        i32::try_from(unzigzag(self.varint()?)).map_err(|_| DecodeError::VarintOverflow)
    }

    /// A count of items that each take at least `min_item_bytes`, bounded by what is left.
    fn count(&mut self, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let count = usize::try_from(self.varint()?).map_err(|_| DecodeError::VarintOverflow)?;
        if count > self.remaining() / min_item_bytes {
            return Err(DecodeError::Malformed("count larger than the input"));
        }
        Ok(count)
    }

    fn next_id(&mut self, prev: u32) -> Result<AvatarId, DecodeError> {
        let gap = self.varint_u32()?;
        if gap == 0 {
            return Err(DecodeError::Malformed("avatar ids must strictly ascend"));
        }
        prev.checked_add(gap)
            .map(AvatarId)
            .ok_or(DecodeError::Malformed("avatar id overflow"))
    }
}

/// Decodes one snapshot part.
pub fn decode_part(bytes: &[u8]) -> Result<SnapshotPart, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    let header = r.u8()?;
    let version = header & VERSION_MASK;
    if version != SNAPSHOT_FORMAT_VERSION {
        return Err(DecodeError::Version(version));
    }
    if header & !(VERSION_MASK | HAS_BASELINE) != 0 {
        return Err(DecodeError::Malformed("unknown header bits"));
    }
    let tick = r.varint()?;
    let baseline = if header & HAS_BASELINE != 0 {
        let back = r.varint()?;
        if back == 0 || back > tick {
            return Err(DecodeError::Malformed("baseline must precede the tick"));
        }
        Some(tick - back)
    } else {
        None
    };
    let part = r.u8()?;
    let parts = r.u8()?;
    if parts == 0 || part >= parts {
        return Err(DecodeError::Malformed("part index out of range"));
    }
    let removed_count = r.count(1)?;
    let mut removed = Vec::with_capacity(removed_count);
    let mut prev = 0;
    for _ in 0..removed_count {
        let id = r.next_id(prev)?;
        removed.push(id);
        prev = id.0;
    }
    let change_count = r.count(2)?;
    let mut changes = Vec::with_capacity(change_count);
    let mut prev = 0;
    for _ in 0..change_count {
        let head = r.u8()?;
        let inline_gap = u32::from((head & GAP_BITS) >> GAP_SHIFT);
        let id = if inline_gap == 0 {
            r.next_id(prev)?
        } else {
            AvatarId(
                prev.checked_add(inline_gap)
                    .ok_or(DecodeError::Malformed("avatar id overflow"))?,
            )
        };
        prev = id.0;
        let mask = head & !GAP_BITS;
        if mask == FULL {
            let (x, y, z) = (r.varint_u32()?, r.varint_u32()?, r.varint_u32()?);
            let yaw = u16::from_le_bytes([r.u8()?, r.u8()?]);
            let flags = r.u8()?;
            changes.push(AvatarChange::Full(AvatarState {
                id,
                x,
                y,
                z,
                yaw,
                flags,
            }));
        } else if mask & !DELTA_BITS == 0 && mask != 0 {
            let mut delta = AvatarDelta {
                id,
                ..AvatarDelta::default()
            };
            if mask & DX != 0 {
                delta.dx = Some(r.zigzag_i32()?);
            }
            if mask & DY != 0 {
                delta.dy = Some(r.zigzag_i32()?);
            }
            if mask & DZ != 0 {
                delta.dz = Some(r.zigzag_i32()?);
            }
            if mask & DYAW != 0 {
                let dyaw = r.zigzag_i32()?;
                delta.dyaw = Some(
                    i16::try_from(dyaw).map_err(|_| DecodeError::Malformed("yaw delta range"))?,
                );
            }
            if mask & DFLAGS != 0 {
                delta.flags = Some(r.u8()?);
            }
            changes.push(AvatarChange::Delta(delta));
        } else {
            return Err(DecodeError::Malformed("bad change mask"));
        }
    }
    if r.remaining() != 0 {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(SnapshotPart {
        tick,
        baseline,
        part,
        parts,
        removed,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn full(id: u32, x: u32, y: u32, z: u32, yaw: u16, flags: u8) -> AvatarChange {
        AvatarChange::Full(AvatarState {
            id: AvatarId(id),
            x,
            y,
            z,
            yaw,
            flags,
        })
    }

    fn sample() -> SnapshotPart {
        SnapshotPart {
            tick: 1234,
            baseline: Some(1230),
            part: 1,
            parts: 3,
            removed: vec![AvatarId(2), AvatarId(300)],
            changes: vec![
                full(5, 0, 0, 99_999, 65_535, 7),
                AvatarChange::Delta(AvatarDelta {
                    id: AvatarId(6),
                    dx: Some(-3),
                    dy: None,
                    dz: Some(250),
                    dyaw: Some(-32_768),
                    flags: Some(0),
                }),
            ],
        }
    }

    #[test]
    fn round_trips_a_sample() {
        let mut bytes = Vec::new();
        encode_part(&sample(), &mut bytes);
        assert_eq!(decode_part(&bytes), Ok(sample()));
    }

    #[test]
    fn layout_of_a_small_full_snapshot_is_as_documented() {
        let part = SnapshotPart {
            tick: 300,
            baseline: None,
            part: 0,
            parts: 1,
            removed: vec![],
            changes: vec![full(1, 150, 0, 200, 0x4000, 2)],
        };
        let mut bytes = Vec::new();
        encode_part(&part, &mut bytes);
        #[rustfmt::skip]
        let expected = [
            0x02,             // version 2, no baseline
            0xac, 0x02,       // tick 300
            0x00, 0x01,       // part 0 of 1
            0x00,             // no removals
            0x01,             // one change
            0xa0,             // full state (0x80), id gap 1 (bits 5–6)
            0x96, 0x01,       // x 150
            0x00,             // y 0
            0xc8, 0x01,       // z 200
            0x00, 0x40,       // yaw 0x4000 (a quarter turn), little endian
            0x02,             // flags: seated
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn a_windowed_entry_is_the_same_bytes_as_a_sliced_one() {
        let mut window = [0u8; ENTRY_WINDOW];
        for (i, byte) in window.iter_mut().enumerate() {
            *byte = 0x9f ^ (i as u8); // head byte 0x9f: gap bits clear after masking below
        }
        window[0] = 0x85;
        for len in 1..=ENTRY_WINDOW {
            for gap in [1, 2, 3, 4, 127, 128, 70_000] {
                let mut sliced = vec![7u8];
                put_entry(&mut sliced, gap, &window[..len]);
                let mut windowed = vec![0xee; 1 + ENTRY_ROOM];
                windowed[0] = 7;
                let end = put_entry_window(&mut windowed, 1, gap, &window, len);
                assert_eq!(sliced, windowed[..end], "len {len}, gap {gap}");
            }
        }
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        let mut good = Vec::new();
        encode_part(&sample(), &mut good);
        for cut in 0..good.len() {
            assert!(decode_part(&good[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode_part(&trailing), Err(DecodeError::TrailingBytes));
        assert_eq!(decode_part(&[0x01]), Err(DecodeError::Version(1)));
        assert_eq!(decode_part(&[0x03]), Err(DecodeError::Version(3)));
        // part 3 of 3
        assert!(matches!(
            decode_part(&[0x02, 0x01, 0x03, 0x03, 0x00, 0x00]),
            Err(DecodeError::Malformed(_))
        ));
        // a count of a billion items in a six-byte input
        assert!(matches!(
            decode_part(&[0x02, 0x01, 0x00, 0x01, 0x80, 0x94, 0xeb, 0xdc, 0x03]),
            Err(DecodeError::Malformed(_))
        ));
        // a delta head with no field bits; a full head with field bits; a zero varint gap
        for change in [[0x20, 0x00], [0xa1, 0x00], [0x01, 0x00]] {
            let bytes = [0x02, 0x01, 0x00, 0x01, 0x00, 0x01, change[0], change[1]];
            assert!(
                matches!(decode_part(&bytes), Err(DecodeError::Malformed(_))),
                "{change:02x?}"
            );
        }
        // an 11-byte varint
        assert_eq!(
            decode_part(&[
                0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ]),
            Err(DecodeError::VarintOverflow)
        );
    }

    fn arb_change() -> impl Strategy<Value = (u32, AvatarChange)> {
        let full = (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
            any::<u8>(),
        )
            .prop_map(|(x, y, z, yaw, flags)| {
                AvatarChange::Full(AvatarState {
                    id: AvatarId(0),
                    x,
                    y,
                    z,
                    yaw,
                    flags,
                })
            });
        let delta = (
            proptest::option::of(any::<i32>()),
            proptest::option::of(any::<i32>()),
            proptest::option::of(any::<i32>()),
            proptest::option::of(any::<i16>()),
            proptest::option::of(any::<u8>()),
        )
            .prop_filter("a delta changes something", |d| {
                d.0.is_some() || d.1.is_some() || d.2.is_some() || d.3.is_some() || d.4.is_some()
            })
            .prop_map(|(dx, dy, dz, dyaw, flags)| {
                AvatarChange::Delta(AvatarDelta {
                    id: AvatarId(0),
                    dx,
                    dy,
                    dz,
                    dyaw,
                    flags,
                })
            });
        (prop_oneof![1u32..=3, 1u32..1000], prop_oneof![full, delta])
    }

    proptest! {
        #[test]
        fn any_part_round_trips(
            tick in 1u64..u64::MAX / 2,
            back in proptest::option::of(1u64..1000),
            gaps in proptest::collection::vec(1u32..1000, 0..20),
            changes in proptest::collection::vec(arb_change(), 0..40),
        ) {
            let mut id = 0;
            let removed = gaps.iter().map(|g| { id += g; AvatarId(id) }).collect();
            let mut id = 0;
            let changes = changes
                .into_iter()
                .map(|(gap, mut change)| {
                    id += gap;
                    match &mut change {
                        AvatarChange::Full(s) => s.id = AvatarId(id),
                        AvatarChange::Delta(d) => d.id = AvatarId(id),
                    }
                    change
                })
                .collect();
            let part = SnapshotPart {
                tick,
                baseline: back.map(|b| tick.saturating_sub(b)).filter(|b| *b < tick),
                part: 0,
                parts: 1,
                removed,
                changes,
            };
            let mut bytes = Vec::new();
            encode_part(&part, &mut bytes);
            prop_assert_eq!(decode_part(&bytes), Ok(part));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_part(&bytes);
        }
    }
}
