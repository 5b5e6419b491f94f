//! The stable error codes carried by `err` replies and `bye` frames.
//!
//! Codes are part of the protocol contract: clients branch on them, so a code never changes
//! meaning once shipped. New codes may be added by later protocol revisions; a client that meets
//! a code it does not know decodes it as [`ErrorCode::Unknown`] instead of failing, and should
//! treat it like `internal`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a request failed or a session is being closed. Snake_case strings on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The bytes were not a well-formed frame (not MessagePack, not a map, unknown `t`,
    /// missing or mistyped field, text WebSocket message).
    BadFrame,
    /// The frame exceeded the maximum frame size.
    TooLarge,
    /// No valid access token: `hello` missing, token malformed, signature wrong, user inactive.
    Unauthorized,
    /// The access token expired and was not refreshed with `auth.refresh` in time.
    TokenExpired,
    /// Authenticated, but not allowed to do this (not a member, not the author, other tenant).
    Forbidden,
    /// The channel, message or user does not exist (or is not visible to the caller).
    NotFound,
    /// The frame was well formed but a value broke a rule (empty body, limit exceeded, …).
    Invalid,
    /// The request conflicts with the current state (e.g. editing a deleted message).
    Conflict,
    /// The session sent requests faster than its rate limit allows; retry later.
    RateLimited,
    /// The session could not keep up with its outbound queue and is closed; reconnect and resume.
    SlowConsumer,
    /// The peer did not answer in time (no `hello` after connecting, missed heartbeats).
    Timeout,
    /// The server is shutting down; reconnect (to another node) and resume.
    ShuttingDown,
    /// The room is at its capacity; try again later.
    RoomFull,
    /// A room frame (`pos`, `room.ack`, `room.leave`, `room.teleport`) arrived while the session
    /// is in no room; `room.join` first.
    NotInRoom,
    /// A bug or an unavailable dependency on the server side.
    Internal,
    /// The user's or the organization's AI budget for the current period is used up.
    BudgetExceeded,
    /// A code this build does not know (sent by a newer peer). Never sent by this build.
    Unknown,
}

impl ErrorCode {
    /// Every code this build knows, in documentation order (without [`ErrorCode::Unknown`]).
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::BadFrame,
        ErrorCode::TooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::TokenExpired,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Invalid,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::SlowConsumer,
        ErrorCode::Timeout,
        ErrorCode::ShuttingDown,
        ErrorCode::RoomFull,
        ErrorCode::NotInRoom,
        ErrorCode::Internal,
        ErrorCode::BudgetExceeded,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::Timeout => "timeout",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::NotInRoom => "not_in_room",
            ErrorCode::Internal => "internal",
            ErrorCode::BudgetExceeded => "budget_exceeded",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// The code for a wire name; names this build does not know map to [`ErrorCode::Unknown`].
    pub fn from_wire(name: &str) -> Self {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == name)
            .unwrap_or(ErrorCode::Unknown)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ErrorCode::from_wire(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_wire(code.as_str()), code);
            let packed = rmp_serde::to_vec(&code).unwrap();
            assert_eq!(rmp_serde::from_slice::<ErrorCode>(&packed).unwrap(), code);
        }
    }

    #[test]
    fn a_code_from_a_newer_peer_is_unknown_not_an_error() {
        let packed = rmp_serde::to_vec("quota_exceeded").unwrap();
        assert_eq!(
            rmp_serde::from_slice::<ErrorCode>(&packed).unwrap(),
            ErrorCode::Unknown
        );
    }
}
