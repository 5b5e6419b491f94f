//! `/api/v1/channels/*`: my channels, creation, details, members, direct channels.

use atrium_core::ids::{ChannelId, UserId};
use atrium_core::model::{ChannelKind, MemberRole};
use atrium_persistence::store::ChannelView;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, PathParams};
use super::views::{ChannelInfo, ChannelKindName, MemberInfo, MemberRoleName};
use crate::AppState;
use crate::service::channels;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/channels", get(list_channels).post(create_channel))
        .route("/api/v1/channels/direct", post(open_direct))
        .route("/api/v1/channels/{id}", get(get_channel))
        .route("/api/v1/channels/{id}/members", post(add_member))
        .route(
            "/api/v1/channels/{id}/members/{user_id}",
            delete(remove_member),
        )
}

#[derive(OpenApi)]
#[openapi(paths(
    list_channels,
    create_channel,
    get_channel,
    add_member,
    remove_member,
    open_direct
))]
pub struct ChannelsApi;

/// A channel as the caller sees it in their list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelSummary {
    #[serde(flatten)]
    pub channel: ChannelInfo,
    /// The caller's role in the channel.
    #[schema(value_type = MemberRoleName)]
    pub role: MemberRole,
    /// The highest seq the caller has read.
    pub last_read_seq: i64,
    /// Messages from others after `last_read_seq`.
    pub unread: u64,
}

impl From<ChannelView> for ChannelSummary {
    fn from(v: ChannelView) -> Self {
        Self {
            channel: v.channel.into(),
            role: v.member.role,
            last_read_seq: v.member.last_read_seq,
            unread: v.unread,
        }
    }
}

/// The caller's channels.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelList {
    pub items: Vec<ChannelSummary>,
}

/// A channel with its members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelDetail {
    #[serde(flatten)]
    pub channel: ChannelInfo,
    pub members: Vec<MemberInfo>,
}

/// A channel to create.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// 1–80 characters.
    #[schema(example = "design")]
    pub name: String,
    /// `group`, `project` or `org` (direct channels are opened with `/channels/direct`).
    #[schema(value_type = ChannelKindName)]
    pub kind: ChannelKind,
}

/// A user, by id.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
}

/// The channels you are a member of, with unread counts, most recently active first.
#[utoipa::path(
    get, path = "/api/v1/channels", tag = "channels",
    security(("bearer" = [])),
    responses((status = 200, description = "Your channels", body = ChannelList))
)]
pub async fn list_channels(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ChannelList>, ApiError> {
    let views = channels::list_mine(state.store.as_ref(), &caller).await?;
    Ok(Json(ChannelList {
        items: views.into_iter().map(ChannelSummary::from).collect(),
    }))
}

/// Create a channel; you become its owner.
#[utoipa::path(
    post, path = "/api/v1/channels", tag = "channels",
    security(("bearer" = [])),
    request_body = CreateChannel,
    responses(
        (status = 201, description = "The new channel", body = ChannelInfo),
        (status = 400, description = "Bad name, or kind `direct`", body = ErrorBody),
        (status = 403, description = "Your role cannot create channels", body = ErrorBody),
        (status = 422, description = "Unknown kind or wrong JSON shape", body = ErrorBody),
    )
)]
pub async fn create_channel(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<CreateChannel>,
) -> Result<(StatusCode, Json<ChannelInfo>), ApiError> {
    let channel = channels::create(state.store.as_ref(), &caller, &req.name, req.kind).await?;
    Ok((StatusCode::CREATED, Json(channel.into())))
}

/// A channel and its members.
#[utoipa::path(
    get, path = "/api/v1/channels/{id}", tag = "channels",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel", body = ChannelDetail),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such channel in your organization", body = ErrorBody),
    )
)]
pub async fn get_channel(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ChannelId>,
) -> Result<Json<ChannelDetail>, ApiError> {
    let (channel, members) = channels::get(state.store.as_ref(), &caller, id).await?;
    Ok(Json(ChannelDetail {
        channel: channel.into(),
        members: members.into_iter().map(MemberInfo::from).collect(),
    }))
}

/// Add a member (channel owners/admins, moderators, admins; anyone may join an `org` channel).
/// Adding an existing member changes nothing.
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/members", tag = "channels",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Channel id")),
    request_body = UserRef,
    responses(
        (status = 200, description = "The membership", body = MemberInfo),
        (status = 400, description = "A direct channel", body = ErrorBody),
        (status = 403, description = "You cannot manage this channel's members", body = ErrorBody),
        (status = 404, description = "No such channel or user in your organization", body = ErrorBody),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ChannelId>,
    JsonBody(req): JsonBody<UserRef>,
) -> Result<Json<MemberInfo>, ApiError> {
    let member = channels::add_member(state.store.as_ref(), &caller, id, req.user_id).await?;
    if let Some(live) = &state.realtime {
        live.realtime.members_changed(caller.org(), id);
    }
    Ok(Json(member.into()))
}

/// Remove a member (managers), or leave (yourself).
#[utoipa::path(
    delete, path = "/api/v1/channels/{id}/members/{user_id}", tag = "channels",
    security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Channel id"),
        ("user_id" = uuid::Uuid, Path, description = "Member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "A direct channel", body = ErrorBody),
        (status = 403, description = "You cannot manage this channel's members", body = ErrorBody),
        (status = 404, description = "No such channel, or not a member", body = ErrorBody),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams((id, user_id)): PathParams<(ChannelId, UserId)>,
) -> Result<StatusCode, ApiError> {
    channels::remove_member(state.store.as_ref(), &caller, id, user_id).await?;
    // A removed member's live sessions stop receiving the channel at once.
    if let Some(live) = &state.realtime {
        live.realtime.members_changed(caller.org(), id);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Find or create the direct channel between you and another user of your organization.
#[utoipa::path(
    post, path = "/api/v1/channels/direct", tag = "channels",
    security(("bearer" = [])),
    request_body = UserRef,
    responses(
        (status = 200, description = "The existing direct channel", body = ChannelInfo),
        (status = 201, description = "A new direct channel", body = ChannelInfo),
        (status = 400, description = "Yourself", body = ErrorBody),
        (status = 404, description = "No such user in your organization", body = ErrorBody),
    )
)]
pub async fn open_direct(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<UserRef>,
) -> Result<(StatusCode, Json<ChannelInfo>), ApiError> {
    let (channel, created) =
        channels::open_direct(state.store.as_ref(), &caller, req.user_id).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(channel.into())))
}
