//! `/api/v1/search`: full-text search over the caller's channels.

use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::QueryParams;
use super::views::MessageInfo;
use crate::AppState;
use crate::service::search;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search_messages))
}

#[derive(OpenApi)]
#[openapi(paths(search_messages))]
pub struct SearchApi;

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (1–256 characters).
    pub q: String,
    /// 1–100 (default 20).
    pub limit: Option<u32>,
}

/// One match.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchHitInfo {
    pub message: MessageInfo,
    /// A short excerpt around the match.
    pub snippet: String,
}

/// Matches, best first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHitInfo>,
}

/// Search the messages of channels you are a member of.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "messages",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Matches", body = SearchResults),
        (status = 400, description = "Missing or too long query, bad limit", body = ErrorBody),
    )
)]
pub async fn search_messages(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let hits = search::search(state.store.as_ref(), &caller, &q.q, q.limit).await?;
    Ok(Json(SearchResults {
        items: hits
            .into_iter()
            .map(|h| SearchHitInfo {
                message: h.message.into(),
                snippet: h.snippet,
            })
            .collect(),
    }))
}
