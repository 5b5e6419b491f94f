//! Socket.IO 4 over a plain WebSocket (Engine.IO protocol 4), against `loadtest/peers/socketio`.
//!
//! Packets are WebSocket text messages: `0{…}` opens the Engine.IO session, `40` connects the
//! default namespace, `42[…]` is an event and `42<n>[…]` an event asking for acknowledgement
//! number `n`, answered by `43<n>[…]`. The server pings with `2`; we answer `3`. The peer server
//! handles `join(room)` and `pub(room, payload)` (both acknowledged) and emits `msg(payload)`
//! to the room. Payloads are hex and `x` only (see `payload.rs`), so they need no JSON escaping
//! and a delivery is recognised by its fixed prefix and suffix.

use tokio_tungstenite::tungstenite::Message;

use super::ws::{self, WsStream};
use super::{ChannelRef, Event, Wire, WireContext, WireError};

/// Largest message accepted (the peer's default `maxHttpBufferSize` is 1 MB).
const MAX_MESSAGE_BYTES: usize = 1 << 20;
const DELIVERY_PREFIX: &str = "42[\"msg\",\"";
const DELIVERY_SUFFIX: &str = "\"]";

pub struct SocketIoWire {
    ws: WsStream,
    next_ack: u64,
}

/// One Engine.IO/Socket.IO packet, as far as the load tester cares.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Packet<'a> {
    Open,
    Connected,
    ConnectError(&'a str),
    Disconnect,
    Ping,
    Delivery(&'a str),
    Ack(u64),
    Other,
}

pub(crate) fn parse(text: &str) -> Packet<'_> {
    if let Some(body) = text
        .strip_prefix(DELIVERY_PREFIX)
        .and_then(|rest| rest.strip_suffix(DELIVERY_SUFFIX))
    {
        return Packet::Delivery(body);
    }
    if let Some(rest) = text.strip_prefix("43") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return match rest[..digits].parse() {
            Ok(n) => Packet::Ack(n),
            Err(_) => Packet::Other,
        };
    }
    match text.as_bytes() {
        [b'0', ..] => Packet::Open,
        [b'2'] => Packet::Ping,
        [b'4', b'0', ..] => Packet::Connected,
        [b'4', b'1', ..] | [b'1', ..] => Packet::Disconnect,
        [b'4', b'4', ..] => Packet::ConnectError(&text[2..]),
        _ => Packet::Other,
    }
}

impl SocketIoWire {
    async fn next_text(&mut self) -> Result<String, WireError> {
        match ws::next_data(&mut self.ws).await? {
            Message::Text(text) => Ok(text.as_str().to_owned()),
            _ => Err(WireError::Protocol("binary frame from Socket.IO".into())),
        }
    }

    /// Waits for a packet matching `want`, answering pings on the way.
    async fn await_packet(&mut self, want: impl Fn(&Packet<'_>) -> bool) -> Result<(), WireError> {
        loop {
            let text = self.next_text().await?;
            let packet = parse(&text);
            if want(&packet) {
                return Ok(());
            }
            match packet {
                Packet::Ping => ws::send(&mut self.ws, Message::text("3")).await?,
                Packet::ConnectError(detail) => {
                    return Err(WireError::Server {
                        code: "connect_error".into(),
                        message: detail.to_owned(),
                    });
                }
                Packet::Disconnect => return Err(WireError::Closed { code: None }),
                _ => {}
            }
        }
    }

    fn ack(&mut self) -> u64 {
        self.next_ack += 1;
        self.next_ack
    }
}

impl Wire for SocketIoWire {
    async fn open(ctx: &WireContext, session: u64, _token: &str) -> Result<Self, WireError> {
        let ws = ws::open(ctx, session, None, MAX_MESSAGE_BYTES).await?;
        let mut wire = SocketIoWire { ws, next_ack: 0 };
        let greet = async {
            wire.await_packet(|p| *p == Packet::Open).await?;
            ws::send(&mut wire.ws, Message::text("40")).await?;
            wire.await_packet(|p| *p == Packet::Connected).await
        };
        tokio::time::timeout(ctx.handshake_timeout, greet)
            .await
            .map_err(|_| WireError::Timeout("socketio_connect"))??;
        Ok(wire)
    }

    async fn subscribe(&mut self, ch: &ChannelRef) -> Result<Option<i64>, WireError> {
        let ack = self.ack();
        let join = format!("42{ack}[\"join\",\"{}\"]", ch.name);
        ws::send(&mut self.ws, Message::text(join)).await?;
        self.await_packet(|p| *p == Packet::Ack(ack)).await?;
        Ok(None)
    }

    async fn feed_publish(&mut self, ch: &ChannelRef, body: &str) -> Result<(), WireError> {
        let ack = self.ack();
        let packet = format!("42{ack}[\"pub\",\"{}\",\"{body}\"]", ch.name);
        ws::feed(&mut self.ws, Message::text(packet)).await
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        ws::flush(&mut self.ws).await
    }

    async fn recv<F>(&mut self, sink: &mut F) -> Result<(), WireError>
    where
        F: FnMut(Event<'_>) + Send,
    {
        let message = ws::next_data(&mut self.ws).await?;
        let Message::Text(text) = message else {
            return Err(WireError::Protocol("binary frame from Socket.IO".into()));
        };
        match parse(text.as_str()) {
            Packet::Delivery(body) => sink(Event::Delivery {
                body: body.as_bytes(),
                seq: None,
            }),
            Packet::Ack(_) => sink(Event::Confirmed { seq: None }),
            Packet::Ping => ws::send(&mut self.ws, Message::text("3")).await?,
            Packet::Disconnect => return Err(WireError::Closed { code: None }),
            Packet::ConnectError(detail) => {
                return Err(WireError::Server {
                    code: "connect_error".into(),
                    message: detail.to_owned(),
                });
            }
            Packet::Open | Packet::Connected | Packet::Other => {}
        }
        Ok(())
    }

    async fn close(self) {
        ws::close(self.ws).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_packets_of_a_session() {
        assert_eq!(
            parse(r#"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#),
            Packet::Open
        );
        assert_eq!(parse(r#"40{"sid":"b"}"#), Packet::Connected);
        assert_eq!(parse("2"), Packet::Ping);
        assert_eq!(parse("430[]"), Packet::Ack(0));
        assert_eq!(parse("4317[]"), Packet::Ack(17));
        assert_eq!(
            parse(r#"42["msg","00000001abc"]"#),
            Packet::Delivery("00000001abc")
        );
        assert_eq!(parse("41"), Packet::Disconnect);
        assert_eq!(parse("1"), Packet::Disconnect);
        assert_eq!(
            parse(r#"44{"message":"nope"}"#),
            Packet::ConnectError(r#"{"message":"nope"}"#)
        );
        assert_eq!(parse(r#"42["other",1]"#), Packet::Other);
        assert_eq!(parse("43x"), Packet::Other);
    }
}
