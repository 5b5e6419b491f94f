//! The WebTransport transport: the same frames and session rules as WebSocket, over QUIC.
//!
//! A client opens a WebTransport session on `https://<addr>/wt` (the URL and, for a generated
//! certificate, its SHA-256 come from `GET /api/v1/webtransport`), then opens one bidirectional
//! stream, the **control stream**, which carries length-prefixed frames ([`framing`]). Everything
//! after that is the transport-agnostic session layer ([`crate::session`]) over a
//! [`WtConnection`]; datagrams (after `hello` only) go through the [`datagram`] gate.
//!
//! - [`config`]: [`WtConfig`], the `[webtransport]` settings.
//! - [`certificate`]: generated (pinnable) or configured certificates.
//! - [`framing`]: the 4-byte big-endian length prefix and the cancel-safe [`FrameReader`].
//! - [`connection`]: [`WtConnection`], the [`FrameConnection`](crate::session::FrameConnection).
//! - [`datagram`]: which datagrams are used, answered, or dropped and counted.
//! - [`server`]: [`WtServer`], the listener, the per-session task and certificate renewal.

pub mod certificate;
pub mod config;
pub mod connection;
pub mod datagram;
pub mod framing;
pub mod server;

pub use config::{WT_PATH, WtConfig, WtConfigError};
pub use connection::WtConnection;
pub use framing::FrameReader;
pub use server::{WtError, WtInfo, WtServer};
