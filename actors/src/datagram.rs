//! `DatagramSink`: a transport's unreliable side channel, as the rooms see it.
//!
//! WebTransport sessions can carry snapshot parts as datagrams instead of frames on the control
//! stream: a lost one costs nothing (the next snapshot is coded against the last acknowledged
//! view) and a late one never holds up chat behind it. The transport hands the session a sink
//! once the session is open; WebSocket sessions have none and get snapshots as frames.

use bytes::Bytes;

/// Sends datagrams on one connection. Implemented by the gateway's WebTransport connection.
pub trait DatagramSink: Send + Sync {
    /// The largest datagram payload the connection takes right now; `None` when the peer
    /// does not accept datagrams.
    fn max_datagram_size(&self) -> Option<usize>;
    /// Sends one datagram; `false` if it could not be sent (too large, connection closing).
    fn send_datagram(&self, payload: Bytes) -> bool;
}
