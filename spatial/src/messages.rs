//! What goes into the simulation and what comes out.
//!
//! Inputs arrive in order on one channel; outputs leave once per tick as one [`TickOutputs`]
//! batch, each output addressed to one client. The types carry no transport detail: the engine
//! maps them onto protocol frames (`room.snapshot`, `room.gains`, `room.event`, …) and chooses
//! datagram or stream per [`crate::snapshot::Delivery`].

use std::sync::Arc;

use glam::Vec3;
use smallvec::SmallVec;

use crate::ids::{AvatarId, ClientId, RoomId, Tick};
use crate::input::{AvatarInput, CorrectionReason};
use crate::snapshot::EncodedSnapshot;
use crate::template::RoomTemplate;

/// An instruction for the simulation.
#[derive(Debug, Clone)]
pub enum SpatialInput {
    /// Opens a room. Refused (see [`RoomNotice::CreateRefused`]) if the id is taken, the
    /// template is invalid or the simulation is at its room limit.
    CreateRoom {
        /// The new room's id.
        room: RoomId,
        /// Its template (validated again by the simulation).
        template: Arc<RoomTemplate>,
    },
    /// Closes a room: every occupant leaves (and is told).
    CloseRoom {
        /// Which room.
        room: RoomId,
    },
    /// Puts the client's avatar in a room (leaving any other room first). Joining the room one
    /// is already in re-sends the join result and a full snapshot.
    Join {
        /// Who.
        client: ClientId,
        /// Where.
        room: RoomId,
    },
    /// Removes the client's avatar from its room.
    Leave {
        /// Who.
        client: ClientId,
    },
    /// Moves or teleports the client's avatar (validated, never trusted).
    Avatar {
        /// Whose avatar.
        client: ClientId,
        /// What it should do.
        input: AvatarInput,
    },
    /// The client holds every part of the snapshot of `tick`: later snapshots may be coded
    /// against it.
    Ack {
        /// Who.
        client: ClientId,
        /// The acknowledged snapshot tick.
        tick: Tick,
    },
}

/// Everything one tick produced.
#[derive(Debug, Clone, Default)]
pub struct TickOutputs {
    /// The tick.
    pub tick: Tick,
    /// Per-client outputs, in the order produced (for one client: join result before its first
    /// snapshot; events and corrections before that tick's snapshot).
    pub outputs: Vec<Addressed>,
    /// Outcomes of room creation and closing, for whoever manages rooms.
    pub notices: Vec<RoomNotice>,
}

/// An output for one client.
#[derive(Debug, Clone)]
pub struct Addressed {
    /// The recipient.
    pub client: ClientId,
    /// The output.
    pub output: SpatialOutput,
}

/// What a client receives.
#[derive(Debug, Clone)]
pub enum SpatialOutput {
    /// The join succeeded (reply to `room.join`). A full snapshot follows in the same tick.
    Joined(JoinedRoom),
    /// The join was refused.
    JoinRefused {
        /// The room asked for.
        room: RoomId,
        /// Why.
        reason: JoinRefusal,
    },
    /// The client's avatar left its room (on request or because the room closed).
    Left {
        /// The room left.
        room: RoomId,
    },
    /// The client's view of its room.
    Snapshot(RoomSnapshot),
    /// Gains of audible sources that changed beyond the threshold.
    Gains(GainUpdate),
    /// Something happened in the room.
    Event(RoomEvent),
    /// The client's input was corrected; this is where its avatar really is.
    Correction(Correction),
}

impl SpatialOutput {
    /// Whether a transport may drop this output under pressure. Snapshots may be dropped (the
    /// next one is coded against the last acknowledged view, so nothing is lost for good);
    /// everything else is state the client would otherwise miss.
    pub fn is_droppable(&self) -> bool {
        matches!(self, SpatialOutput::Snapshot(_))
    }
}

/// The result of a successful join.
#[derive(Debug, Clone)]
pub struct JoinedRoom {
    /// The room.
    pub room: RoomId,
    /// The client's avatar number in this room.
    pub avatar: AvatarId,
    /// The room's template (bounds for dequantising snapshots, audio parameters for the
    /// client's `PannerNode`s, seats and zones to draw).
    pub template: Arc<RoomTemplate>,
    /// Where the avatar was placed.
    pub position: Vec3,
    /// Its facing, radians.
    pub yaw: f32,
    /// The seat it was given, if any.
    pub seat: Option<u16>,
    /// Avatars in the room, including this one.
    pub occupants: u32,
}

/// Why a join was refused. The string forms are stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    /// No such room in this simulation.
    UnknownRoom,
    /// The room is at its template's capacity.
    RoomFull,
}

impl JoinRefusal {
    /// Stable snake-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            JoinRefusal::UnknownRoom => "room_not_found",
            JoinRefusal::RoomFull => "room_full",
        }
    }
}

/// A snapshot for one client.
#[derive(Debug, Clone)]
pub struct RoomSnapshot {
    /// The room it describes.
    pub room: RoomId,
    /// The encoded snapshot.
    pub snapshot: EncodedSnapshot,
}

/// Changed gains for one listener.
#[derive(Debug, Clone, PartialEq)]
pub struct GainUpdate {
    /// The listener's room.
    pub room: RoomId,
    /// When computed.
    pub tick: Tick,
    /// Sources whose gain changed by more than the threshold since last sent (0 = now silent),
    /// ascending by avatar. A few per update is typical: up to [`GAINS_INLINE`] are held inline.
    pub gains: SmallVec<[SourceGain; GAINS_INLINE]>,
}

/// How many changed gains a [`GainUpdate`] holds without a heap allocation.
pub const GAINS_INLINE: usize = 8;

/// One source's gain for one listener.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceGain {
    /// The speaking avatar.
    pub avatar: AvatarId,
    /// Linear gain in [0, 1], as a `GainNode` would take it.
    pub gain: f32,
}

/// Something visible to everyone in a room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// An avatar entered.
    Joined {
        /// The room.
        room: RoomId,
        /// The newcomer's avatar.
        avatar: AvatarId,
        /// The newcomer's client.
        client: ClientId,
    },
    /// An avatar left.
    Left {
        /// The room.
        room: RoomId,
        /// Its avatar.
        avatar: AvatarId,
    },
    /// An avatar sat down.
    Seated {
        /// The room.
        room: RoomId,
        /// Its avatar.
        avatar: AvatarId,
        /// The seat index in the template.
        seat: u16,
    },
    /// An avatar left its seat.
    Stood {
        /// The room.
        room: RoomId,
        /// Its avatar.
        avatar: AvatarId,
        /// The seat freed.
        seat: u16,
    },
}

/// The server's answer to an input it could not take as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// When applied.
    pub tick: Tick,
    /// Everything that was wrong.
    pub reasons: Vec<CorrectionReason>,
    /// The avatar's authoritative position.
    pub position: Vec3,
    /// Its authoritative facing.
    pub yaw: f32,
    /// Its authoritative velocity.
    pub velocity: Vec3,
}

/// Room lifecycle results.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomNotice {
    /// The room exists now.
    Created {
        /// Which.
        room: RoomId,
    },
    /// The room was not created.
    CreateRefused {
        /// Which.
        room: RoomId,
        /// Why, for a log or an error reply.
        reason: String,
    },
    /// The room was closed.
    Closed {
        /// Which.
        room: RoomId,
    },
}
