//! `GET /ws`: the WebSocket transport.
//!
//! The upgrade requires the `atrium.v1` subprotocol and sizes the connection's buffers from
//! [`WsConfig`] (tungstenite's defaults, 128 KiB each way, would dominate the memory of an idle
//! session). Everything after the upgrade is the transport-agnostic session layer
//! ([`crate::session`]) over a [`WsConnection`].

pub mod config;
pub mod connection;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use atrium_actors::Realtime;
use atrium_core::auth::AccessTokens;
use atrium_core::protocol::SUBPROTOCOL;

use crate::AppState;
use crate::http::error::{ApiError, codes};
use crate::session::{self, LiveContext};

pub use config::WsConfig;
pub use connection::WsConnection;

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

/// What [`AppState::realtime`](crate::AppState) holds when the node runs the realtime core.
pub fn live_context(
    realtime: Realtime,
    tokens: Arc<AccessTokens>,
    config: WsConfig,
) -> LiveContext {
    LiveContext {
        realtime,
        tokens,
        config: Arc::new(config),
    }
}

/// Open a live connection (WebSocket, subprotocol `atrium.v1`; see docs/protocol.md).
#[utoipa::path(
    get, path = "/ws", tag = "realtime",
    responses(
        (status = 101, description = "Switching to the `atrium.v1` WebSocket protocol; the first frame must be `hello`"),
        (status = 400, description = "Not a WebSocket upgrade, or `atrium.v1` not offered"),
        (status = 503, description = "This node does not run the realtime core"),
    )
)]
pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let Some(live) = state.realtime.clone() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            "the realtime core is not running on this node",
        )
        .into_response();
    };
    if !ws.requested_protocols().any(|p| p == SUBPROTOCOL) {
        return ApiError::invalid(format!(
            "offer the WebSocket subprotocol `{SUBPROTOCOL}` (Sec-WebSocket-Protocol)"
        ))
        .into_response();
    }
    let config = live.config.clone();
    let limit = config.transport_message_limit();
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(config.write_buffer_bytes)
        .max_write_buffer_size(
            config
                .max_write_buffer_bytes
                .max(config.write_buffer_bytes + limit + 1),
        )
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| session::run(WsConnection::new(socket), live))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(upgrade))]
pub struct WsApi;
