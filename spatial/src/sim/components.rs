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
use crate::snapshot::SnapshotHistory;
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

/// The room's spatial hash grid of avatars (with whether each is on a stage).
#[derive(Component)]
pub(crate) struct RoomGrid(pub SpatialGrid<(Entity, bool)>);

/// Avatars standing on a stage in this room, with their positions (rebuilt every tick).
#[derive(Component, Default)]
pub(crate) struct Stage(pub Vec<(Entity, Vec3)>);

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

/// Who this avatar's client sees this tick.
#[derive(Component, Default)]
pub(crate) struct Interest {
    pub visible: Vec<Visible>,
}

/// One visible avatar, with the priority it was selected by.
#[derive(Clone, Copy)]
pub(crate) struct Visible {
    pub entity: Entity,
    /// 0 the viewer itself, 1 on a stage, 2 nearby.
    pub rank: u8,
    pub distance_sq: f32,
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
