//! `GET /api/v1/presence`: who in the caller's organization is online right now.
//!
//! The answer comes from this node's presence actor: a user is online while they have a live
//! session, and for a short grace period after their last one closed.

use atrium_core::ids::UserId;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody, codes};
use crate::AppState;

/// Permission needed to see presence.
const PRESENCE_READ: &str = "presence.read";

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/presence", get(online_users))
}

#[derive(OpenApi)]
#[openapi(paths(online_users))]
pub struct PresenceApi;

/// One online user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OnlineUser {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// Always `online` (offline users are not listed).
    pub status: String,
    /// Live sessions (0 during the reconnect grace period).
    pub sessions: usize,
}

/// The online users of the caller's organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresenceList {
    pub users: Vec<OnlineUser>,
}

/// Online users of your organization.
#[utoipa::path(
    get, path = "/api/v1/presence", tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Users with a live session", body = PresenceList),
        (status = 401, description = "No or bad access token", body = ErrorBody),
        (status = 503, description = "The realtime core is not running", body = ErrorBody),
    )
)]
pub async fn online_users(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PresenceList>, ApiError> {
    caller.require(PRESENCE_READ)?;
    let unavailable = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            "the realtime core is not running on this node",
        )
    };
    let live = state.realtime.as_ref().ok_or_else(unavailable)?;
    let mut online = live
        .realtime
        .online(caller.org())
        .await
        .map_err(|_| unavailable())?;
    online.sort_by_key(|p| p.user);
    Ok(Json(PresenceList {
        users: online
            .into_iter()
            .map(|p| OnlineUser {
                user_id: p.user,
                status: "online".into(),
                sessions: p.sessions,
            })
            .collect(),
    }))
}
