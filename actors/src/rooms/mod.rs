//! Virtual rooms: the realtime core's side of the spatial simulation.
//!
//! - [`actor`]: `RoomsActor`, a child of the root supervisor that owns the node's one
//!   `SpatialDriver` (the bevy_ecs world on its own thread), opens rooms lazily from the store,
//!   routes each tick's outputs to session outboxes (or datagrams) and runs the grace period.
//! - [`registry`]: who is in which room, shared with the transports and surviving restarts.
//! - [`input`]: `pos`, `room.ack` and `room.teleport`, which go straight to the simulation.
//! - [`templates`]: a room row's template (catalog name, overrides, custom data, files).
//! - [`layout`]: the room description `room.join` returns.
//! - [`config`]: the rooms' settings, [`RoomsConfig`].

pub mod actor;
pub mod config;
pub mod input;
pub mod layout;
pub mod registry;
pub mod templates;

pub use actor::RoomsMsg;
pub use config::RoomsConfig;
pub use input::{RoomInput, RoomInputRefused};
pub use registry::{Occupant, RoomRegistry};

use crate::slot::ActorSlot;

/// The organization permission needed to enter a room.
pub const JOIN_PERMISSION: &str = "rooms.join";

/// What every actor shares about rooms.
#[derive(Default)]
pub struct RoomsContext {
    pub slot: ActorSlot<RoomsMsg>,
    pub registry: RoomRegistry,
}

/// The simulation's id of a room (the same UUID).
pub fn sim_room(room: atrium_core::ids::RoomId) -> atrium_spatial::RoomId {
    atrium_spatial::RoomId(room.as_uuid())
}

/// Metric names of the engine side of rooms.
pub mod telemetry {
    /// Counter, label `via` (`datagram`, `frame`): snapshot parts sent.
    pub const SNAPSHOT_PARTS: &str = "atrium_rooms_snapshot_parts_total";
    /// Counter: snapshot outputs shed because the rooms actor fell behind the simulation.
    pub const SNAPSHOTS_SHED: &str = "atrium_rooms_snapshots_shed_total";
    /// Counter, label `reason`: room inputs dropped (`stale`, `busy`).
    pub const INPUTS_DROPPED: &str = "atrium_rooms_inputs_dropped_total";
    /// Gauge: users in rooms (placed, joining or away) on this node.
    pub const OCCUPANTS: &str = "atrium_rooms_occupants";
}
