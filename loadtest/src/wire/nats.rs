//! The NATS core protocol over nats-server's WebSocket listener (`loadtest/peers/nats`).
//!
//! NATS is a text protocol of `\r\n`-terminated operations (`INFO`, `CONNECT`, `SUB`, `PUB`,
//! `MSG`, `PING`/`PONG`, `+OK`/`-ERR`). Over WebSocket the server packs many operations into one
//! frame and may split one across frames, so incoming bytes go through a small streaming parser.
//! Core NATS has no per-message acknowledgement; a publisher sends `PING` after each `PUB`, and
//! the server's `PONG` (which comes after it has processed that `PUB`) is the confirmation. A
//! channel is a subject `lt.<index>`.

use tokio_tungstenite::tungstenite::Message;

use super::ws::{self, WsStream};
use super::{ChannelRef, Event, Wire, WireContext, WireError};

/// Largest WebSocket message accepted (the server batches operations into large frames).
const MAX_MESSAGE_BYTES: usize = 8 << 20;
/// Largest operation line accepted before the stream is declared broken.
const MAX_LINE_BYTES: usize = 64 * 1024;
const CONNECT: &str = "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,\
    \"protocol\":1,\"headers\":false,\"name\":\"atrium-loadtest\",\"lang\":\"rust\",\
    \"version\":\"0.1.0\"}\r\nPING\r\n";

/// One parsed operation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    Msg(&'a [u8]),
    Ping,
    Pong,
    Info,
    Ok,
    Err(&'a str),
}

/// Accumulates bytes and yields whole operations.
#[derive(Debug, Default)]
pub(crate) struct OpParser {
    buf: Vec<u8>,
}

impl OpParser {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Calls `each` for every complete operation in the buffer and keeps the incomplete rest.
    pub fn drain<F>(&mut self, mut each: F) -> Result<(), WireError>
    where
        F: FnMut(Op<'_>) -> Result<(), WireError>,
    {
        let mut pos = 0;
        let result = loop {
            let rest = &self.buf[pos..];
            let Some(eol) = find_crlf(rest) else {
                if rest.len() > MAX_LINE_BYTES {
                    break Err(WireError::Protocol("NATS operation line too long".into()));
                }
                break Ok(());
            };
            let line = &rest[..eol];
            if let Some(args) = line.strip_prefix(b"MSG ") {
                let Some(len) = msg_len(args) else {
                    break Err(WireError::Protocol("malformed NATS MSG line".into()));
                };
                let start = eol + 2;
                let end = start + len;
                if rest.len() < end + 2 {
                    break Ok(()); // payload not complete yet
                }
                if let Err(e) = each(Op::Msg(&rest[start..end])) {
                    break Err(e);
                }
                pos += end + 2;
                continue;
            }
            let op = match line {
                b"PING" => Op::Ping,
                b"PONG" => Op::Pong,
                b"+OK" => Op::Ok,
                _ if line.starts_with(b"INFO") => Op::Info,
                _ if line.starts_with(b"-ERR") => {
                    Op::Err(std::str::from_utf8(&line[4..]).unwrap_or("").trim())
                }
                _ => {
                    break Err(WireError::Protocol(format!(
                        "unexpected NATS operation {:?}",
                        String::from_utf8_lossy(&line[..line.len().min(40)])
                    )));
                }
            };
            if let Err(e) = each(op) {
                break Err(e);
            }
            pos += eol + 2;
        };
        self.buf.drain(..pos);
        result
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

/// The payload length: the last field of `<subject> <sid> [reply-to] <#bytes>`.
fn msg_len(args: &[u8]) -> Option<usize> {
    let last = args.rsplit(|&b| b == b' ').next()?;
    std::str::from_utf8(last).ok()?.parse().ok()
}

pub struct NatsWire {
    ws: WsStream,
    parser: OpParser,
    next_sid: u64,
}

impl NatsWire {
    async fn send_text(&mut self, text: &str) -> Result<(), WireError> {
        ws::send(&mut self.ws, Message::binary(text.as_bytes().to_vec())).await
    }

    /// Reads until a `PONG`, answering server pings; deliveries on the way are dropped (they
    /// belong to nobody yet).
    async fn await_pong(&mut self) -> Result<(), WireError> {
        loop {
            let bytes = data_bytes(ws::next_data(&mut self.ws).await?);
            self.parser.push(&bytes);
            let mut pong = false;
            let mut pings = 0;
            self.parser.drain(|op| match op {
                Op::Pong => {
                    pong = true;
                    Ok(())
                }
                Op::Ping => {
                    pings += 1;
                    Ok(())
                }
                Op::Err(e) => Err(server_error(e)),
                _ => Ok(()),
            })?;
            for _ in 0..pings {
                self.send_text("PONG\r\n").await?;
            }
            if pong {
                return Ok(());
            }
        }
    }
}

fn data_bytes(message: Message) -> bytes::Bytes {
    match message {
        Message::Binary(b) => b,
        Message::Text(t) => bytes::Bytes::copy_from_slice(t.as_str().as_bytes()),
        _ => bytes::Bytes::new(),
    }
}

fn server_error(e: &str) -> WireError {
    let code = if e.to_ascii_lowercase().contains("slow consumer") {
        "slow_consumer"
    } else {
        "nats_err"
    };
    WireError::Server {
        code: code.to_owned(),
        message: e.to_owned(),
    }
}

impl Wire for NatsWire {
    async fn open(ctx: &WireContext, session: u64, _token: &str) -> Result<Self, WireError> {
        let ws = ws::open(ctx, session, None, MAX_MESSAGE_BYTES).await?;
        let mut wire = NatsWire {
            ws,
            parser: OpParser::default(),
            next_sid: 0,
        };
        let greet = async {
            wire.send_text(CONNECT).await?;
            wire.await_pong().await
        };
        tokio::time::timeout(ctx.handshake_timeout, greet)
            .await
            .map_err(|_| WireError::Timeout("nats_connect"))??;
        Ok(wire)
    }

    async fn subscribe(&mut self, ch: &ChannelRef) -> Result<Option<i64>, WireError> {
        self.next_sid += 1;
        let sub = format!("SUB {} {}\r\nPING\r\n", ch.name, self.next_sid);
        self.send_text(&sub).await?;
        self.await_pong().await?;
        Ok(None)
    }

    async fn feed_publish(&mut self, ch: &ChannelRef, body: &str) -> Result<(), WireError> {
        let op = format!("PUB {} {}\r\n{body}\r\nPING\r\n", ch.name, body.len());
        ws::feed(&mut self.ws, Message::binary(op.into_bytes())).await
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        ws::flush(&mut self.ws).await
    }

    async fn recv<F>(&mut self, sink: &mut F) -> Result<(), WireError>
    where
        F: FnMut(Event<'_>) + Send,
    {
        let bytes = data_bytes(ws::next_data(&mut self.ws).await?);
        self.parser.push(&bytes);
        let mut pings = 0;
        self.parser.drain(|op| {
            match op {
                Op::Msg(body) => sink(Event::Delivery { body, seq: None }),
                Op::Pong => sink(Event::Confirmed { seq: None }),
                Op::Ping => pings += 1,
                Op::Err(e) => return Err(server_error(e)),
                Op::Info | Op::Ok => {}
            }
            Ok(())
        })?;
        for _ in 0..pings {
            self.send_text("PONG\r\n").await?;
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

    fn ops(parser: &mut OpParser) -> Vec<String> {
        let mut seen = Vec::new();
        parser
            .drain(|op| {
                seen.push(match op {
                    Op::Msg(b) => format!("MSG {}", String::from_utf8_lossy(b)),
                    other => format!("{other:?}"),
                });
                Ok(())
            })
            .unwrap();
        seen
    }

    #[test]
    fn parses_batched_operations() {
        let mut p = OpParser::default();
        p.push(b"INFO {\"server_id\":\"x\"}\r\nPONG\r\nMSG lt.0 1 5\r\nhello\r\nMSG lt.0 1 _INBOX.r 3\r\nabc\r\nPING\r\n+OK\r\n");
        assert_eq!(
            ops(&mut p),
            ["Info", "Pong", "MSG hello", "MSG abc", "Ping", "Ok"]
        );
        assert!(p.buf.is_empty());
    }

    #[test]
    fn operations_split_across_frames_are_reassembled() {
        let whole = b"MSG lt.7 3 10\r\n0123456789\r\nPONG\r\n";
        for cut in 1..whole.len() {
            let mut p = OpParser::default();
            p.push(&whole[..cut]);
            let mut seen = ops(&mut p);
            p.push(&whole[cut..]);
            seen.extend(ops(&mut p));
            assert_eq!(seen, ["MSG 0123456789", "Pong"], "cut at {cut}");
        }
    }

    #[test]
    fn payloads_may_contain_crlf() {
        let mut p = OpParser::default();
        p.push(b"MSG s 1 4\r\na\r\nb\r\n");
        assert_eq!(ops(&mut p), ["MSG a\r\nb"]);
    }

    #[test]
    fn errors_and_garbage_are_reported() {
        let mut p = OpParser::default();
        p.push(b"-ERR 'Slow Consumer Detected'\r\n");
        let mut err = None;
        let _ = p.drain(|op| {
            if let Op::Err(e) = op {
                err = Some(server_error(e).code());
            }
            Ok(())
        });
        assert_eq!(err.as_deref(), Some("slow_consumer"));
        let mut p = OpParser::default();
        p.push(b"BOGUS\r\n");
        assert!(p.drain(|_| Ok(())).is_err());
        let mut p = OpParser::default();
        p.push(b"MSG s 1 notanumber\r\n");
        assert!(p.drain(|_| Ok(())).is_err());
        let mut p = OpParser::default();
        p.push(&vec![b'x'; MAX_LINE_BYTES + 1]);
        assert!(p.drain(|_| Ok(())).is_err());
    }
}
