//! `FrameConnection`: a connection that carries protocol frames, whatever the transport.

use std::sync::Arc;

use bytes::Bytes;

use atrium_actors::{DatagramSink, RoomInput};
use atrium_core::protocol::ErrorCode;

/// Something that arrived on a connection.
#[derive(Debug)]
pub enum Inbound {
    /// One frame (a WebSocket binary message).
    Frame(Bytes),
    /// Something that cannot be a frame but leaves the connection usable (a text message).
    NotAFrame,
    /// A frame larger than the transport accepts; the connection cannot continue.
    TooLarge,
    /// A transport-level sign of life (a pong).
    Alive,
    /// An avatar input that came outside the frames (a `pos` or `ack` datagram).
    Input(RoomInput),
}

/// The transport failed; the connection is over.
#[derive(Debug, thiserror::Error)]
#[error("transport error: {0}")]
pub struct TransportError(pub String);

/// A bidirectional, message-oriented connection carrying one protocol frame per message.
pub trait FrameConnection: Send {
    /// The next inbound event; `None` once the peer closed. Must be cancel-safe: the session
    /// loop polls it alongside other work and may drop the future.
    fn recv(&mut self) -> impl Future<Output = Option<Result<Inbound, TransportError>>> + Send;

    /// Writes `frames` (draining the vector) and flushes, so they leave in as few writes as the
    /// transport allows.
    fn send(
        &mut self,
        frames: &mut Vec<Bytes>,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Asks the peer for a sign of life (answered by an [`Inbound::Alive`]).
    fn ping(&mut self) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Closes the connection, telling the peer why where the transport can.
    fn close(&mut self, code: ErrorCode) -> impl Future<Output = ()> + Send;

    /// The handshake succeeded and the session is open. A transport that carries more than
    /// frames (WebTransport datagrams) starts accepting that now; nothing before `hello` is.
    fn session_opened(&mut self) {}

    /// Where room snapshots may go as datagrams, if the transport has them.
    fn datagram_sink(&self) -> Option<Arc<dyn DatagramSink>> {
        None
    }
}
