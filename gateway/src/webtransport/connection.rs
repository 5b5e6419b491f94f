//! WebTransport as a [`FrameConnection`]: the control stream carries length-prefixed frames, and
//! datagrams are handled on the side while the session loop waits for the next frame.
//!
//! - **frames**: [`FrameReader`] on the control stream's receive half; a batch of outgoing frames
//!   is prefixed into one buffer and written with one call.
//! - **datagrams**: read in the same `recv` as the control stream, so a session is still one task;
//!   the [`DatagramGate`] decides, and an echo is answered on the spot.
//! - **liveness**: QUIC keeps the connection alive and closes it when the peer goes silent past
//!   the idle timeout (after which reads fail). A heartbeat `ping` therefore only has to confirm
//!   that the connection is still open.
//! - **close**: `bye` is already written; the control stream is finished (the peer acknowledges
//!   everything on it, so `bye` is not cut off) and then the connection is closed.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::FutureExt;
use wtransport::{Connection, RecvStream, SendStream, VarInt};

use atrium_actors::{DatagramSink, RoomInput};
use atrium_core::protocol::ErrorCode;

use crate::session::connection::{FrameConnection, Inbound, TransportError};
use crate::session::rate_limit::RateLimit;
use crate::webtransport::datagram::{DatagramGate, Verdict};
use crate::webtransport::framing::{FrameReader, ReadFrame, put_frame};

/// HTTP/3's "no error" code: the reason travels in `bye`, and browsers report other codes
/// as protocol failures.
pub const H3_NO_ERROR: u32 = 0x100;

/// One WebTransport session's control stream and datagrams.
pub struct WtConnection {
    conn: Connection,
    send: SendStream,
    recv: RecvStream,
    reader: FrameReader,
    gate: DatagramGate,
    /// Set by `ping`; the next `recv` answers it with [`Inbound::Alive`].
    alive_pending: bool,
    /// Cleared once datagrams cannot be received any more (the connection is going away; the
    /// control stream reports how).
    datagrams_open: bool,
    /// Reused between batches; shrunk back to `keep_write_capacity` after a large one.
    write_buf: Vec<u8>,
    keep_write_capacity: usize,
}

/// How a [`WtConnection`] is set up (from the shared session settings and `[webtransport]`).
#[derive(Clone, Copy, Debug)]
pub struct WtConnectionLimits {
    pub max_frame_bytes: usize,
    pub write_buffer_bytes: usize,
    pub datagram_rate: RateLimit,
}

impl WtConnection {
    /// Wraps an accepted session and its control stream (the first bidirectional stream).
    pub fn new(
        conn: Connection,
        (send, recv): (SendStream, RecvStream),
        limits: WtConnectionLimits,
    ) -> Self {
        Self {
            conn,
            send,
            recv,
            reader: FrameReader::new(limits.max_frame_bytes),
            gate: DatagramGate::new(limits.datagram_rate, Instant::now()),
            alive_pending: false,
            datagrams_open: true,
            write_buf: Vec::new(),
            keep_write_capacity: limits.write_buffer_bytes,
        }
    }

    /// Handles one datagram; an avatar input is handed back for the session.
    fn on_datagram(&mut self, payload: &[u8]) -> Option<RoomInput> {
        match self.gate.on_datagram(payload, Instant::now()) {
            Verdict::Reply(reply) => {
                if self.conn.send_datagram(&reply).is_err() {
                    // Too large for the path, or the connection is closing: datagrams may be lost.
                    metrics::counter!("atrium_wt_datagrams_dropped_total", "reason" => "send_failed")
                        .increment(1);
                }
                None
            }
            Verdict::Input(input) => Some(input),
            Verdict::Drop(_) => None,
        }
    }
}

fn transport_error(error: impl std::fmt::Display) -> TransportError {
    TransportError(error.to_string())
}

impl FrameConnection for WtConnection {
    async fn recv(&mut self) -> Option<Result<Inbound, TransportError>> {
        loop {
            if self.alive_pending {
                self.alive_pending = false;
                return Some(Ok(Inbound::Alive));
            }
            tokio::select! {
                read = self.reader.next(&mut self.recv) => {
                    return match read {
                        Ok(ReadFrame::Frame(frame)) => Some(Ok(Inbound::Frame(frame))),
                        Ok(ReadFrame::TooLarge { declared }) => {
                            tracing::debug!(declared, "control stream frame over the limit");
                            Some(Ok(Inbound::TooLarge))
                        }
                        Ok(ReadFrame::Finished) => None,
                        Err(error) => Some(Err(transport_error(error))),
                    };
                }
                datagram = self.conn.receive_datagram(), if self.datagrams_open => match datagram {
                    Ok(datagram) => {
                        if let Some(input) = self.on_datagram(&datagram.payload()) {
                            return Some(Ok(Inbound::Input(input)));
                        }
                    }
                    Err(_) => self.datagrams_open = false,
                },
            }
        }
    }

    async fn send(&mut self, frames: &mut Vec<Bytes>) -> Result<(), TransportError> {
        self.write_buf.clear();
        for frame in frames.drain(..) {
            put_frame(&mut self.write_buf, &frame);
        }
        let written = self.send.write_all(&self.write_buf).await;
        if self.write_buf.capacity() > self.keep_write_capacity {
            self.write_buf = Vec::with_capacity(self.keep_write_capacity);
        }
        written.map_err(transport_error)
    }

    async fn ping(&mut self) -> Result<(), TransportError> {
        // QUIC's own keep-alive and idle timeout watch the peer; a closed connection is the
        // only thing to report here.
        if let Some(error) = self.conn.closed().now_or_never() {
            return Err(transport_error(error));
        }
        self.alive_pending = true;
        Ok(())
    }

    async fn close(&mut self, code: ErrorCode) {
        let _ = self.send.finish().await;
        self.conn
            .close(VarInt::from_u32(H3_NO_ERROR), code.as_str().as_bytes());
    }

    fn session_opened(&mut self) {
        self.gate.open();
    }

    fn datagram_sink(&self) -> Option<Arc<dyn DatagramSink>> {
        Some(Arc::new(WtDatagrams(self.conn.clone())))
    }
}

/// Room snapshots out as datagrams on this connection.
struct WtDatagrams(Connection);

impl DatagramSink for WtDatagrams {
    fn max_datagram_size(&self) -> Option<usize> {
        self.0.max_datagram_size()
    }

    fn send_datagram(&self, payload: Bytes) -> bool {
        match self.0.send_datagram(payload) {
            Ok(()) => true,
            Err(_) => {
                metrics::counter!("atrium_wt_datagrams_dropped_total", "reason" => "send_failed")
                    .increment(1);
                false
            }
        }
    }
}
