//! The Atrium wire protocol, version `atrium.v1`.
//!
//! One frame is one MessagePack map whose `t` field names the frame type. Clients send
//! [`ClientFrame`]s (all requests, each with a client-chosen `rid`); the server answers each with
//! one reply echoing that `rid` and sends [`ServerFrame`] pushes (without `rid`) on its own.
//! [`FrameCodec`] turns frames into bytes and back under a hard size limit and never panics on
//! input. `docs/protocol.md` is the normative description, and a test decodes its examples.
//!
//! This module is pure: no sockets, no runtime. The gateway and the client drive it.

pub mod client;
pub mod codec;
pub mod datagram;
pub mod error_code;
mod history;
pub mod limits;
pub mod room;
pub mod server;
pub mod stream_frame;
pub mod ticket;

pub use client::ClientFrame;
pub use codec::{DecodeError, EncodeError, FrameCodec};
pub use datagram::{Datagram, DatagramError};
pub use error_code::ErrorCode;
pub use limits::{DEFAULT_MAX_FRAME_BYTES, LimitError};
pub use room::{
    AudioParams, RoomClosedReason, RoomEventKind, RoomInfo, RoomJoined, RoomLayout, SnapshotData,
    SourceGain, Spot, ZoneInfo,
};
pub use server::{
    HistoryMessage, HistoryPage, LlmStartOk, LlmUsage, MsgSent, OkResult, PresenceStatus,
    ServerFrame, SubOk,
};

/// The WebSocket subprotocol (`Sec-WebSocket-Protocol`) that selects this protocol version.
pub const SUBPROTOCOL: &str = "atrium.v1";
