//! The handshake: the first frame must be `hello` with a valid access token, within the hello
//! timeout. Anything else is answered (`err` with a code, or `bye timeout`) and the connection
//! closed; nothing reaches the actors before a token was verified.

use std::time::Duration;

use bytes::Bytes;
use time::OffsetDateTime;

use atrium_actors::{SessionAuth, SessionStart};
use atrium_core::auth::{AccessTokenError, AccessTokens};
use atrium_core::protocol::{ClientFrame, ErrorCode, FrameCodec, ServerFrame};

use crate::session::connection::{FrameConnection, Inbound};

/// How long the answer to a failed handshake may take to write before the connection is closed
/// anyway.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Waits for `hello` and verifies it; `None` when the connection was refused (already answered
/// and closed) or went away.
pub async fn accept<C: FrameConnection>(
    conn: &mut C,
    tokens: &AccessTokens,
    codec: &FrameCodec,
    hello_timeout: Duration,
    heartbeat_ms: u32,
) -> Option<SessionStart> {
    let deadline = tokio::time::Instant::now() + hello_timeout;
    loop {
        let inbound = match tokio::time::timeout_at(deadline, conn.recv()).await {
            Err(_) => {
                refuse(
                    conn,
                    ServerFrame::Bye {
                        code: ErrorCode::Timeout,
                        message: "no hello within the handshake timeout".into(),
                    },
                    ErrorCode::Timeout,
                )
                .await;
                return None;
            }
            Ok(None | Some(Err(_))) => return None,
            Ok(Some(Ok(inbound))) => inbound,
        };
        let bytes = match inbound {
            // Datagrams are gated until the session is open; none can arrive here.
            Inbound::Alive | Inbound::Input(_) => continue,
            Inbound::NotAFrame => {
                let err = ServerFrame::err(
                    None,
                    ErrorCode::BadFrame,
                    "frames are binary WebSocket messages",
                );
                refuse(conn, err, ErrorCode::BadFrame).await;
                return None;
            }
            Inbound::TooLarge => {
                let err = ServerFrame::err(None, ErrorCode::TooLarge, "the frame is too large");
                refuse(conn, err, ErrorCode::TooLarge).await;
                return None;
            }
            Inbound::Frame(bytes) => bytes,
        };
        return verify(conn, tokens, codec, &bytes, heartbeat_ms).await;
    }
}

async fn verify<C: FrameConnection>(
    conn: &mut C,
    tokens: &AccessTokens,
    codec: &FrameCodec,
    bytes: &Bytes,
    heartbeat_ms: u32,
) -> Option<SessionStart> {
    let frame = match codec.decode_client(bytes) {
        Ok(frame) => frame,
        Err(error) => {
            refuse(conn, error.to_frame(), error.code).await;
            return None;
        }
    };
    let ClientFrame::Hello {
        rid,
        token,
        client,
        resume,
    } = frame
    else {
        let err = ServerFrame::err(
            Some(frame.rid()),
            ErrorCode::Unauthorized,
            "the first frame must be hello",
        );
        refuse(conn, err, ErrorCode::Unauthorized).await;
        return None;
    };
    match tokens.verify(&token, OffsetDateTime::now_utc()) {
        Ok(claims) => Some(SessionStart {
            auth: SessionAuth::from_claims(&claims),
            hello_rid: rid,
            resume,
            client,
            heartbeat_ms,
        }),
        Err(error) => {
            let (code, message) = match error {
                AccessTokenError::Expired => (ErrorCode::TokenExpired, "the access token expired"),
                _ => (ErrorCode::Unauthorized, "the access token is not valid"),
            };
            refuse(conn, ServerFrame::err(Some(rid), code, message), code).await;
            None
        }
    }
}

/// Answers a refused handshake and closes.
async fn refuse<C: FrameConnection>(conn: &mut C, frame: ServerFrame, code: ErrorCode) {
    if let Ok(bytes) = FrameCodec::default().encode_server(&frame) {
        let mut frames = vec![bytes];
        let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, conn.send(&mut frames)).await;
    }
    let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, conn.close(code)).await;
}
