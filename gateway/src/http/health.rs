//! `/healthz` (the process answers) and `/readyz` (and can reach its database).

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody, codes};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

#[derive(OpenApi)]
#[openapi(paths(healthz, readyz))]
pub struct HealthApi;

/// A status word.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: always 200 while the process serves HTTP.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Status))
)]
pub async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

/// Readiness: 200 when the database answers, 503 otherwise.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Database unreachable", body = ErrorBody),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Status {
            status: "ready".into(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                format!("{} database is unreachable", state.store.backend()),
            ))
        }
    }
}
