//! Identifiers used by the simulation.
//!
//! `RoomId` and `ClientId` are opaque UUIDs chosen by the caller: the engine decides whether a
//! client is a session or a user (a reconnecting user can keep its avatar if the engine maps both
//! sessions to the same `ClientId`). `AvatarId` is small and room-local on purpose: it is what
//! snapshots and gain updates carry, so it must cost one or two bytes on the wire, not sixteen.

use std::fmt;

use atrium_core::ids::{SessionId, UserId};
use uuid::Uuid;

/// A simulation step number. Tick 1 is the first step a [`crate::Simulation`] runs; 0 means
/// "no tick yet".
pub type Tick = u64;

/// A room known to the simulation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub Uuid);

/// Whoever drives one avatar and receives one stream of outputs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub Uuid);

/// An avatar's number inside its room, assigned on join (1, 2, 3, … never reused while the room
/// lives), so a client never confuses a newcomer with someone who left.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct AvatarId(pub u32);

impl RoomId {
    /// A fresh random room id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for RoomId {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientId {
    /// A fresh random client id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for ClientId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for RoomId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl From<Uuid> for ClientId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl From<SessionId> for ClientId {
    fn from(value: SessionId) -> Self {
        Self(value.as_uuid())
    }
}

impl From<UserId> for ClientId {
    fn from(value: UserId) -> Self {
        Self(value.as_uuid())
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomId({})", self.0.hyphenated())
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0.hyphenated())
    }
}

impl fmt::Display for AvatarId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
