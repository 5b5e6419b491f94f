//! `GET /api/v1/webtransport`: where to open a WebTransport session, and the certificate hash a
//! browser pins with `serverCertificateHashes` when the node generated its own certificate.
//!
//! Public, like the certificate itself (every TLS handshake shows it). The answer follows
//! certificate renewals, so a client fetches it before each connection attempt.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, extract::State};
use utoipa::OpenApi;

use super::error::{ApiError, ErrorBody, codes};
use crate::AppState;
use crate::webtransport::WtInfo;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/webtransport", get(webtransport_info))
}

#[derive(OpenApi)]
#[openapi(paths(webtransport_info), components(schemas(WtInfo)))]
pub struct WebTransportApi;

/// The WebTransport URL and certificate hash.
#[utoipa::path(
    get, path = "/api/v1/webtransport", tag = "realtime",
    responses(
        (status = 200, description = "URL and SHA-256 (hex) of the certificate; `cert_sha256` is null for a configured certificate", body = WtInfo),
        (status = 503, description = "This node does not listen for WebTransport", body = ErrorBody),
    )
)]
pub async fn webtransport_info(State(state): State<AppState>) -> Result<Json<WtInfo>, ApiError> {
    let info = state.webtransport.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            "this node does not listen for WebTransport",
        )
    })?;
    let current = info.borrow().clone();
    Ok(Json(current))
}
