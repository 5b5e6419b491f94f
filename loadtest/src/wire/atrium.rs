//! Atrium's `atrium.v1` protocol (docs/protocol.md): `hello` → `welcome`, `sub` → `ok
//! {last_seq}`, `msg.send` → `ok {id, seq}`, and `msg` pushes.
//!
//! Publishes are pipelined: each `msg.send` gets its own `rid` and the `ok` that comes back after
//! the commit is the confirmation. Reconnects resume with `hello.resume`, so the server replays
//! every missed message and a subscriber's seq stream stays whole.

use std::collections::BTreeMap;
use std::time::Duration;

use atrium_core::ids::ChannelId;
use atrium_core::protocol::{
    ClientFrame, DEFAULT_MAX_FRAME_BYTES, ErrorCode, FrameCodec, OkResult, SUBPROTOCOL, ServerFrame,
};
use bytes::Bytes;
use tokio_tungstenite::tungstenite::Message;

use super::msgpack_peek;
use super::ws::{self, WsStream};
use super::{ChannelRef, Event, Wire, WireContext, WireError};

/// Sent in `hello.client`, for the server's logs.
const CLIENT_NAME: &str = concat!("atrium-loadtest/", env!("CARGO_PKG_VERSION"));
pub(super) const HELLO_RID: u32 = 0;

/// The server answered a request with `err`.
fn refused(code: ErrorCode, message: String) -> WireError {
    WireError::Server {
        code: code.to_string(),
        message,
    }
}

/// The server said `bye` and is closing the session.
pub(super) fn closed(code: ErrorCode) -> WireError {
    WireError::Closed {
        code: Some(code.to_string()),
    }
}

/// The first frame of every session (resuming the channels in `resume`).
pub(super) fn hello(token: &str, resume: BTreeMap<ChannelId, i64>) -> ClientFrame {
    ClientFrame::Hello {
        rid: HELLO_RID,
        token: token.to_owned(),
        client: Some(CLIENT_NAME.to_owned()),
        resume,
    }
}

/// What a request–reply exchange needs of a session, whichever transport carries its frames
/// (the WebSocket here, the WebTransport control stream in `wt.rs`).
pub trait FrameSession: Send {
    /// A fresh request id.
    fn next_rid(&mut self) -> u32;

    /// Sends one frame now.
    fn send_frame(
        &mut self,
        frame: &ClientFrame,
    ) -> impl Future<Output = Result<(), WireError>> + Send;

    /// The next frame, decoded, with its size in bytes; `bye` is an error.
    fn recv_frame(
        &mut self,
    ) -> impl Future<Output = Result<(ServerFrame, usize), WireError>> + Send;
}

/// Waits for `welcome` after `hello` (frames before it are skipped).
pub(super) async fn await_welcome<S: FrameSession>(
    session: &mut S,
    timeout: Duration,
) -> Result<(), WireError> {
    let welcome = async {
        loop {
            match session.recv_frame().await?.0 {
                ServerFrame::Welcome { .. } => return Ok(()),
                ServerFrame::Err { code, message, .. } => return Err(refused(code, message)),
                _ => continue,
            }
        }
    };
    tokio::time::timeout(timeout, welcome)
        .await
        .map_err(|_| WireError::Timeout("welcome"))?
}

/// Sends a request and waits for its reply (frames before it are skipped): the `ok` result,
/// or the `err` as [`WireError::Server`].
pub async fn call<S: FrameSession>(
    session: &mut S,
    make: impl FnOnce(u32) -> ClientFrame,
    timeout: Duration,
    what: &'static str,
) -> Result<OkResult, WireError> {
    let rid = session.next_rid();
    session.send_frame(&make(rid)).await?;
    let reply = async {
        loop {
            match session.recv_frame().await?.0 {
                ServerFrame::Ok { rid: got, result } if got == rid => return Ok(result),
                ServerFrame::Err {
                    rid: Some(got),
                    code,
                    message,
                } if got == rid => return Err(refused(code, message)),
                _ => continue,
            }
        }
    };
    tokio::time::timeout(timeout, reply)
        .await
        .map_err(|_| WireError::Timeout(what))?
}

pub struct AtriumWire {
    ws: WsStream,
    codec: FrameCodec,
    next_rid: u32,
}

impl AtriumWire {
    fn rid(&mut self) -> u32 {
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        self.next_rid
    }

    fn encode(&self, frame: &ClientFrame) -> Result<Message, WireError> {
        self.codec
            .encode_client(frame)
            .map(Message::Binary)
            .map_err(|e| WireError::Protocol(e.to_string()))
    }

    async fn greet(
        ctx: &WireContext,
        session: u64,
        token: &str,
        resume: BTreeMap<ChannelId, i64>,
    ) -> Result<Self, WireError> {
        let ws = ws::open(ctx, session, Some(SUBPROTOCOL), DEFAULT_MAX_FRAME_BYTES).await?;
        let mut wire = AtriumWire {
            ws,
            codec: FrameCodec::new(DEFAULT_MAX_FRAME_BYTES),
            next_rid: HELLO_RID,
        };
        let hello = wire.encode(&hello(token, resume))?;
        ws::send(&mut wire.ws, hello).await?;
        await_welcome(&mut wire, ctx.handshake_timeout).await?;
        Ok(wire)
    }

    /// The next frame, decoded in full (`None` for undecodable ones, which are skipped).
    async fn next_frame(&mut self) -> Result<Option<ServerFrame>, WireError> {
        match ws::next_data(&mut self.ws).await? {
            Message::Binary(bytes) => Ok(self.codec.decode_server(&bytes).ok()),
            _ => Err(WireError::Protocol(
                "text frame from an Atrium server".into(),
            )),
        }
    }

    fn dispatch<F>(&self, bytes: &Bytes, sink: &mut F) -> Result<(), WireError>
    where
        F: FnMut(Event<'_>),
    {
        if let Some((seq, body)) = msgpack_peek::msg_push(bytes) {
            sink(Event::Delivery {
                body,
                seq: Some(seq),
            });
            return Ok(());
        }
        match self.codec.decode_server(bytes) {
            Ok(ServerFrame::Msg { seq, body, .. }) => sink(Event::Delivery {
                body: body.as_bytes(),
                seq: Some(seq),
            }),
            Ok(ServerFrame::Ok {
                result: OkResult::Sent(sent),
                ..
            }) => sink(Event::Confirmed {
                seq: Some(sent.seq),
            }),
            Ok(ServerFrame::Err { code, .. }) => sink(Event::Rejected {
                code: code.as_str(),
            }),
            Ok(ServerFrame::Bye { code, .. }) => return Err(closed(code)),
            // Presence, typing, read receipts, other replies: not part of the measurement.
            Ok(_) => {}
            Err(e) => return Err(WireError::Protocol(e.to_string())),
        }
        Ok(())
    }
}

/// Beyond the chat verbs of [`Wire`]: what the `rooms` and `llm` scenarios need, which only
/// Atrium has.
impl AtriumWire {
    /// A fresh request id.
    pub fn next_rid(&mut self) -> u32 {
        self.rid()
    }

    /// Queues one frame; [`Wire::flush`] sends.
    pub async fn feed_frame(&mut self, frame: &ClientFrame) -> Result<(), WireError> {
        let message = self.encode(frame)?;
        ws::feed(&mut self.ws, message).await
    }

    /// Sends one frame now.
    pub async fn send_frame(&mut self, frame: &ClientFrame) -> Result<(), WireError> {
        let message = self.encode(frame)?;
        ws::send(&mut self.ws, message).await
    }

    /// The next frame, decoded, with its size in bytes. `bye` is an error; a frame that does not
    /// decode is a protocol error. Cancel-safe like [`Wire::recv`].
    pub async fn recv_frame(&mut self) -> Result<(ServerFrame, usize), WireError> {
        let Message::Binary(bytes) = ws::next_data(&mut self.ws).await? else {
            return Err(WireError::Protocol(
                "text frame from an Atrium server".into(),
            ));
        };
        match self.codec.decode_server(&bytes) {
            Ok(ServerFrame::Bye { code, .. }) => Err(closed(code)),
            Ok(frame) => Ok((frame, bytes.len())),
            Err(e) => Err(WireError::Protocol(e.to_string())),
        }
    }

    /// Sends a request and waits for its reply: [`call`] on the WebSocket.
    pub async fn call(
        &mut self,
        make: impl FnOnce(u32) -> ClientFrame,
        timeout: Duration,
        what: &'static str,
    ) -> Result<OkResult, WireError> {
        call(self, make, timeout, what).await
    }
}

impl FrameSession for AtriumWire {
    fn next_rid(&mut self) -> u32 {
        self.rid()
    }

    async fn send_frame(&mut self, frame: &ClientFrame) -> Result<(), WireError> {
        AtriumWire::send_frame(self, frame).await
    }

    async fn recv_frame(&mut self) -> Result<(ServerFrame, usize), WireError> {
        AtriumWire::recv_frame(self).await
    }
}

impl Wire for AtriumWire {
    async fn open(ctx: &WireContext, session: u64, token: &str) -> Result<Self, WireError> {
        Self::greet(ctx, session, token, BTreeMap::new()).await
    }

    async fn subscribe(&mut self, ch: &ChannelRef) -> Result<Option<i64>, WireError> {
        let id = ch
            .id
            .ok_or_else(|| WireError::Protocol(format!("channel {} has no Atrium id", ch.index)))?;
        let rid = self.rid();
        let sub = self.encode(&ClientFrame::Sub { rid, ch: id })?;
        ws::send(&mut self.ws, sub).await?;
        loop {
            match self.next_frame().await? {
                Some(ServerFrame::Ok {
                    rid: got,
                    result: OkResult::Subscribed(ok),
                }) if got == rid => return Ok(Some(ok.last_seq)),
                Some(ServerFrame::Err {
                    rid: Some(got),
                    code,
                    message,
                }) if got == rid => return Err(refused(code, message)),
                Some(ServerFrame::Bye { code, .. }) => return Err(closed(code)),
                _ => continue,
            }
        }
    }

    async fn reopen(
        ctx: &WireContext,
        session: u64,
        token: &str,
        ch: &ChannelRef,
        last_seq: Option<i64>,
    ) -> Result<Self, WireError> {
        match (ch.id, last_seq) {
            (Some(id), Some(seq)) => {
                Self::greet(ctx, session, token, BTreeMap::from([(id, seq)])).await
            }
            _ => {
                let mut wire = Self::open(ctx, session, token).await?;
                wire.subscribe(ch).await?;
                Ok(wire)
            }
        }
    }

    async fn feed_publish(&mut self, ch: &ChannelRef, body: &str) -> Result<(), WireError> {
        let id = ch
            .id
            .ok_or_else(|| WireError::Protocol(format!("channel {} has no Atrium id", ch.index)))?;
        let rid = self.rid();
        let frame = self.encode(&ClientFrame::MsgSend {
            rid,
            ch: id,
            body: body.to_owned(),
            reply_to: None,
            nonce: None,
        })?;
        ws::feed(&mut self.ws, frame).await
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        ws::flush(&mut self.ws).await
    }

    async fn recv<F>(&mut self, sink: &mut F) -> Result<(), WireError>
    where
        F: FnMut(Event<'_>) + Send,
    {
        match ws::next_data(&mut self.ws).await? {
            Message::Binary(bytes) => self.dispatch(&bytes, sink),
            _ => Err(WireError::Protocol(
                "text frame from an Atrium server".into(),
            )),
        }
    }

    async fn close(self) {
        ws::close(self.ws).await;
    }
}
