//! Client settings, with defaults suited to an interactive client.

use std::time::Duration;

use atrium_core::protocol::DEFAULT_MAX_FRAME_BYTES;

/// How a [`Client`](crate::Client) connects, waits and reconnects.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Sent in `hello` as `client`, for the server's logs.
    pub client_name: Option<String>,
    /// How long to wait for the TCP/WebSocket handshake and `welcome`.
    pub connect_timeout: Duration,
    /// How long a request waits for its reply before failing with [`ClientError::Timeout`]
    /// (crate::ClientError::Timeout).
    pub request_timeout: Duration,
    /// Reconnect (and resume) after the connection drops.
    pub reconnect: bool,
    /// First reconnect delay; doubles per failed attempt up to `backoff_max`, each delay
    /// randomised between half and all of it so many clients do not reconnect in lockstep.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// The WebSocket read buffer. tungstenite's default (128 KiB, zero-filled) is far more than
    /// chat frames need, and a load generator holding thousands of connections pays it for
    /// each: keep it small.
    pub read_buffer_bytes: usize,
    /// Largest frame accepted from the server.
    pub max_frame_bytes: usize,
    /// Pushes buffered for the application before the connection stops reading.
    pub event_buffer: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            client_name: Some(concat!("atrium-client/", env!("CARGO_PKG_VERSION")).to_owned()),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            reconnect: true,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            read_buffer_bytes: 4 * 1024,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            event_buffer: 4096,
        }
    }
}
