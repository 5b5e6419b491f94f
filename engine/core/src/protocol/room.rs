//! The payloads of the room frames (`room.join`'s result, `room.event`, `room.gains`, …).
//!
//! A room's simulation lives in `atrium-spatial`; these are its wire shapes, kept here so that
//! clients decode them without the simulation crate. Positions are metres as `f32` (`[x, y, z]`,
//! +Y up, the floor is X–Z), facings (`yaw`) radians with 0 looking down −Z and growing
//! counter-clockwise seen from above. Snapshot data is the binary layout of `docs/spatial.md`.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, RoomId};

/// The `ok` result of `room.join`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomJoined {
    /// What the room is and looks like.
    pub room: RoomInfo,
    /// The caller's avatar number in this room (what snapshots, gains and events name).
    pub avatar: u32,
    /// The simulation tick of the join; snapshots of earlier ticks belong to an earlier stay.
    pub tick: u64,
    /// Where the avatar was placed.
    pub p: [f32; 3],
    /// Its facing, radians.
    pub yaw: f32,
    /// The seat it was given (an index into `room.layout.seats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<u16>,
    /// Avatars in the room, the caller included.
    pub occupants: u32,
    /// The first (full) snapshot, as its encoded parts.
    pub snapshot: Vec<SnapshotData>,
}

/// One encoded snapshot part (MessagePack `bin`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SnapshotData(pub Vec<u8>);

impl Serialize for SnapshotData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for SnapshotData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_byte_buf(BytesVisitor)
            .map(SnapshotData)
    }
}

struct BytesVisitor;

impl<'de> serde::de::Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("binary data")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }
}

/// A room as `room.join` describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: RoomId,
    pub name: String,
    /// The template it was built from (`theater`, `custom`, …).
    pub template: String,
    /// The linked chat channel for text chat in the room: joining makes the caller a member,
    /// so `sub` and `msg.send` work there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    pub capacity: u32,
    pub layout: RoomLayout,
}

/// The geometry and audio settings a client needs to draw the room, dequantise snapshots and
/// configure its `PannerNode`s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomLayout {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// `[min, max]` corners of the walkable box, metres. Snapshot positions are centimetres
    /// from `min`.
    pub bounds: [[f32; 3]; 2],
    /// Metres beyond which spatial sources are silent.
    pub audible_range: f32,
    pub audio: AudioParams,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spawn_points: Vec<Spot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<Spot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<ZoneInfo>,
}

/// `PannerNode` attributes, named as in the Web Audio specification (snake case).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioParams {
    /// `linear`, `inverse` or `exponential`.
    pub distance_model: String,
    pub ref_distance: f64,
    pub max_distance: f64,
    pub rolloff_factor: f64,
    pub cone_inner_angle: f64,
    pub cone_outer_angle: f64,
    pub cone_outer_gain: f64,
}

/// A seat or spawn point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spot {
    pub p: [f32; 3],
    /// Radians.
    pub yaw: f32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

/// A floor rectangle with an effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneInfo {
    pub name: String,
    /// `stage` (heard and seen by the whole room), `private` (heard only inside) or `area`.
    pub kind: String,
    /// `[x, z]` corners.
    pub min: [f32; 2],
    pub max: [f32; 2],
}

/// What a `room.event` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomEventKind {
    /// `avatar` (of `user`) entered.
    Joined,
    /// `avatar` (of `user`) left.
    Left,
    /// `avatar` sat down on `seat`.
    Seated,
    /// `avatar` stood up from `seat`.
    Stood,
    /// The receiver is no longer in the room, for `reason`; join again (or elsewhere).
    Closed,
}

/// Why a receiver was taken out of a room (`room.event {kind: "closed"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomClosedReason {
    /// The room was deleted.
    Deleted,
    /// The node's simulation restarted; joining again works at once.
    Restarted,
    /// The same user joined from another session, which now drives the avatar.
    Moved,
    /// The node is shutting down.
    ShuttingDown,
}

/// One listener's gain for one source: `[avatar, gain]`, gain linear in [0, 1] (0 = silent).
pub type SourceGain = (u32, f32);
