//! WebSocket as a [`FrameConnection`]: one binary message per frame.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite;

use atrium_core::protocol::ErrorCode;

use crate::session::connection::{FrameConnection, Inbound, TransportError};

/// WebSocket close codes (RFC 6455 §7.4.1) for our close reasons.
pub fn close_code(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::BadFrame | ErrorCode::Invalid => 1002,
        ErrorCode::TooLarge => 1009,
        ErrorCode::Unauthorized | ErrorCode::TokenExpired | ErrorCode::Forbidden => 1008,
        ErrorCode::SlowConsumer | ErrorCode::RateLimited => 1013,
        ErrorCode::Timeout | ErrorCode::ShuttingDown => 1001,
        ErrorCode::Internal => 1011,
        _ => 1000,
    }
}

pub struct WsConnection {
    socket: WebSocket,
}

impl WsConnection {
    pub fn new(socket: WebSocket) -> Self {
        Self { socket }
    }
}

fn is_too_large(error: axum::Error) -> bool {
    matches!(
        error
            .into_inner()
            .downcast::<tungstenite::Error>()
            .map(|e| *e),
        Ok(tungstenite::Error::Capacity(_))
    )
}

impl FrameConnection for WsConnection {
    async fn recv(&mut self) -> Option<Result<Inbound, TransportError>> {
        match self.socket.recv().await? {
            Ok(Message::Binary(bytes)) => Some(Ok(Inbound::Frame(bytes))),
            Ok(Message::Text(_)) => Some(Ok(Inbound::NotAFrame)),
            // tungstenite answers pings itself; both count as signs of life.
            Ok(Message::Ping(_) | Message::Pong(_)) => Some(Ok(Inbound::Alive)),
            Ok(Message::Close(_)) => None,
            Err(error) => {
                let text = error.to_string();
                if is_too_large(error) {
                    Some(Ok(Inbound::TooLarge))
                } else {
                    Some(Err(TransportError(text)))
                }
            }
        }
    }

    async fn send(&mut self, frames: &mut Vec<Bytes>) -> Result<(), TransportError> {
        for frame in frames.drain(..) {
            self.socket
                .feed(Message::Binary(frame))
                .await
                .map_err(|e| TransportError(e.to_string()))?;
        }
        self.socket
            .flush()
            .await
            .map_err(|e| TransportError(e.to_string()))
    }

    async fn ping(&mut self) -> Result<(), TransportError> {
        self.socket
            .send(Message::Ping(Bytes::new()))
            .await
            .map_err(|e| TransportError(e.to_string()))
    }

    async fn close(&mut self, code: ErrorCode) {
        let frame = CloseFrame {
            code: close_code(code),
            reason: code.as_str().into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }
}
