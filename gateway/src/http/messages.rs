//! `/api/v1/channels/{id}/messages`: message history.

use atrium_core::ids::ChannelId;
use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::{PathParams, QueryParams};
use super::views::MessageInfo;
use crate::AppState;
use crate::service::channels;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/channels/{id}/messages", get(history))
}

#[derive(OpenApi)]
#[openapi(paths(history))]
pub struct MessagesApi;

/// Which page of history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages with a smaller seq (leave out for the newest).
    pub before_seq: Option<i64>,
    /// 1–200 (default 50).
    pub limit: Option<u32>,
}

/// A page of messages, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<MessageInfo>,
}

/// Messages of a channel you can read, oldest first. To page backwards, pass the smallest `seq`
/// you have as `before_seq`.
#[utoipa::path(
    get, path = "/api/v1/channels/{id}/messages", tag = "messages",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Channel id"), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "Bad limit or before_seq", body = ErrorBody),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such channel in your organization", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ChannelId>,
    QueryParams(q): QueryParams<HistoryQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let messages =
        channels::history(state.store.as_ref(), &caller, id, q.before_seq, q.limit).await?;
    Ok(Json(MessagePage {
        items: messages.into_iter().map(MessageInfo::from).collect(),
    }))
}
