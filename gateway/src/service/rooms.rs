//! Virtual rooms: the HTTP control plane's use cases.
//!
//! Who may do what:
//! - list and read rooms, and see who is in one: `rooms.read` (every role);
//! - create a room: `rooms.create` (users, moderators, admins);
//! - change or delete a room: its creator, or holders of `rooms.manage` (moderators, admins).
//!
//! A room of another organization always reads as "not found". A room's template is checked
//! when it is created or changed (the same resolution the simulation runs), so a room that was
//! accepted also opens.

use atrium_actors::rooms::templates::{self, RoomTemplateError};
use atrium_core::ids::{ChannelId, RoomId};
use atrium_core::model::{Channel, ChannelKind, MemberRole, Room};
use atrium_persistence::store::{Page, Paged, RoomUpdate, Store, StoreError};
use atrium_spatial::template::MAX_ROOM_CAPACITY;
use atrium_spatial::{RoomTemplate, TemplateCatalog};
use serde_json::{Value, json};

use super::audit::{self, AuditEvent};
use super::channels::validate_channel_name;
use super::clock;
use super::error::OrNotFound;
use super::{Caller, ServiceError, ServiceResult};

/// Audit actions of rooms.
pub mod actions {
    pub const ROOM_CREATE: &str = "room.create";
    pub const ROOM_UPDATE: &str = "room.update";
    pub const ROOM_DELETE: &str = "room.delete";
}

/// Longest room name, in characters.
pub const ROOM_NAME_MAX: usize = 80;
/// Largest `template_data`, in bytes of JSON.
pub const MAX_TEMPLATE_DATA_BYTES: usize = 256 * 1024;

/// A room to create.
#[derive(Clone, Debug, Default)]
pub struct NewRoom {
    pub name: String,
    pub template: String,
    pub template_data: Option<Value>,
    /// Defaults to the template's capacity.
    pub capacity: Option<u32>,
    /// Link this existing channel as the room's chat...
    pub channel_id: Option<ChannelId>,
    /// ...or create one (named after the room, the caller its owner). Ignored with a
    /// `channel_id`.
    pub create_chat: bool,
}

/// Changes to a room.
#[derive(Clone, Debug, Default)]
pub struct RoomChanges {
    pub name: Option<String>,
    pub template: Option<String>,
    /// `Some(None)` removes the overrides.
    pub template_data: Option<Option<Value>>,
    pub capacity: Option<u32>,
    /// `Some(None)` unlinks the chat channel.
    pub channel_id: Option<Option<ChannelId>>,
}

pub async fn list(store: &dyn Store, caller: &Caller, page: Page) -> ServiceResult<Paged<Room>> {
    caller.require("rooms.read")?;
    Ok(store.list_rooms(caller.org(), page).await?)
}

pub async fn get(store: &dyn Store, caller: &Caller, id: RoomId) -> ServiceResult<Room> {
    caller.require("rooms.read")?;
    store.get_room(caller.org(), id).await.or_not_found("room")
}

pub async fn create(
    store: &dyn Store,
    catalog: &TemplateCatalog,
    caller: &Caller,
    new: NewRoom,
) -> ServiceResult<Room> {
    caller.require("rooms.create")?;
    let name = validate_room_name(&new.name)?;
    check_template_data(new.template_data.as_ref())?;
    let capacity = match new.capacity {
        Some(capacity) => check_capacity(capacity)?,
        None => default_capacity(catalog, &new.template, new.template_data.as_ref())?,
    };
    check_template(catalog, &new.template, new.template_data.as_ref(), capacity)?;
    let channel_id = match new.channel_id {
        Some(channel) => Some(check_linkable(store, caller, channel).await?),
        None if new.create_chat => Some(create_chat(store, caller, &name).await?.id),
        None => None,
    };
    let at = clock::now();
    let room = Room {
        id: RoomId::new(),
        org_id: caller.org(),
        name,
        template: new.template,
        template_data: new.template_data,
        channel_id,
        capacity,
        created_by: caller.id(),
        created_at: at,
        updated_at: at,
    };
    store.create_room(&room).await.map_err(|e| match e {
        StoreError::NotFound => ServiceError::NotFound("channel not found".into()),
        StoreError::Conflict(_) => {
            ServiceError::Conflict("name: your organization has a room of that name".into())
        }
        other => other.into(),
    })?;
    audit::record(
        store,
        AuditEvent {
            org: room.org_id,
            actor: Some(caller.id()),
            action: actions::ROOM_CREATE,
            target: Some(room.id.to_string()),
            detail: json!({"name": room.name, "template": room.template, "capacity": room.capacity}),
        },
    )
    .await;
    Ok(room)
}

pub async fn update(
    store: &dyn Store,
    catalog: &TemplateCatalog,
    caller: &Caller,
    id: RoomId,
    changes: RoomChanges,
) -> ServiceResult<Room> {
    let room = get(store, caller, id).await?;
    ensure_manager(caller, &room)?;
    let name = changes
        .name
        .as_deref()
        .map(validate_room_name)
        .transpose()?;
    let capacity = changes.capacity.map(check_capacity).transpose()?;
    let template = changes
        .template
        .clone()
        .unwrap_or_else(|| room.template.clone());
    let data = match &changes.template_data {
        Some(data) => data.clone(),
        // A new base template starts without the old one's overrides.
        None if changes.template.is_some() => None,
        None => room.template_data.clone(),
    };
    check_template_data(data.as_ref())?;
    check_template(
        catalog,
        &template,
        data.as_ref(),
        capacity.unwrap_or(room.capacity),
    )?;
    if let Some(Some(channel)) = changes.channel_id {
        check_linkable(store, caller, channel).await?;
    }
    let template_changed = changes.template.is_some() || changes.template_data.is_some();
    let update = RoomUpdate {
        name,
        capacity,
        template: template_changed.then_some((template, data)),
        channel_id: changes.channel_id,
        at: clock::now(),
    };
    let updated = store
        .update_room(caller.org(), id, &update)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound("room or channel not found".into()),
            StoreError::Conflict(_) => {
                ServiceError::Conflict("name: your organization has a room of that name".into())
            }
            other => other.into(),
        })?;
    audit::record(
        store,
        AuditEvent {
            org: updated.org_id,
            actor: Some(caller.id()),
            action: actions::ROOM_UPDATE,
            target: Some(id.to_string()),
            detail: json!({"name": updated.name, "template": updated.template, "capacity": updated.capacity}),
        },
    )
    .await;
    Ok(updated)
}

/// Deletes a room; the caller closes it in the live simulation.
pub async fn delete(store: &dyn Store, caller: &Caller, id: RoomId) -> ServiceResult<Room> {
    let room = get(store, caller, id).await?;
    ensure_manager(caller, &room)?;
    if !store.delete_room(caller.org(), id).await? {
        return Err(ServiceError::NotFound("room not found".into()));
    }
    audit::record(
        store,
        AuditEvent {
            org: room.org_id,
            actor: Some(caller.id()),
            action: actions::ROOM_DELETE,
            target: Some(id.to_string()),
            detail: json!({"name": room.name}),
        },
    )
    .await;
    Ok(room)
}

/// The templates rooms can be made from, by name.
pub fn templates(caller: &Caller, catalog: &TemplateCatalog) -> ServiceResult<Vec<RoomTemplate>> {
    caller.require("rooms.read")?;
    Ok(catalog.iter().map(|t| t.as_ref().clone()).collect())
}

fn ensure_manager(caller: &Caller, room: &Room) -> ServiceResult<()> {
    if room.created_by == caller.id() || caller.can("rooms.manage") {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only the room's creator, moderators and admins may change or delete it".into(),
        ))
    }
}

/// Trims and checks a room name: 1–80 characters, no control characters.
pub fn validate_room_name(name: &str) -> ServiceResult<String> {
    validate_channel_name(name).map_err(|e| match e {
        ServiceError::Invalid(message) => ServiceError::Invalid(message.replace(
            &format!("at most {}", super::channels::CHANNEL_NAME_MAX),
            &format!("at most {ROOM_NAME_MAX}"),
        )),
        other => other,
    })
}

fn check_capacity(capacity: u32) -> ServiceResult<u32> {
    if (1..=MAX_ROOM_CAPACITY).contains(&capacity) {
        Ok(capacity)
    } else {
        Err(ServiceError::Invalid(format!(
            "capacity: must be between 1 and {MAX_ROOM_CAPACITY}"
        )))
    }
}

fn check_template_data(data: Option<&Value>) -> ServiceResult<()> {
    let Some(data) = data else { return Ok(()) };
    if !data.is_object() {
        return Err(ServiceError::Invalid(
            "template_data: must be a JSON object".into(),
        ));
    }
    let size = serde_json::to_vec(data)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_TEMPLATE_DATA_BYTES {
        return Err(ServiceError::Invalid(format!(
            "template_data: {size} bytes; the limit is {MAX_TEMPLATE_DATA_BYTES}"
        )));
    }
    Ok(())
}

/// The capacity of the template as given (before the room's own capacity replaces it).
fn default_capacity(
    catalog: &TemplateCatalog,
    template: &str,
    data: Option<&Value>,
) -> ServiceResult<u32> {
    let from_data = data
        .and_then(|d| d.get("capacity"))
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok());
    let capacity = from_data.or_else(|| catalog.get(template).map(|t| t.capacity));
    match capacity {
        Some(capacity) => check_capacity(capacity),
        None => check_template(catalog, template, data, 1).map(|()| 1),
    }
}

fn check_template(
    catalog: &TemplateCatalog,
    template: &str,
    data: Option<&Value>,
    capacity: u32,
) -> ServiceResult<()> {
    templates::resolve(catalog, template, data, capacity)
        .map(|_| ())
        .map_err(|e| match e {
            RoomTemplateError::Unknown(_) => ServiceError::Invalid(format!(
                "template: {e}; GET /api/v1/rooms/templates lists them (or use `custom`)"
            )),
            other => ServiceError::Invalid(format!("template_data: {other}")),
        })
}

/// Linking a channel makes every occupant a member of it: only its owners and admins (or
/// holders of `channels.manage`) may do that.
async fn check_linkable(
    store: &dyn Store,
    caller: &Caller,
    channel: ChannelId,
) -> ServiceResult<ChannelId> {
    let found = store
        .get_channel(caller.org(), channel)
        .await
        .or_not_found("channel")?;
    if found.kind == ChannelKind::Direct {
        return Err(ServiceError::Invalid(
            "channel_id: a direct channel cannot be a room's chat".into(),
        ));
    }
    if caller.can("channels.manage") {
        return Ok(channel);
    }
    match store.get_member(channel, caller.id()).await {
        Ok(member) if matches!(member.role, MemberRole::Owner | MemberRole::Admin) => Ok(channel),
        Ok(_) | Err(StoreError::NotFound) => Err(ServiceError::Forbidden(
            "only the channel's owners and admins may link it to a room".into(),
        )),
        Err(other) => Err(other.into()),
    }
}

async fn create_chat(store: &dyn Store, caller: &Caller, name: &str) -> ServiceResult<Channel> {
    let channel = Channel {
        id: ChannelId::new(),
        org_id: caller.org(),
        name: name.to_owned(),
        kind: ChannelKind::Group,
        created_by: caller.id(),
        created_at: clock::now(),
        last_seq: 0,
    };
    store.create_channel(&channel).await?;
    Ok(channel)
}
