//! `atrium-gateway`: every way into a node.
//!
//! It owns the transports (WebSocket today, WebTransport later) that carry protocol frames to the
//! session actors, and the JSON HTTP control plane under `/api/v1` with its health, readiness,
//! metrics and OpenAPI endpoints. Handlers stay thin: parse, authorise, call a service, map the
//! result.
