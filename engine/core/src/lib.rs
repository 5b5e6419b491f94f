//! `atrium-core`: the pure heart of Atrium.
//!
//! It owns the identifiers, the domain records, the wire protocol (frames and the MessagePack
//! codec), the error codes, roles and permissions, and password/token primitives. Everything here
//! is plain functions and types, testable without a socket, a database or an async runtime; the
//! other crates drive it (the way `quinn` drives `quinn-proto`).

pub mod ai;
pub mod auth;
pub mod ids;
pub mod model;
pub mod notification;
pub mod protocol;
pub mod rbac;
pub mod ticket;
