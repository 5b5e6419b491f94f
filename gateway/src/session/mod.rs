//! The transport-agnostic session layer: everything a live connection does between "bytes
//! arrived" and "the actors took the request", and between "a frame was queued" and "bytes left".
//!
//! - [`connection`]: [`FrameConnection`], what a transport must provide (one frame per message).
//! - [`handshake`]: the first frame must be a valid `hello`, in time.
//! - [`driver`]: the loop of a live session: decode, rate-limit, route; write the outbox in
//!   batches; heartbeat; token expiry and `auth.refresh`.
//! - [`rate_limit`]: the per-session token bucket.
//!
//! WebSocket (`crate::ws`) implements [`FrameConnection`] today; WebTransport will implement it
//! for its control stream and reuse all of this.

pub mod connection;
pub mod driver;
pub mod handshake;
pub mod rate_limit;

pub use connection::{FrameConnection, Inbound, TransportError};
pub use driver::{LiveContext, run};
