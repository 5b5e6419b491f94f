//! How an avatar talks to its room: `pos` frames and `room.snapshot` frames on the WebSocket,
//! or, over WebTransport, `pos` datagrams out and `snap` datagrams in (with `room.snapshot`
//! frames on the control stream for parts too large for a datagram). `rooms.rs` measures the
//! same way whichever it is.

use atrium_core::protocol::{ClientFrame, Datagram, OkResult, ServerFrame};
use bytes::Bytes;

use crate::config::RoomTransport;
use crate::plan::SessionSpec;
use crate::wire::atrium::{AtriumWire, FrameSession, call};
use crate::wire::wt::{WtInput, WtWire};
use crate::wire::{WireContext, WireError};

use super::stats::WorkerStats;
use super::subscriber;

/// What arrived for an avatar.
#[derive(Debug)]
pub enum Pushed {
    /// One snapshot part (`datagram`: it came as a `snap` datagram).
    Part { data: Bytes, datagram: bool },
    /// Any other frame.
    Frame(ServerFrame),
    /// A datagram that is not a datagram of this protocol (counted, not fatal).
    Unreadable,
    /// A datagram the avatar does not use (`echo`).
    Ignored,
}

/// One avatar's session.
pub enum RoomLink {
    Ws(AtriumWire),
    Wt(WtWire),
}

impl RoomLink {
    /// Opens the session (retrying like every other) on `transport`.
    pub async fn open(
        ctx: &WireContext,
        stats: &WorkerStats,
        session: u64,
        token: &str,
        transport: RoomTransport,
    ) -> Result<Self, WireError> {
        match transport {
            RoomTransport::Ws => {
                let spec = SessionSpec {
                    session,
                    channel: None,
                };
                let (wire, _) =
                    subscriber::open_subscribed::<AtriumWire>(ctx, stats, spec, token).await?;
                Ok(RoomLink::Ws(wire))
            }
            RoomTransport::Wt => {
                let target = ctx.webtransport.as_ref().ok_or_else(|| {
                    WireError::Protocol("no WebTransport endpoint was discovered".into())
                })?;
                subscriber::with_retries(stats, || WtWire::open(ctx, target, session, token))
                    .await
                    .map(RoomLink::Wt)
            }
        }
    }

    /// A request on the WebSocket or the control stream, and its reply.
    pub async fn call(
        &mut self,
        make: impl FnOnce(u32) -> ClientFrame,
        timeout: std::time::Duration,
        what: &'static str,
    ) -> Result<OkResult, WireError> {
        match self {
            RoomLink::Ws(wire) => call(wire, make, timeout, what).await,
            RoomLink::Wt(wire) => call(wire, make, timeout, what).await,
        }
    }

    /// Sends the avatar's pose (no velocity), acknowledging `ack` when given.
    pub async fn send_pos(
        &mut self,
        p: [f32; 3],
        yaw: f32,
        ack: Option<u64>,
    ) -> Result<(), WireError> {
        match self {
            RoomLink::Ws(wire) => {
                let rid = wire.next_rid();
                let pos = ClientFrame::Pos {
                    rid,
                    p,
                    yaw,
                    v: None,
                    ack,
                };
                wire.send_frame(&pos).await
            }
            RoomLink::Wt(wire) => {
                let seq = wire.next_pos_seq();
                wire.send_datagram(&Datagram::Pos {
                    seq,
                    p,
                    yaw,
                    v: [0.0; 3],
                    ack,
                })
            }
        }
    }

    /// The next thing pushed, with its size as it arrived (frame or datagram). Cancel-safe.
    pub async fn recv(&mut self) -> Result<(Pushed, usize), WireError> {
        let (frame, size) = match self {
            RoomLink::Ws(wire) => wire.recv_frame().await?,
            RoomLink::Wt(wire) => match wire.recv().await? {
                WtInput::Frame(frame, size) => (frame, size),
                WtInput::Datagram(payload) => return Ok((datagram(&payload), payload.len())),
            },
        };
        let pushed = match frame {
            ServerFrame::RoomSnapshot { data } => Pushed::Part {
                data: Bytes::from(data.0),
                datagram: false,
            },
            other => Pushed::Frame(other),
        };
        Ok((pushed, size))
    }

    /// Leaves the room and closes (best effort).
    pub async fn leave_and_close(self) {
        match self {
            RoomLink::Ws(mut wire) => {
                leave(&mut wire).await;
                crate::wire::Wire::close(wire).await;
            }
            RoomLink::Wt(mut wire) => {
                leave(&mut wire).await;
                wire.close().await;
            }
        }
    }
}

async fn leave<S: FrameSession>(session: &mut S) {
    let rid = session.next_rid();
    let _ = session.send_frame(&ClientFrame::RoomLeave { rid }).await;
}

fn datagram(payload: &[u8]) -> Pushed {
    match Datagram::decode(payload) {
        Ok(Datagram::Snap { data }) => Pushed::Part {
            data,
            datagram: true,
        },
        Ok(_) => Pushed::Ignored,
        Err(_) => Pushed::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_datagrams_are_parts_and_other_datagrams_are_set_aside() {
        let snap = Datagram::encode_snap(&[1, 2, 3]);
        match datagram(&snap) {
            Pushed::Part { data, datagram } => {
                assert_eq!(&data[..], [1, 2, 3]);
                assert!(datagram);
            }
            other => panic!("{other:?}"),
        }
        let echo = Datagram::Echo { n: 7 }.encode();
        assert!(matches!(datagram(&echo), Pushed::Ignored));
        assert!(matches!(datagram(b"\x81\xa1t"), Pushed::Unreadable));
        assert!(matches!(datagram(b""), Pushed::Unreadable));
    }
}
