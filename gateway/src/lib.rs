//! `atrium-gateway`: every way into a node.
//!
//! It owns the transports (WebSocket today, WebTransport later) that carry protocol frames to the
//! session actors, and the JSON HTTP control plane under `/api/v1` with its health, readiness,
//! metrics and OpenAPI endpoints. Handlers stay thin: parse, authorise, call a service, map the
//! result.
//!
//! - [`config`]: [`HttpConfig`], the `[http]` settings.
//! - [`state`]: [`AppState`], what handlers share (store, token keys, password hasher, config).
//! - [`service`]: the use cases (auth, users, channels, search, audit), free of HTTP.
//! - [`http`]: the axum routes, extractors, error mapping, metrics and OpenAPI document.
//! - [`ws`]: `GET /ws`, the WebSocket transport of live sessions; [`session`]: the
//!   transport-agnostic session loop (handshake, rate limit, heartbeat, batched writes).
//! - [`webtransport`]: the WebTransport listener (`/wt` over QUIC) on the same session loop.

pub mod config;
pub mod http;
pub mod service;
pub mod session;
pub mod state;
pub mod webtransport;
pub mod ws;

pub use config::HttpConfig;
pub use http::router;
pub use state::{AppState, StateError};
