//! Components: small pieces of state that systems read and write.
//!
//! A room is one entity (`Room`, `Occupants`, `Roster`, `RoomGrid`, `Stage`, `RoomFrames`); an
//! avatar is one entity (`Avatar` plus its pose, inputs and per-client output state).
//!
//! The per-tick work splits cleanly for parallel systems: room steps write only room
//! components (reading avatars), client steps write only their own avatar's components
//! (reading rooms).

use std::collections::VecDeque;
use std::sync::Arc;

use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;
use glam::Vec3;
use smallvec::SmallVec;

use crate::audio::{GainBand, ZonePresence};
use crate::grid::SpatialGrid;
use crate::ids::{AvatarId, ClientId, RoomId, Tick};
use crate::messages::{GainUpdate, RoomSnapshot};
use crate::snapshot::codec::ENTRY_WINDOW;
use crate::snapshot::{AvatarState, SnapshotHistory};
use crate::template::RoomTemplate;

/// A room: its id (also the `Directory` key), template and avatar numbering.
#[derive(Component)]
pub(crate) struct Room {
    pub id: RoomId,
    pub template: Arc<RoomTemplate>,
    /// The next avatar number to hand out (numbers are never reused in a room's lifetime).
    pub next_avatar: u32,
    /// Round-robin position among arrival spawn points.
    pub spawn_cursor: usize,
}

/// Who is in a room and who sits where.
#[derive(Component, Default)]
pub(crate) struct Occupants {
    /// Avatar entities with their clients, in join order — which is ascending avatar id, since
    /// numbers are handed out in increasing order and never reused.
    pub members: Vec<(Entity, ClientId)>,
    /// Per template seat: the avatar sitting there.
    pub seats: Vec<Option<Entity>>,
}

/// Everyone in the room this tick, ordered by avatar id (rebuilt every tick). The grid, the
/// stage list and every interest set refer to members by index, so the per-pair work of
/// interest, audio and snapshots reads one contiguous array instead of looking entities up.
#[derive(Component, Default)]
pub(crate) struct Roster(pub Vec<Member>);

/// One avatar as the rest of the tick needs it.
#[derive(Clone, Copy)]
pub(crate) struct Member {
    pub position: Vec3,
    pub yaw: f32,
    pub zones: ZonePresence,
    /// Quantised once here for every snapshot that shows this avatar (its id included).
    pub state: AvatarState,
}

/// In a room small enough, everyone's complete interest set as a bit matrix; otherwise the
/// room's spatial grid: roster indices, with whether each member broadcasts from a stage (the
/// grid is only rebuilt when there is no matrix).
#[derive(Component)]
pub(crate) struct RoomGrid {
    pub grid: SpatialGrid<(u32, bool)>,
    /// Rebuild input, kept for its memory.
    pub items: Vec<((u32, bool), Vec3)>,
    /// When the room has at most `max_visible` members (and at most [`MATRIX_MEMBERS`]): per
    /// roster member, `words` words of bits over the roster, set for the members it sees — the
    /// same set the grid query gives, computed for the whole room at once. Empty otherwise.
    /// Symmetric (bar the stage columns): the floor distance is the same from either end.
    pub matrix: Vec<u64>,
    /// Words per row of `matrix`.
    pub words: usize,
    /// Scratch for the matrix: the roster's floor coordinates.
    pub xs: Vec<f32>,
    pub zs: Vec<f32>,
}

/// The largest room whose interest sets are computed as a matrix (n² pair tests per tick, eight
/// at a time).
pub(crate) const MATRIX_MEMBERS: usize = 128;

impl RoomGrid {
    pub fn new(cell_size: f32) -> Self {
        Self {
            grid: SpatialGrid::new(cell_size),
            items: Vec::new(),
            matrix: Vec::new(),
            words: 0,
            xs: Vec::new(),
            zs: Vec::new(),
        }
    }

    /// The matrix row of roster member `index`, if the room has a matrix this tick.
    pub fn row(&self, index: u32) -> Option<&[u64]> {
        if self.words == 0 {
            return None;
        }
        let start = index as usize * self.words;
        self.matrix.get(start..start + self.words)
    }
}

/// A room's snapshot material for this tick: every member's entry encoded once, as a full
/// state and as a delta against each baseline tick some client of the room holds, so that each
/// client's snapshot is assembled by copying bytes. Also the roster states of recent ticks,
/// which are what those baselines contain.
#[derive(Component, Default)]
pub(crate) struct RoomFrames {
    /// Roster states of the last `ack_window + 1` ticks, oldest first, each ordered by id.
    pub past: VecDeque<(Tick, Vec<AvatarState>)>,
    /// This tick's encoded entry bodies, back to back.
    pub bytes: Vec<u8>,
    /// Per roster member: its full-state entry body.
    pub full: Vec<Span>,
    /// Per baseline tick in use: per roster member, its delta entry body against that tick.
    pub deltas: Vec<(Tick, Vec<Span>)>,
    /// Emptied tables, kept for their memory.
    pub spare: Vec<Vec<Span>>,
}

impl RoomFrames {
    /// The delta table against `tick`, if one was prepared.
    pub fn deltas_against(&self, tick: Tick) -> Option<&[Span]> {
        self.deltas
            .iter()
            .find(|(t, _)| *t == tick)
            .map(|(_, spans)| spans.as_slice())
    }

    /// An avatar's state at a past tick still held.
    pub fn state_at(&self, tick: Tick, id: AvatarId) -> Option<&AvatarState> {
        let (_, states) = self.past.iter().rev().find(|(t, _)| *t == tick)?;
        let index = states.binary_search_by_key(&id, |s| s.id).ok()?;
        states.get(index)
    }

    /// The bytes of a span.
    pub fn body(&self, span: Span) -> &[u8] {
        let start = span.start as usize;
        &self.bytes[start..start + usize::from(span.len)]
    }

    /// The fixed-size window starting at a span (`bytes` ends with that much padding), when the
    /// span fits in it.
    pub fn window(&self, span: Span) -> Option<&[u8; ENTRY_WINDOW]> {
        let start = span.start as usize;
        if usize::from(span.len) > ENTRY_WINDOW {
            return None;
        }
        self.bytes.get(start..start + ENTRY_WINDOW)?.try_into().ok()
    }
}

/// Where an entry body lies in [`RoomFrames::bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u32,
    pub len: u16,
}

impl Span {
    /// Unchanged against the baseline: nothing to send.
    pub const UNCHANGED: Span = Span { start: 0, len: 0 };
    /// Not in the room at the baseline tick (such an avatar is sent in full).
    pub const ABSENT: Span = Span {
        start: u32::MAX,
        len: 0,
    };
}

/// In a room with an interest matrix this tick (see [`RoomGrid::matrix`]), what every member's
/// client holds for every source, as one table for the whole room — the room-wide form of
/// [`Hearing`], which holds it per client otherwise (in larger rooms). The audio step walks the
/// table row by row: one listener's entries lie side by side, and the sources are the roster
/// itself, so nothing is looked up per pair and a change of view is a change of bits, not of
/// a list.
#[derive(Component, Default)]
pub(crate) struct RoomHearing {
    /// Whether the table holds the room's gains (the room had a matrix at the last audio
    /// step); otherwise each member's [`Hearing`] does.
    pub active: bool,
    /// The avatars the rows (listeners) and the columns (sources) stand for, ascending.
    pub ids: Vec<AvatarId>,
    /// Row-major, `ids.len()` squared: the gain held ([`HeldGain::UNHEARD`] for a silent
    /// source in view, [`NOT_HELD`] for one out of view), as in [`HeldGain::gain`].
    pub gains: Vec<f32>,
    /// Row-major like `gains`: the band over which the held answer stands.
    pub bands: Vec<GainBand>,
    /// Per roster member: its client (filled with the roster).
    pub clients: Vec<ClientId>,
    /// This tick's updates, in roster order (moved to the outbox at the end of the tick).
    pub out: Vec<(ClientId, GainUpdate)>,
}

/// A [`RoomHearing`] entry for a source the client holds nothing for.
pub(crate) const NOT_HELD: f32 = -2.0;

/// Roster indices of the members broadcasting from a stage (rebuilt every tick).
#[derive(Component, Default)]
pub(crate) struct Stage(pub Vec<u32>);

/// An avatar: who drives it and which room it is in.
#[derive(Component)]
pub(crate) struct Avatar {
    pub id: AvatarId,
    pub client: ClientId,
    pub room: Entity,
    pub room_id: RoomId,
    /// The room's template, shared (systems need bounds and audio without a room lookup).
    pub template: Arc<RoomTemplate>,
}

/// Metres.
#[derive(Component, Clone, Copy)]
pub(crate) struct Position(pub Vec3);

/// Radians; 0 looks down −Z.
#[derive(Component, Clone, Copy)]
pub(crate) struct Yaw(pub f32);

/// Metres per second, used to extrapolate between inputs.
#[derive(Component, Clone, Copy, Default)]
pub(crate) struct Velocity(pub Vec3);

/// The seat the avatar occupies.
#[derive(Component, Clone, Copy, Default)]
pub(crate) struct Seat(pub Option<u16>);

/// Inputs received since the last tick, coalesced: the latest teleport and the latest move that
/// arrived after it (a teleport discards the moves before it; the move is applied after it);
/// and the snapshot acknowledgements, in arrival order (applied by a parallel pass right after
/// routing, so routing touches one component per input).
#[derive(Component, Default)]
pub(crate) struct PendingInput {
    pub movement: Option<RequestedMove>,
    pub teleport: Option<Vec3>,
    pub acks: SmallVec<[Tick; 2]>,
}

/// A move as the client sent it.
#[derive(Clone, Copy)]
pub(crate) struct RequestedMove {
    pub position: Vec3,
    pub yaw: f32,
    pub velocity: Vec3,
}

/// When the avatar last had a move accepted (bounds how far the next one may go).
#[derive(Component)]
pub(crate) struct MoveClock {
    pub last_move: Tick,
}

/// Who this avatar's client sees this tick, as roster indices in ascending order (which is
/// ascending avatar id, the order snapshots and gain lists need).
///
/// The per-client lists here and in [`Hearing`] and the snapshot history are stored inline up
/// to a typical size, so that they lie in the component tables, client after client, where
/// each pass over the clients reads them in order; separate heap blocks per client made every
/// client a few cache misses per pass.
#[derive(Component, Default)]
pub(crate) struct Interest {
    pub visible: SmallVec<[u32; VISIBLE_INLINE]>,
    /// The avatar's own roster index.
    pub me: Option<u32>,
}

/// Interest entries held inline (the default `max_visible`).
pub(crate) const VISIBLE_INLINE: usize = 64;

/// Gains held inline per listener: one per source in view.
pub(crate) const HEARD_INLINE: usize = VISIBLE_INLINE;

/// Per source in this avatar's view (ascending id): what its client holds — the gain last sent,
/// or nothing — and the distances over which that stays the answer.
///
/// Silent sources in view are held too (as [`HeldGain::UNHEARD`]), so that in the steady state
/// the list matches the interest set entry for entry and the audio step walks both in step.
#[derive(Component, Default)]
pub(crate) struct Hearing {
    pub held: SmallVec<[HeldGain; HEARD_INLINE]>,
}

/// One source as its listener's client holds it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeldGain {
    pub source: AvatarId,
    /// The gain last sent; [`HeldGain::UNHEARD`] when the client holds none (never sent, or
    /// last sent as 0).
    pub gain: f32,
    /// Squared distances at which the rules (under the spatial zone rule) give the same answer
    /// as `gain` — keep the value sent, or stay silent.
    pub band: GainBand,
}

impl HeldGain {
    /// The `gain` of a source the client does not hear.
    pub const UNHEARD: f32 = -1.0;

    /// Whether the client holds a gain for this source.
    pub fn heard(&self) -> bool {
        self.gain >= 0.0
    }
}

/// What this tick produced for this avatar's client, collected into the outbox in avatar
/// order once the parallel steps are done (after the gains of the rooms' tables, which do not
/// pass through here).
#[derive(Component, Default)]
pub(crate) struct Outgoing {
    pub gains: Option<GainUpdate>,
    pub snapshot: Option<RoomSnapshot>,
}

/// What this avatar's client acknowledged and was sent.
#[derive(Component, Default)]
pub(crate) struct SnapshotState {
    pub history: SnapshotHistory,
}
