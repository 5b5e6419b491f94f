//! Snapshots: what one client sees of its room at one tick, and how that travels.
//!
//! - [`quantize`]: positions as whole centimetres from the room's lower corner, yaw in
//!   1/65536 turns, so equal states are bit-identical and deltas are small integers;
//! - [`View`] and [`delta`]: a client's view is a sorted list of quantised avatars; a snapshot
//!   is the difference between the view the client acknowledged and the current one;
//! - [`codec`]: the byte layout (varints, one small header), specified in `docs/spatial.md`;
//! - [`split`]: a snapshot bigger than a datagram becomes several self-contained parts, or is
//!   flagged for a reliable stream when that would take too many.

pub mod codec;
pub mod delta;
pub(crate) mod history;
pub mod quantize;
pub mod split;

pub use codec::{DecodeError, SNAPSHOT_FORMAT_VERSION, decode_part, encode_part};
pub use delta::{DeltaError, apply_snapshot, diff, diff_into};
pub(crate) use history::SnapshotHistory;
pub use quantize::{
    POSITION_UNITS_PER_METRE, YAW_UNITS_PER_TURN, dequantize_position, dequantize_yaw,
    quantize_position, quantize_yaw,
};
pub use split::{Delivery, EncodedSnapshot, SnapshotParts, encode_snapshot};

use crate::ids::{AvatarId, Tick};

/// Bits of [`AvatarState::flags`].
pub mod flags {
    /// Standing in a stage zone.
    pub const ON_STAGE: u8 = 1;
    /// Sitting on a seat.
    pub const SEATED: u8 = 1 << 1;
    /// Inside a private zone (the client may grey the avatar out: it cannot be heard).
    pub const IN_PRIVATE_ZONE: u8 = 1 << 2;
}

/// One avatar as a snapshot carries it (quantised; see [`quantize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AvatarState {
    /// Who.
    pub id: AvatarId,
    /// Centimetres from the room's lower corner along X.
    pub x: u32,
    /// Centimetres from the room's lower corner along Y.
    pub y: u32,
    /// Centimetres from the room's lower corner along Z.
    pub z: u32,
    /// Facing in 1/65536 turns.
    pub yaw: u16,
    /// [`flags`] bits.
    pub flags: u8,
}

/// What a client sees at one tick: avatar states ordered by id, each id once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    states: Vec<AvatarState>,
}

impl View {
    /// A view from states in any order; a repeated id keeps its last state.
    pub fn from_states(mut states: Vec<AvatarState>) -> Self {
        states.reverse();
        states.sort_by_key(|s| s.id); // stable: the last occurrence now comes first per id
        states.dedup_by_key(|s| s.id);
        Self { states }
    }

    /// A view from states already sorted by id, each id once (checked in debug builds).
    pub(crate) fn from_sorted_unique(states: Vec<AvatarState>) -> Self {
        debug_assert!(states.windows(2).all(|w| w[0].id < w[1].id));
        Self { states }
    }

    /// The states, ordered by id.
    pub fn states(&self) -> &[AvatarState] {
        &self.states
    }

    /// One avatar's state.
    pub fn get(&self, id: AvatarId) -> Option<&AvatarState> {
        self.states
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.states[i])
    }

    /// How many avatars are visible.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether nobody is visible.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub(crate) fn upsert(&mut self, state: AvatarState) {
        match self.states.binary_search_by_key(&state.id, |s| s.id) {
            Ok(i) => self.states[i] = state,
            Err(i) => self.states.insert(i, state),
        }
    }

    pub(crate) fn remove(&mut self, id: AvatarId) {
        if let Ok(i) = self.states.binary_search_by_key(&id, |s| s.id) {
            self.states.remove(i);
        }
    }

    pub(crate) fn get_mut(&mut self, id: AvatarId) -> Option<&mut AvatarState> {
        self.states
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &mut self.states[i])
    }
}

/// How one avatar changed relative to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarChange {
    /// Not in the baseline (or no baseline): its whole state.
    Full(AvatarState),
    /// In the baseline: only what changed.
    Delta(AvatarDelta),
}

impl AvatarChange {
    /// The avatar concerned.
    pub fn id(&self) -> AvatarId {
        match self {
            AvatarChange::Full(state) => state.id,
            AvatarChange::Delta(delta) => delta.id,
        }
    }
}

/// Field differences of one avatar against its baseline state. `None` means unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AvatarDelta {
    /// Who.
    pub id: AvatarId,
    /// New x minus baseline x, in centimetres.
    pub dx: Option<i32>,
    /// New y minus baseline y.
    pub dy: Option<i32>,
    /// New z minus baseline z.
    pub dz: Option<i32>,
    /// New yaw minus baseline yaw, wrapping (the shortest way round).
    pub dyaw: Option<i16>,
    /// The new flags.
    pub flags: Option<u8>,
}

/// One decoded snapshot message (a whole snapshot or one part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPart {
    /// The tick this describes.
    pub tick: Tick,
    /// The acknowledged tick the changes are relative to; `None` for a full snapshot.
    pub baseline: Option<Tick>,
    /// This part's index, from 0.
    pub part: u8,
    /// How many parts the snapshot has (≥ 1).
    pub parts: u8,
    /// Avatars that left the view since the baseline, ascending.
    pub removed: Vec<AvatarId>,
    /// Avatars that appeared or changed, ascending by id.
    pub changes: Vec<AvatarChange>,
}
