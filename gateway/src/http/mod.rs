//! The HTTP control plane: one module per resource, each with its routes and OpenAPI paths.
//!
//! Handlers are thin: extract (with our error shape on rejection), call a `service` function, map
//! the result to JSON. Cross-cutting concerns are layers added in [`router`].

pub mod ai;
pub mod ai_admin;
pub mod audit;
pub mod auth;
pub mod bearer;
pub mod channels;
pub mod error;
pub mod extract;
pub mod health;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod presence;
pub mod rooms;
pub mod search;
pub mod tickets;
pub mod users;
pub mod views;
pub mod webtransport;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode, Uri, header};
use axum::middleware;
use tower::util::option_layer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use self::error::{ApiError, codes};
use crate::AppState;

/// How long browsers may cache a CORS preflight answer, in seconds.
const CORS_MAX_AGE_SECS: u64 = 600;

/// The whole HTTP surface of a node: `/api/v1/*`, `/healthz`, `/readyz`, `/metrics`.
pub fn router(state: AppState) -> Router {
    // Install the metrics recorder before the first request records anything.
    metrics::prometheus_handle();
    let cors = cors_layer(&state);
    Router::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(channels::routes())
        .merge(messages::routes())
        .merge(search::routes())
        .merge(presence::routes())
        .merge(rooms::routes())
        .merge(tickets::routes())
        .merge(crate::ws::routes())
        .merge(webtransport::routes())
        .merge(ai::routes())
        .merge(ai_admin::routes())
        .merge(audit::routes())
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .layer(option_layer(cors))
        .with_state(state)
}

/// CORS for the configured origins only; none configured means no CORS headers at all.
fn cors_layer(state: &AppState) -> Option<CorsLayer> {
    if state.cors_origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(state.cors_origins.iter().cloned()))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([HeaderName::from_static("www-authenticate")])
            .max_age(std::time::Duration::from_secs(CORS_MAX_AGE_SECS)),
    )
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn no_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        format!("{method} is not supported on {}", uri.path()),
    )
}
