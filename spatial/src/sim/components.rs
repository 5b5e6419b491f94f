//! Components: small pieces of state that systems read and write.
//!
//! A room is one entity (`Room`, `Occupants`, `RoomGrid`, `Stage`); an avatar is one entity
//! (`Avatar` plus its pose, inputs and per-client output state).

use std::sync::Arc;

use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;
use glam::Vec3;

use crate::audio::ZonePresence;
use crate::grid::SpatialGrid;
use crate::ids::{AvatarId, ClientId, RoomId, Tick};
use crate::snapshot::{AvatarState, SnapshotHistory};
use crate::template::RoomTemplate;

/// A room: its template and avatar numbering (its id is the `Directory` key).
#[derive(Component)]
pub(crate) struct Room {
    pub template: Arc<RoomTemplate>,
    /// The next avatar number to hand out (numbers are never reused in a room's lifetime).
    pub next_avatar: u32,
    /// Round-robin position among arrival spawn points.
    pub spawn_cursor: usize,
}

/// Who is in a room and who sits where.
#[derive(Component, Default)]
pub(crate) struct Occupants {
    /// Avatar entities with their clients, in join order.
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

/// The room's spatial hash grid: roster indices, with whether each member is on a stage.
#[derive(Component)]
pub(crate) struct RoomGrid(pub SpatialGrid<(u32, bool)>);

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

/// Stage and private-zone presence, recomputed every tick.
#[derive(Component, Clone, Copy, Default)]
pub(crate) struct Zones(pub ZonePresence);

/// Inputs received since the last tick, coalesced: the latest move and the latest teleport.
#[derive(Component, Default)]
pub(crate) struct PendingInput {
    pub movement: Option<RequestedMove>,
    pub teleport: Option<Vec3>,
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
#[derive(Component, Default)]
pub(crate) struct Interest {
    pub visible: Vec<Visible>,
}

/// One visible avatar, with the priority it was selected by.
#[derive(Clone, Copy)]
pub(crate) struct Visible {
    /// Index in the room's roster.
    pub member: u32,
    /// Selection priority, lower first: rank (0 the viewer, 1 on a stage, 2 nearby) in the high
    /// half, squared distance (a non-negative `f32`, whose bits order like its value) in the low.
    pub priority: u64,
}

/// The gains last sent to this avatar's client, by source, ascending.
#[derive(Component, Default)]
pub(crate) struct Hearing {
    pub last_sent: Vec<(AvatarId, f32)>,
}

/// What this avatar's client acknowledged and was sent.
#[derive(Component, Default)]
pub(crate) struct SnapshotState {
    pub history: SnapshotHistory,
}
