//! Settings of live connections (the `[realtime]` transport side), with documented defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use atrium_core::protocol::DEFAULT_MAX_FRAME_BYTES;

use crate::session::rate_limit::RateLimit;

/// Transport settings shared by every live connection (WebSocket today).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WsConfig {
    /// A connection must send a valid `hello` within this time, or it is closed (`bye timeout`).
    pub hello_timeout_ms: u64,
    /// The server pings every this often and announces it in `welcome.heartbeat_ms`; a peer
    /// silent for two intervals is closed (`bye timeout`).
    pub heartbeat_ms: u32,
    /// Largest frame accepted or sent, in bytes (the protocol default is 64 KiB).
    pub max_frame_bytes: usize,
    /// Sustained requests per second per session (token bucket refill).
    pub rate_per_second: f64,
    /// Requests a session may send back to back.
    pub rate_burst: f64,
    /// Sustained avatar inputs (`pos`, `room.ack` frames) per second per session. They have
    /// their own bucket: a client moving at 20 Hz and acknowledging every snapshot must not eat
    /// the budget of its chat requests.
    pub input_rate_per_second: f64,
    /// Avatar inputs a session may send back to back.
    pub input_rate_burst: f64,
    /// The WebSocket read buffer per connection. Every connection pays it in memory, so it is
    /// small: client frames are small, and a large frame is read in several calls.
    pub read_buffer_bytes: usize,
    /// Outgoing frames are gathered up to this many bytes before a socket write, so a burst of
    /// pushes leaves in few syscalls. (tungstenite keeps the buffer's capacity afterwards.)
    pub write_buffer_bytes: usize,
    /// Hard cap of that buffer; reaching it means writes are failing.
    pub max_write_buffer_bytes: usize,
    /// Most frames taken from the session outbox per socket flush.
    pub write_batch_frames: usize,
    /// A socket write that makes no progress for this long closes the connection.
    pub write_timeout_ms: u64,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            hello_timeout_ms: 10_000,
            heartbeat_ms: 25_000,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            rate_per_second: 50.0,
            rate_burst: 200.0,
            input_rate_per_second: 60.0,
            input_rate_burst: 120.0,
            read_buffer_bytes: 1024,
            write_buffer_bytes: 8 * 1024,
            max_write_buffer_bytes: 1024 * 1024,
            write_batch_frames: 64,
            write_timeout_ms: 30_000,
        }
    }
}

impl WsConfig {
    pub fn hello_timeout(&self) -> Duration {
        Duration::from_millis(self.hello_timeout_ms)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(u64::from(self.heartbeat_ms.max(1)))
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }

    pub fn rate_limit(&self) -> RateLimit {
        RateLimit {
            per_second: self.rate_per_second.max(0.0),
            burst: self.rate_burst.max(1.0),
        }
    }

    pub fn input_rate_limit(&self) -> RateLimit {
        RateLimit {
            per_second: self.input_rate_per_second.max(0.0),
            burst: self.input_rate_burst.max(1.0),
        }
    }

    /// The transport accepts messages up to twice the frame limit, so a frame that is only
    /// somewhat too large still gets a proper `err too_large` with its `rid` and the session
    /// lives on; anything larger is cut off by the transport and closes the connection.
    pub fn transport_message_limit(&self) -> usize {
        self.max_frame_bytes.saturating_mul(2)
    }
}
