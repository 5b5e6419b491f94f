//! `/api/v1/openapi.json`: the OpenAPI document of every route.
//!
//! Each resource module declares its own `…Api` with its paths; they are merged here, so adding a
//! route means annotating the handler and listing it in its module, nothing more.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(document))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Atrium HTTP API",
        description = "The control plane of an Atrium node. See docs/http-api.md."
    ),
    paths(document),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "User administration (admins)"),
        (name = "channels", description = "Channels and members"),
        (name = "messages", description = "History and search"),
        (name = "realtime", description = "Live connections and presence"),
        (name = "rooms", description = "Virtual rooms, their templates and occupants"),
        (name = "tickets", description = "Support tickets, comments, SLA, surveys"),
        (name = "ai", description = "Conversations, assistants, prompt templates, models"),
        (name = "admin", description = "Audit log, models, providers, usage, budgets, stats"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
struct RootApi;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The full document.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    RootApi::openapi()
        .merge_from(super::auth::AuthApi::openapi())
        .merge_from(super::users::UsersApi::openapi())
        .merge_from(super::channels::ChannelsApi::openapi())
        .merge_from(super::messages::MessagesApi::openapi())
        .merge_from(super::search::SearchApi::openapi())
        .merge_from(super::presence::PresenceApi::openapi())
        .merge_from(super::rooms::RoomsApi::openapi())
        .merge_from(super::tickets::TicketsApi::openapi())
        .merge_from(crate::ws::WsApi::openapi())
        .merge_from(super::webtransport::WebTransportApi::openapi())
        .merge_from(super::ai::AiApi::openapi())
        .merge_from(super::ai_admin::AiAdminApi::openapi())
        .merge_from(super::audit::AuditApi::openapi())
        .merge_from(super::health::HealthApi::openapi())
        .merge_from(super::metrics::MetricsApi::openapi())
}

/// This OpenAPI document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json"))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(api_doc())
}
