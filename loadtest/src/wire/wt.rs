//! Atrium over WebTransport (docs/protocol.md, "WebTransport"), for the `rooms` scenario.
//!
//! A session is a QUIC connection to the URL the node announces at `GET /api/v1/webtransport`,
//! accepting only the certificate whose SHA-256 the node announces beside it (the node's
//! generated, short-lived certificate, pinned as a browser pins it with
//! `serverCertificateHashes`). The first bidirectional stream is the control stream: the same
//! frames as on the WebSocket, each after its length as 4 big-endian bytes. Poses go out and
//! snapshot parts come in as datagrams, which may be lost: nothing here waits for one.
//!
//! Each session has its own endpoint (its own UDP socket, bound to the session's source
//! address), as each browser tab has: sessions do not share one socket's receive path, and
//! `--source-addrs` spreads them like the WebSocket sessions.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use atrium_core::protocol::stream_frame::{PREFIX_BYTES, declared_len, put_frame};
use atrium_core::protocol::{
    ClientFrame, DEFAULT_MAX_FRAME_BYTES, Datagram, FrameCodec, ServerFrame,
};
use bytes::{Buf, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::io::AsyncReadExt;
use wtransport::endpoint::endpoint_side;
use wtransport::error::{ConnectionError, SendDatagramError};
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Connection, Endpoint, RecvStream, SendStream, VarInt};

use super::atrium::{FrameSession, HELLO_RID, await_welcome, closed, hello};
use super::{WireContext, WireError, ws};
use crate::loopback::{self, LoopbackError};

/// Room made in the read buffer before each read of the control stream.
const READ_CHUNK_BYTES: usize = 4 * 1024;
/// How long closing may wait for the close to reach the node.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What `GET /api/v1/webtransport` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WtAnnouncement {
    pub url: String,
    /// 64 hex digits; `null` when the node serves a configured certificate.
    pub cert_sha256: Option<String>,
}

/// Why the announced WebTransport endpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WtTargetError {
    #[error(transparent)]
    Loopback(#[from] LoopbackError),
    #[error(
        "the node announces no certificate hash (it serves a configured certificate); the load \
         tester only connects to nodes with a generated certificate, whose hash it pins"
    )]
    NoHash,
    #[error("the announced certificate hash `{0}` is not 64 hex digits")]
    BadHash(String),
}

/// Where the sessions of a `--transport wt` run connect, and the certificate they accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtTarget {
    pub url: String,
    pub addr: SocketAddr,
    pub cert_sha256: [u8; 32],
}

impl WtTarget {
    /// The announced endpoint, or `url` instead of the announced URL (the hash is still the
    /// announced one); either way an `https` URL on loopback.
    pub fn resolve(announced: &WtAnnouncement, url: Option<&str>) -> Result<Self, WtTargetError> {
        let url = url.unwrap_or(&announced.url);
        let target = loopback::check_url(url, &["https"])?;
        let hex = announced
            .cert_sha256
            .as_deref()
            .ok_or(WtTargetError::NoHash)?;
        let cert_sha256 =
            parse_sha256_hex(hex).ok_or_else(|| WtTargetError::BadHash(hex.to_owned()))?;
        Ok(Self {
            url: target.url,
            addr: target.addr,
            cert_sha256,
        })
    }
}

/// 64 hex digits (either case) as the 32 bytes of a SHA-256.
pub fn parse_sha256_hex(digits: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

/// Control-stream frames out of whatever the reads return. Progress lives in the buffer, so
/// [`ControlReader::next`] is cancel-safe: a `select!` may drop it at its only await (one read)
/// and call it again without losing or misaligning bytes.
#[derive(Debug)]
pub struct ControlReader {
    buf: BytesMut,
    max_frame_bytes: usize,
}

impl ControlReader {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            max_frame_bytes,
        }
    }

    /// Adds bytes as a read would (for tests).
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame in the buffer, if there is one.
    pub fn take_frame(&mut self) -> Result<Option<Bytes>, WireError> {
        let Some(head) = self.buf.first_chunk::<PREFIX_BYTES>() else {
            return Ok(None);
        };
        let len = declared_len(*head) as usize;
        if len > self.max_frame_bytes {
            return Err(WireError::Protocol(format!(
                "a {len}-byte frame on the control stream, over the {}-byte limit",
                self.max_frame_bytes
            )));
        }
        if self.buf.len() < PREFIX_BYTES + len {
            return Ok(None);
        }
        self.buf.advance(PREFIX_BYTES);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// The next frame from `stream`.
    pub async fn next(&mut self, stream: &mut RecvStream) -> Result<Bytes, WireError> {
        loop {
            if let Some(frame) = self.take_frame()? {
                return Ok(frame);
            }
            self.buf.reserve(READ_CHUNK_BYTES);
            match stream.read_buf(&mut self.buf).await {
                Ok(0) => return Err(WireError::Closed { code: None }),
                Ok(_) => {}
                Err(e) => {
                    return Err(WireError::Closed {
                        code: Some(io_code(&e)),
                    });
                }
            }
        }
    }
}

fn io_code(e: &std::io::Error) -> String {
    format!("io_{:?}", e.kind()).to_ascii_lowercase()
}

/// One thing a WebTransport session received.
#[derive(Debug)]
pub enum WtInput {
    /// A control-stream frame (not `bye`: that is an error) and its size.
    Frame(ServerFrame, usize),
    /// A datagram's payload, not yet decoded.
    Datagram(Bytes),
}

/// The connection ended: a stable code for the report's errors (`closed_wt_timed_out`, …).
fn lost(e: ConnectionError) -> WireError {
    let code = match e {
        ConnectionError::LocallyClosed => return WireError::Closed { code: None },
        ConnectionError::ApplicationClosed(_) => "wt_closed_by_node",
        ConnectionError::ConnectionClosed(_) => "wt_aborted_by_node",
        ConnectionError::TimedOut => "wt_timed_out",
        ConnectionError::LocalH3Error(_) => "wt_h3_error",
        ConnectionError::QuicProto(_) => "wt_quic_error",
        ConnectionError::CidsExhausted => "wt_cids_exhausted",
    };
    WireError::Closed {
        code: Some(code.to_owned()),
    }
}

/// An Atrium session over WebTransport.
pub struct WtWire {
    conn: Connection,
    send: SendStream,
    recv: RecvStream,
    reader: ControlReader,
    codec: FrameCodec,
    next_rid: u32,
    /// The `seq` of the last `pos` datagram (the node drops one not newer than the last).
    pos_seq: u32,
    endpoint: Endpoint<endpoint_side::Client>,
}

impl WtWire {
    /// Connects (pinning the target's certificate), opens the control stream and says `hello`.
    pub async fn open(
        ctx: &WireContext,
        target: &WtTarget,
        session: u64,
        token: &str,
    ) -> Result<Self, WireError> {
        let bind = ws::source_for(ctx, session).unwrap_or_else(|| {
            let any_loopback = match target.addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            SocketAddr::new(any_loopback, 0)
        });
        let config = ClientConfig::builder()
            .with_bind_address(bind)
            .with_server_certificate_hashes([Sha256Digest::new(target.cert_sha256)])
            .build();
        let endpoint = Endpoint::client(config)
            .map_err(|e| WireError::Connect(format!("bind {bind}: {e}")))?;
        let connect = async {
            let conn = endpoint
                .connect(&target.url)
                .await
                .map_err(|e| WireError::Connect(format!("{}: {e}", target.url)))?;
            let (send, recv) = conn
                .open_bi()
                .await
                .map_err(lost)?
                .await
                .map_err(|e| WireError::Connect(format!("control stream: {e}")))?;
            Ok::<_, WireError>((conn, send, recv))
        };
        let (conn, send, recv) = tokio::time::timeout(ctx.handshake_timeout, connect)
            .await
            .map_err(|_| WireError::Timeout("connect"))??;
        let mut wire = WtWire {
            conn,
            send,
            recv,
            reader: ControlReader::new(DEFAULT_MAX_FRAME_BYTES),
            codec: FrameCodec::new(DEFAULT_MAX_FRAME_BYTES),
            next_rid: HELLO_RID,
            pos_seq: 0,
            endpoint,
        };
        wire.send_frame(&hello(token, BTreeMap::new())).await?;
        await_welcome(&mut wire, ctx.handshake_timeout).await?;
        Ok(wire)
    }

    /// Sends `datagram` now (it may be lost; a full send buffer drops the oldest).
    pub fn send_datagram(&self, datagram: &Datagram) -> Result<(), WireError> {
        match self.conn.send_datagram(datagram.encode()) {
            Ok(()) => Ok(()),
            Err(SendDatagramError::NotConnected) => Err(WireError::Closed { code: None }),
            Err(e) => Err(WireError::Protocol(format!("datagram refused: {e}"))),
        }
    }

    /// The `seq` for the next `pos` datagram.
    pub fn next_pos_seq(&mut self) -> u32 {
        self.pos_seq = self.pos_seq.wrapping_add(1);
        self.pos_seq
    }

    /// The next control-stream frame or datagram, whichever comes first. Cancel-safe.
    pub async fn recv(&mut self) -> Result<WtInput, WireError> {
        tokio::select! {
            frame = self.reader.next(&mut self.recv) => {
                let frame = frame?;
                decode(&self.codec, &frame).map(|f| WtInput::Frame(f, frame.len()))
            }
            datagram = self.conn.receive_datagram() => {
                Ok(WtInput::Datagram(datagram.map_err(lost)?.payload()))
            }
        }
    }

    /// Closes the session and waits (briefly) until the node has been told.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(CLOSE_GRACE, self.send.finish()).await;
        self.conn.close(VarInt::from_u32(0), b"done");
        let _ = tokio::time::timeout(CLOSE_GRACE, self.endpoint.wait_idle()).await;
    }
}

fn decode(codec: &FrameCodec, bytes: &[u8]) -> Result<ServerFrame, WireError> {
    match codec.decode_server(bytes) {
        Ok(ServerFrame::Bye { code, .. }) => Err(closed(code)),
        Ok(frame) => Ok(frame),
        Err(e) => Err(WireError::Protocol(e.to_string())),
    }
}

impl FrameSession for WtWire {
    fn next_rid(&mut self) -> u32 {
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        self.next_rid
    }

    async fn send_frame(&mut self, frame: &ClientFrame) -> Result<(), WireError> {
        let bytes = self
            .codec
            .encode_client(frame)
            .map_err(|e| WireError::Protocol(e.to_string()))?;
        let mut framed = Vec::with_capacity(PREFIX_BYTES + bytes.len());
        put_frame(&mut framed, &bytes);
        self.send
            .write_all(&framed)
            .await
            .map_err(|_| WireError::Closed { code: None })
    }

    async fn recv_frame(&mut self) -> Result<(ServerFrame, usize), WireError> {
        let frame = self.reader.next(&mut self.recv).await?;
        decode(&self.codec, &frame).map(|f| (f, frame.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "3f0c9a1e00112233445566778899aabbccddeeff0123456789abcdefABCDEF01";

    #[test]
    fn a_hash_is_exactly_64_hex_digits() {
        let bytes = parse_sha256_hex(HASH).unwrap();
        assert_eq!(bytes[0], 0x3f);
        assert_eq!(bytes[31], 0x01);
        assert_eq!(bytes[28], 0xab, "upper case is accepted");
        assert_eq!(parse_sha256_hex(&HASH[..62]), None, "too short");
        assert_eq!(parse_sha256_hex(&format!("{HASH}00")), None, "too long");
        assert_eq!(parse_sha256_hex(&HASH.replace('3', "g")), None, "not hex");
        assert_eq!(
            parse_sha256_hex(&format!("+{}", &HASH[1..])),
            None,
            "a sign"
        );
        assert_eq!(
            parse_sha256_hex(&format!("é{}", &HASH[2..])),
            None,
            "not ASCII"
        );
    }

    fn announced(url: &str, hash: Option<&str>) -> WtAnnouncement {
        WtAnnouncement {
            url: url.to_owned(),
            cert_sha256: hash.map(str::to_owned),
        }
    }

    #[test]
    fn the_target_is_the_announced_endpoint_on_loopback_or_the_given_url() {
        let t =
            WtTarget::resolve(&announced("https://127.0.0.1:4433/wt", Some(HASH)), None).unwrap();
        assert_eq!(t.addr, "127.0.0.1:4433".parse::<SocketAddr>().unwrap());
        assert_eq!(t.cert_sha256, parse_sha256_hex(HASH).unwrap());
        // A node announcing a public name, reached on loopback with an explicit URL.
        let public = announced("https://rt.example.com/wt", Some(HASH));
        assert!(matches!(
            WtTarget::resolve(&public, None),
            Err(WtTargetError::Loopback(LoopbackError::NotLoopback { .. }))
        ));
        let t = WtTarget::resolve(&public, Some("https://[::1]:9443/wt")).unwrap();
        assert_eq!(t.addr, "[::1]:9443".parse::<SocketAddr>().unwrap());
        assert!(matches!(
            WtTarget::resolve(&announced("http://127.0.0.1:4433/wt", Some(HASH)), None),
            Err(WtTargetError::Loopback(LoopbackError::BadScheme { .. }))
        ));
        assert_eq!(
            WtTarget::resolve(&announced("https://127.0.0.1:4433/wt", None), None),
            Err(WtTargetError::NoHash)
        );
        assert_eq!(
            WtTarget::resolve(&announced("https://127.0.0.1:4433/wt", Some("00")), None),
            Err(WtTargetError::BadHash("00".into()))
        );
    }

    #[test]
    fn control_frames_are_cut_at_their_prefix_whatever_the_reads_returned() {
        let mut reader = ControlReader::new(16);
        let mut bytes = Vec::new();
        for frame in [&b"one"[..], b"", b"three"] {
            put_frame(&mut bytes, frame);
        }
        // Byte by byte: a frame appears only once all of it is there.
        let mut frames = Vec::new();
        for byte in &bytes {
            reader.extend(&[*byte]);
            while let Some(frame) = reader.take_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, [&b"one"[..], b"", b"three"]);
        assert_eq!(reader.take_frame().unwrap(), None, "nothing left");
        // All at once.
        reader.extend(&bytes);
        assert_eq!(reader.take_frame().unwrap().unwrap(), &b"one"[..]);
        assert_eq!(reader.take_frame().unwrap().unwrap(), &b""[..]);
        assert_eq!(reader.take_frame().unwrap().unwrap(), &b"three"[..]);
    }

    #[test]
    fn a_prefix_over_the_limit_is_refused_before_its_body_arrives() {
        let mut reader = ControlReader::new(16);
        reader.extend(&17u32.to_be_bytes());
        let err = reader.take_frame().unwrap_err();
        assert!(matches!(err, WireError::Protocol(_)), "{err}");
        assert!(err.to_string().contains("17-byte"), "{err}");
    }
}
