//! The protocols the load tester speaks: Atrium, Socket.IO and NATS, behind one trait.
//!
//! A scenario only needs a few verbs from a server: open an authenticated session, subscribe to a
//! channel, publish into one, and read what arrives. [`Wire`] is those verbs; each protocol
//! implements them with its own frames, and scenarios are generic over it, so the same code (and
//! the same measurement) drives every server. Sessions are deliberately lighter than
//! `atrium-client`: no background task, no reply table, a 4 KiB read buffer, and no allocation
//! per delivery, because one process holds thousands of them and parses hundreds of thousands of
//! deliveries a second.

pub mod atrium;
mod msgpack_peek;
pub mod nats;
pub mod socketio;
pub mod ws;
pub mod wt;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use atrium_core::ids::ChannelId;
use thiserror::Error;

use crate::config::TargetKind;

/// What a session saw in one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A published message reached this subscriber (`seq` for Atrium).
    Delivery { body: &'a [u8], seq: Option<i64> },
    /// The server accepted one of this session's publishes (Atrium: its `seq`).
    Confirmed { seq: Option<i64> },
    /// The server refused one of this session's requests, with its error code.
    Rejected { code: &'a str },
}

/// Why a session failed. [`WireError::code`] is the key of the report's "errors by code".
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("connect failed: {0}")]
    Connect(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    #[error("connection closed{}", .code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Closed { code: Option<String> },
    #[error("server refused: {code}: {message}")]
    Server { code: String, message: String },
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl WireError {
    pub fn code(&self) -> String {
        match self {
            WireError::Connect(_) => "connect_failed".to_owned(),
            WireError::Timeout(what) => format!("timeout_{what}"),
            WireError::Closed { code: Some(code) } => format!("closed_{code}"),
            WireError::Closed { code: None } => "connection_lost".to_owned(),
            WireError::Server { code, .. } => code.clone(),
            WireError::Protocol(_) => "protocol_error".to_owned(),
        }
    }
}

/// A channel as each protocol names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    pub index: u32,
    /// Socket.IO room / NATS subject.
    pub name: String,
    /// Atrium channel id (provisioned over HTTP).
    pub id: Option<ChannelId>,
}

impl ChannelRef {
    /// The peer-side channel (room or subject) with index `index`.
    pub fn peer(index: u32) -> Self {
        Self {
            index,
            name: format!("lt.{index}"),
            id: None,
        }
    }
}

/// Everything a session needs to connect, shared by all sessions of a worker.
#[derive(Debug, Clone)]
pub struct WireContext {
    pub kind: TargetKind,
    pub url: String,
    pub addr: SocketAddr,
    /// Source addresses, picked by session number.
    pub sources: Vec<IpAddr>,
    /// Atrium access tokens, one per provisioned user.
    pub tokens: Vec<String>,
    pub channels: Vec<ChannelRef>,
    /// Connecting, greeting and subscribing must finish within this.
    pub handshake_timeout: Duration,
    /// `rooms --transport wt`: the node's WebTransport endpoint.
    pub webtransport: Option<wt::WtTarget>,
}

impl WireContext {
    pub fn channel(&self, index: u32) -> Result<&ChannelRef, WireError> {
        self.channels
            .get(index as usize)
            .ok_or_else(|| WireError::Protocol(format!("no channel {index} was provisioned")))
    }

    pub fn token(&self, user: u32) -> &str {
        self.tokens
            .get(user as usize)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// One session speaking one protocol.
pub trait Wire: Sized + Send + 'static {
    /// Opens a session: TCP from the session's source address, the WebSocket handshake, and the
    /// protocol's greeting (Atrium: `hello` with `token` → `welcome`).
    fn open(
        ctx: &WireContext,
        session: u64,
        token: &str,
    ) -> impl Future<Output = Result<Self, WireError>> + Send;

    /// Subscribes to a channel and waits for the server to confirm; returns the channel's last
    /// seq when the protocol has one.
    fn subscribe(
        &mut self,
        ch: &ChannelRef,
    ) -> impl Future<Output = Result<Option<i64>, WireError>> + Send;

    /// Reopens a subscriber after its connection dropped. Atrium resumes from `last_seq` (the
    /// server replays what was missed); the peers simply subscribe again and lose what was sent
    /// meanwhile, which the gap count then shows.
    fn reopen(
        ctx: &WireContext,
        session: u64,
        token: &str,
        ch: &ChannelRef,
        _last_seq: Option<i64>,
    ) -> impl Future<Output = Result<Self, WireError>> + Send {
        async move {
            let mut wire = Self::open(ctx, session, token).await?;
            wire.subscribe(ch).await?;
            Ok(wire)
        }
    }

    /// Queues one publish (with whatever the protocol uses to confirm it); call
    /// [`Wire::flush`] to send.
    fn feed_publish(
        &mut self,
        ch: &ChannelRef,
        body: &str,
    ) -> impl Future<Output = Result<(), WireError>> + Send;

    fn flush(&mut self) -> impl Future<Output = Result<(), WireError>> + Send;

    /// Reads one WebSocket message and reports what it held. Cancel-safe: the only await before
    /// anything is consumed is the socket read.
    fn recv<F>(&mut self, sink: &mut F) -> impl Future<Output = Result<(), WireError>> + Send
    where
        F: FnMut(Event<'_>) + Send;

    /// Closes politely (best effort).
    fn close(self) -> impl Future<Output = ()> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_name_the_failure() {
        assert_eq!(WireError::Connect("x".into()).code(), "connect_failed");
        assert_eq!(WireError::Timeout("hello").code(), "timeout_hello");
        assert_eq!(WireError::Closed { code: None }.code(), "connection_lost");
        assert_eq!(
            WireError::Closed {
                code: Some("slow_consumer".into())
            }
            .code(),
            "closed_slow_consumer"
        );
        assert_eq!(
            WireError::Server {
                code: "rate_limited".into(),
                message: String::new()
            }
            .code(),
            "rate_limited"
        );
    }
}
