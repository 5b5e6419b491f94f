//! Client errors.

use atrium_core::protocol::ErrorCode;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The server answered `err`.
    #[error("server refused the request ({code}): {message}")]
    Server { code: ErrorCode, message: String },
    /// Connecting or the WebSocket failed.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The connection dropped before the reply came; the request may or may not have been
    /// applied (resend `msg.send` with the same nonce to be safe).
    #[error("disconnected before the reply arrived")]
    Disconnected,
    /// No reply within the request timeout.
    #[error("no reply within the request timeout")]
    Timeout,
    /// The server sent something this client cannot read.
    #[error("unexpected reply: {0}")]
    Protocol(String),
    /// The client was closed.
    #[error("the client is closed")]
    Closed,
}

impl ClientError {
    /// The server's error code, for `Server` errors.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
}
