//! `/api/v1/rooms/*`: virtual rooms, their templates and who is in them.

use std::sync::Arc;

use atrium_core::ids::{ChannelId, RoomId, UserId};
use atrium_core::model::Room;
use atrium_spatial::TemplateCatalog;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::{OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::views::Pagination;
use crate::AppState;
use crate::service::rooms::{self, NewRoom, RoomChanges};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rooms", get(list_rooms).post(create_room))
        .route("/api/v1/rooms/templates", get(list_templates))
        .route(
            "/api/v1/rooms/{id}",
            get(get_room).patch(update_room).delete(delete_room),
        )
        .route("/api/v1/rooms/{id}/occupants", get(list_occupants))
}

#[derive(OpenApi)]
#[openapi(paths(
    list_rooms,
    create_room,
    list_templates,
    get_room,
    update_room,
    delete_room,
    list_occupants
))]
pub struct RoomsApi;

/// The node's template catalog (the built-in one on a node without the realtime core).
fn catalog(state: &AppState) -> Arc<TemplateCatalog> {
    match &state.realtime {
        Some(live) => live.realtime.room_templates(),
        None => Arc::new(atrium_actors::rooms::config::builtin_catalog()),
    }
}

/// A virtual room.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomView {
    #[schema(value_type = uuid::Uuid)]
    pub id: RoomId,
    pub name: String,
    /// A template name from `GET /api/v1/rooms/templates`, or `custom`.
    pub template: String,
    /// Overrides (a JSON merge patch over the template), or the whole custom template.
    #[schema(value_type = Option<Object>)]
    pub template_data: Option<serde_json::Value>,
    /// The room's text chat (joining the room makes you a member).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub channel_id: Option<ChannelId>,
    pub capacity: u32,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Room> for RoomView {
    fn from(r: Room) -> Self {
        Self {
            id: r.id,
            name: r.name,
            template: r.template,
            template_data: r.template_data,
            channel_id: r.channel_id,
            capacity: r.capacity,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of rooms.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomPage {
    pub items: Vec<RoomView>,
    /// All rooms of the organization.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A room to create.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// 1–80 characters, unique in your organization (case-insensitively).
    #[schema(example = "Town hall")]
    pub name: String,
    /// A template name, or `custom` (then `template_data` is the whole template).
    #[schema(example = "theater")]
    pub template: String,
    /// Overrides over the template as a JSON merge patch (`{"title": "…", "audio": {…}}`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub template_data: Option<serde_json::Value>,
    /// 1–5000; the template's capacity when absent.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// An existing channel (you own or administer) to be the room's chat.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub channel_id: Option<ChannelId>,
    /// Without `channel_id`: create a chat channel for the room (default `true`).
    #[serde(default = "yes")]
    pub create_chat: bool,
}

fn yes() -> bool {
    true
}

/// Changes to a room; absent fields stay as they are. Template and capacity changes apply
/// when the room next opens (after its last occupant left).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoom {
    pub name: Option<String>,
    pub template: Option<String>,
    /// `null` removes the overrides.
    #[serde(default, deserialize_with = "explicit")]
    #[schema(value_type = Option<Object>)]
    pub template_data: Option<Option<serde_json::Value>>,
    pub capacity: Option<u32>,
    /// `null` unlinks the chat channel.
    #[serde(default, deserialize_with = "explicit")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub channel_id: Option<Option<ChannelId>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn explicit<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A template rooms can be made from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    #[schema(example = "theater")]
    pub name: String,
    pub title: String,
    pub capacity: u32,
    pub seats: usize,
    pub spawn_points: usize,
    /// The whole template (bounds, audio, seats, spawn points, zones), as `template_data` of a
    /// custom room takes it.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

/// The templates.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateView>,
}

/// Someone in a room.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OccupantView {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    /// The avatar number snapshots and gains use.
    pub avatar: u32,
    pub seat: Option<u16>,
    /// The user's connection dropped; the avatar waits out the reconnect grace period.
    pub away: bool,
}

/// Who is in the room now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OccupantList {
    pub items: Vec<OccupantView>,
}

/// The rooms of your organization, oldest first.
#[utoipa::path(
    get, path = "/api/v1/rooms", tag = "rooms",
    security(("bearer" = [])),
    params(Pagination),
    responses(
        (status = 200, description = "A page of rooms", body = RoomPage),
        (status = 400, description = "Bad pagination", body = ErrorBody),
    )
)]
pub async fn list_rooms(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<Pagination>,
) -> Result<Json<RoomPage>, ApiError> {
    let page = q.page()?;
    let found = rooms::list(state.store.as_ref(), &caller, page).await?;
    Ok(Json(RoomPage {
        items: found.items.into_iter().map(RoomView::from).collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// Create a room (users, moderators, admins).
#[utoipa::path(
    post, path = "/api/v1/rooms", tag = "rooms",
    security(("bearer" = [])),
    request_body = CreateRoom,
    responses(
        (status = 201, description = "The new room", body = RoomView),
        (status = 400, description = "Bad name, capacity, template or template data", body = ErrorBody),
        (status = 403, description = "Your role cannot create rooms, or you may not link that channel", body = ErrorBody),
        (status = 404, description = "No such channel in your organization", body = ErrorBody),
        (status = 409, description = "A room of that name exists", body = ErrorBody),
    )
)]
pub async fn create_room(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<CreateRoom>,
) -> Result<(StatusCode, Json<RoomView>), ApiError> {
    let new = NewRoom {
        name: req.name,
        template: req.template,
        template_data: req.template_data,
        capacity: req.capacity,
        channel_id: req.channel_id,
        create_chat: req.create_chat,
    };
    let room = rooms::create(state.store.as_ref(), &catalog(&state), &caller, new).await?;
    Ok((StatusCode::CREATED, Json(room.into())))
}

/// The templates rooms can be made from (built-in ones and those of the templates directory).
#[utoipa::path(
    get, path = "/api/v1/rooms/templates", tag = "rooms",
    security(("bearer" = [])),
    responses((status = 200, description = "The templates, by name", body = TemplateList))
)]
pub async fn list_templates(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TemplateList>, ApiError> {
    let templates = rooms::templates(&caller, &catalog(&state))?;
    Ok(Json(TemplateList {
        items: templates
            .into_iter()
            .map(|t| TemplateView {
                definition: serde_json::to_value(&t).unwrap_or_default(),
                name: t.name,
                title: t.title,
                capacity: t.capacity,
                seats: t.seats.len(),
                spawn_points: t.spawn_points.len(),
            })
            .collect(),
    }))
}

/// A room.
#[utoipa::path(
    get, path = "/api/v1/rooms/{id}", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Room id")),
    responses(
        (status = 200, description = "The room", body = RoomView),
        (status = 404, description = "No such room in your organization", body = ErrorBody),
    )
)]
pub async fn get_room(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<RoomId>,
) -> Result<Json<RoomView>, ApiError> {
    Ok(Json(
        rooms::get(state.store.as_ref(), &caller, id).await?.into(),
    ))
}

/// Change a room (its creator, moderators, admins).
#[utoipa::path(
    patch, path = "/api/v1/rooms/{id}", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Room id")),
    request_body = UpdateRoom,
    responses(
        (status = 200, description = "The room as changed", body = RoomView),
        (status = 400, description = "Bad name, capacity, template or template data", body = ErrorBody),
        (status = 403, description = "Not the room's creator, a moderator or an admin", body = ErrorBody),
        (status = 404, description = "No such room (or channel) in your organization", body = ErrorBody),
        (status = 409, description = "A room of that name exists", body = ErrorBody),
    )
)]
pub async fn update_room(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<RoomId>,
    JsonBody(req): JsonBody<UpdateRoom>,
) -> Result<Json<RoomView>, ApiError> {
    let changes = RoomChanges {
        name: req.name,
        template: req.template,
        template_data: req.template_data,
        capacity: req.capacity,
        channel_id: req.channel_id,
    };
    let room = rooms::update(state.store.as_ref(), &catalog(&state), &caller, id, changes).await?;
    Ok(Json(room.into()))
}

/// Delete a room (its creator, moderators, admins). Whoever is in it is told and taken out.
#[utoipa::path(
    delete, path = "/api/v1/rooms/{id}", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Room id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the room's creator, a moderator or an admin", body = ErrorBody),
        (status = 404, description = "No such room in your organization", body = ErrorBody),
    )
)]
pub async fn delete_room(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<RoomId>,
) -> Result<StatusCode, ApiError> {
    rooms::delete(state.store.as_ref(), &caller, id).await?;
    if let Some(live) = &state.realtime {
        live.realtime.close_room(caller.org(), id);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who is in the room right now (on this node), by avatar number.
#[utoipa::path(
    get, path = "/api/v1/rooms/{id}/occupants", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Room id")),
    responses(
        (status = 200, description = "The occupants (none when the room is not open)", body = OccupantList),
        (status = 404, description = "No such room in your organization", body = ErrorBody),
    )
)]
pub async fn list_occupants(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<RoomId>,
) -> Result<Json<OccupantList>, ApiError> {
    let room = rooms::get(state.store.as_ref(), &caller, id).await?;
    let occupants = state
        .realtime
        .as_ref()
        .and_then(|live| live.realtime.room_occupants(room.org_id, room.id))
        .unwrap_or_default();
    Ok(Json(OccupantList {
        items: occupants
            .into_iter()
            .map(|o| OccupantView {
                user_id: o.user,
                avatar: o.avatar,
                seat: o.seat,
                away: o.away,
            })
            .collect(),
    }))
}
