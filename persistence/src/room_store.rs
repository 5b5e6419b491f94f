//! `RoomStore`: the virtual rooms of an organization.
//!
//! A room row says which template a room uses (plus its overrides, or a whole custom template),
//! how many may enter and which chat channel is its text chat. The live part of a room (who is
//! where) is not stored: it lives in the simulation and is rebuilt by joining again.

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ids::{ChannelId, OrgId, RoomId};
use atrium_core::model::Room;

use crate::millis;
use crate::store::{Page, Paged, StoreResult};

/// Changes to a room; `None` leaves a field as it is.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomUpdate {
    pub name: Option<String>,
    pub capacity: Option<u32>,
    /// A new template name and its data (overrides or a whole custom template).
    pub template: Option<(String, Option<serde_json::Value>)>,
    /// `Some(None)` unlinks the chat channel.
    pub channel_id: Option<Option<ChannelId>>,
    /// When the change was made (`updated_at`).
    pub at: OffsetDateTime,
}

impl RoomUpdate {
    /// An update that changes nothing but `updated_at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self {
            name: None,
            capacity: None,
            template: None,
            channel_id: None,
            at,
        }
    }
}

#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Stores a new room. `Conflict("name")` when the organization already has a room of that
    /// name (case-insensitively); `NotFound` when the creator or the linked channel is not of
    /// the room's organization.
    async fn create_room(&self, room: &Room) -> StoreResult<()>;
    /// A room of `org` (`NotFound` for another organization's room).
    async fn get_room(&self, org: OrgId, id: RoomId) -> StoreResult<Room>;
    /// The rooms of `org`, oldest first.
    async fn list_rooms(&self, org: OrgId, page: Page) -> StoreResult<Paged<Room>>;
    /// Applies `update` and returns the room as stored. Same errors as `create_room`.
    async fn update_room(&self, org: OrgId, id: RoomId, update: &RoomUpdate) -> StoreResult<Room>;
    /// Returns whether a room was deleted.
    async fn delete_room(&self, org: OrgId, id: RoomId) -> StoreResult<bool>;
}

/// The room after `update`, as both back ends store it.
pub(crate) fn apply_room_update(room: &mut Room, update: &RoomUpdate) {
    if let Some(name) = &update.name {
        room.name = name.clone();
    }
    if let Some(capacity) = update.capacity {
        room.capacity = capacity;
    }
    if let Some((template, data)) = &update.template {
        room.template = template.clone();
        room.template_data = data.clone();
    }
    if let Some(channel) = update.channel_id {
        room.channel_id = channel;
    }
    room.updated_at = millis::truncate(update.at);
}
