//! The value limits that belong to the protocol, and the check that enforces them.
//!
//! The codec rejects what is not a frame (`bad_frame`, `too_large`); this module rejects frames
//! that parse but carry values no server should act on (`invalid`). Keeping the numbers here, as
//! named constants, lets `docs/protocol.md`, clients and the server agree on them.

use thiserror::Error;

use crate::protocol::client::ClientFrame;

/// Default hard limit on one encoded frame, in bytes, in both directions.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;
/// Deepest nesting of maps/arrays the decoder accepts. Real frames need 4; the limit keeps a
/// hostile `[[[[…]]]]` from exhausting the stack.
pub const MAX_NESTING_DEPTH: usize = 16;
/// Longest message body, in Unicode scalar values (`char`s).
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest access token accepted in `hello`/`auth.refresh`, in bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Longest `client` name in `hello`, in bytes.
pub const MAX_CLIENT_NAME_BYTES: usize = 128;
/// Most channels one `hello` may resume.
pub const MAX_RESUME_CHANNELS: usize = 1000;
/// Longest reaction emoji (one grapheme cluster or a `:shortcode:`), in bytes.
pub const MAX_EMOJI_BYTES: usize = 64;
/// Longest `msg.send` nonce, in bytes.
pub const MAX_NONCE_BYTES: usize = 128;
/// Largest `history` page a client may ask for.
pub const MAX_HISTORY_LIMIT: u32 = 200;
/// Page size the server uses when `history` has no `limit`.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// Largest magnitude of a coordinate (metres) or velocity component (metres per second) in
/// `pos` and `room.teleport`; rooms are at most 10 km across, so anything beyond is garbage.
pub const MAX_ROOM_COORDINATE: u32 = 100_000;
/// Longest `llm.start` content, in characters (a long prompt, still far below the frame size).
pub const MAX_LLM_CONTENT_CHARS: usize = 16_000;
/// Longest `llm.start` system prompt, in characters.
pub const MAX_SYSTEM_PROMPT_CHARS: usize = 8_000;
/// Longest model name, in bytes.
pub const MAX_MODEL_NAME_BYTES: usize = 128;

/// A well-formed frame whose values break a protocol rule. Answered with `invalid`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LimitError {
    #[error("`{field}` must not be empty")]
    Empty { field: &'static str },
    #[error("`{field}` is {len} {unit} long; the limit is {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
        /// `"characters"` or `"bytes"`.
        unit: &'static str,
    },
    #[error("`{field}` has {len} entries; the limit is {max}")]
    TooMany {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("`{field}` must be finite numbers of magnitude at most {max}")]
    NotFinite { field: &'static str, max: u32 },
    #[error("`{field}` is {value}; it must be between {min} and {max}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error(
        "`temperature` must be between {} and {}",
        crate::ai::temperature::MIN_TEMPERATURE,
        crate::ai::temperature::MAX_TEMPERATURE
    )]
    TemperatureOutOfRange,
}

impl ClientFrame {
    /// Checks every protocol limit of this frame. The server's decoder calls it; clients may call
    /// it before sending to fail fast.
    pub fn validate(&self) -> Result<(), LimitError> {
        match self {
            ClientFrame::Hello {
                token,
                client,
                resume,
                ..
            } => {
                check_token(token)?;
                if let Some(client) = client {
                    check_bytes("client", client, MAX_CLIENT_NAME_BYTES)?;
                }
                if resume.len() > MAX_RESUME_CHANNELS {
                    return Err(LimitError::TooMany {
                        field: "resume",
                        len: resume.len(),
                        max: MAX_RESUME_CHANNELS,
                    });
                }
                resume
                    .values()
                    .try_for_each(|&seq| check_seq("resume", seq))
            }
            ClientFrame::AuthRefresh { token, .. } => check_token(token),
            ClientFrame::MsgSend { body, nonce, .. } => {
                check_body(body)?;
                match nonce {
                    Some(nonce) => {
                        check_not_empty("nonce", nonce)?;
                        check_bytes("nonce", nonce, MAX_NONCE_BYTES)
                    }
                    None => Ok(()),
                }
            }
            ClientFrame::MsgEdit { body, .. } => check_body(body),
            ClientFrame::React { emoji, .. } => {
                check_not_empty("emoji", emoji)?;
                check_bytes("emoji", emoji, MAX_EMOJI_BYTES)
            }
            ClientFrame::History {
                before_seq, limit, ..
            } => {
                if let Some(before_seq) = before_seq {
                    check_seq("before_seq", *before_seq)?;
                }
                match limit {
                    Some(limit) if !(1..=MAX_HISTORY_LIMIT).contains(limit) => {
                        Err(LimitError::OutOfRange {
                            field: "limit",
                            value: i64::from(*limit),
                            min: 1,
                            max: i64::from(MAX_HISTORY_LIMIT),
                        })
                    }
                    _ => Ok(()),
                }
            }
            ClientFrame::Read { seq, .. } => check_seq("seq", *seq),
            ClientFrame::Pos { p, yaw, v, .. } => {
                check_coordinates("p", p)?;
                check_coordinates("yaw", &[*yaw])?;
                match v {
                    Some(v) => check_coordinates("v", v),
                    None => Ok(()),
                }
            }
            ClientFrame::RoomTeleport { to, .. } => check_coordinates("to", to),
            ClientFrame::RoomJoin { .. }
            | ClientFrame::RoomLeave { .. }
            | ClientFrame::RoomAck { .. } => Ok(()),
            ClientFrame::LlmStart {
                content,
                model,
                temperature,
                system,
                ..
            } => {
                check_text("content", content, MAX_LLM_CONTENT_CHARS)?;
                if let Some(model) = model {
                    check_not_empty("model", model)?;
                    check_bytes("model", model, MAX_MODEL_NAME_BYTES)?;
                }
                if let Some(system) = system {
                    check_chars("system", system, MAX_SYSTEM_PROMPT_CHARS)?;
                }
                match temperature {
                    Some(t) if !t.in_range() => Err(LimitError::TemperatureOutOfRange),
                    _ => Ok(()),
                }
            }
            ClientFrame::LlmCancel { .. }
            | ClientFrame::Ping { .. }
            | ClientFrame::Sub { .. }
            | ClientFrame::Unsub { .. }
            | ClientFrame::MsgDelete { .. }
            | ClientFrame::Typing { .. }
            | ClientFrame::TicketSub { .. }
            | ClientFrame::TicketUnsub { .. } => Ok(()),
        }
    }
}

fn check_token(token: &str) -> Result<(), LimitError> {
    check_not_empty("token", token)?;
    check_bytes("token", token, MAX_TOKEN_BYTES)
}

/// A body must say something (not only whitespace) and stay under [`MAX_BODY_CHARS`].
fn check_body(body: &str) -> Result<(), LimitError> {
    check_text("body", body, MAX_BODY_CHARS)
}

/// Text that must say something (not only whitespace) and stay under `max` characters.
fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), LimitError> {
    if text.trim().is_empty() {
        return Err(LimitError::Empty { field });
    }
    check_chars(field, text, max)
}

fn check_chars(field: &'static str, text: &str, max: usize) -> Result<(), LimitError> {
    let len = text.chars().count();
    if len > max {
        return Err(LimitError::TooLong {
            field,
            len,
            max,
            unit: "characters",
        });
    }
    Ok(())
}

fn check_not_empty(field: &'static str, value: &str) -> Result<(), LimitError> {
    if value.is_empty() {
        return Err(LimitError::Empty { field });
    }
    Ok(())
}

fn check_bytes(field: &'static str, value: &str, max: usize) -> Result<(), LimitError> {
    if value.len() > max {
        return Err(LimitError::TooLong {
            field,
            len: value.len(),
            max,
            unit: "bytes",
        });
    }
    Ok(())
}

/// Positions, facings and velocities must be real numbers of a plausible size.
fn check_coordinates(field: &'static str, values: &[f32]) -> Result<(), LimitError> {
    if values
        .iter()
        .all(|v| v.is_finite() && v.abs() <= MAX_ROOM_COORDINATE as f32)
    {
        Ok(())
    } else {
        Err(LimitError::NotFinite {
            field,
            max: MAX_ROOM_COORDINATE,
        })
    }
}

/// Sequence numbers start at 1; 0 means "nothing yet". Negative values are never meaningful.
fn check_seq(field: &'static str, seq: i64) -> Result<(), LimitError> {
    if seq < 0 {
        return Err(LimitError::OutOfRange {
            field,
            value: seq,
            min: 0,
            max: i64::MAX,
        });
    }
    Ok(())
}
