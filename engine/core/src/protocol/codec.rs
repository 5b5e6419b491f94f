//! Turning frames into bytes and back, with a hard size limit and no panics.
//!
//! The server encodes each [`ServerFrame`] once into [`Bytes`] (cheap to clone, so fan-out hands
//! the same buffer to every subscriber) and decodes [`ClientFrame`]s; a client does the reverse.
//! Decoding is the only place untrusted bytes meet the engine, so it checks the size before it
//! parses anything, refuses anything that is not exactly one MessagePack map, bounds nesting, and
//! reports every failure as a [`DecodeError`] the gateway can send straight back as an `err`
//! frame — including the request's `rid` when it could be read, so the client can match it.

use std::cell::Cell;
use std::fmt;
use std::io::Cursor;

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use crate::protocol::client::ClientFrame;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::limits::{DEFAULT_MAX_FRAME_BYTES, MAX_NESTING_DEPTH};
use crate::protocol::server::ServerFrame;

/// Encodes and decodes frames under one maximum frame size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameCodec {
    max_frame_bytes: usize,
}

impl Default for FrameCodec {
    /// A codec with [`DEFAULT_MAX_FRAME_BYTES`].
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

impl FrameCodec {
    /// A codec that refuses frames longer than `max_frame_bytes`, in either direction.
    pub const fn new(max_frame_bytes: usize) -> Self {
        Self { max_frame_bytes }
    }

    /// The largest frame, in bytes, this codec encodes or decodes.
    pub const fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// Server side: encode a frame once, ready to be shared by every recipient.
    pub fn encode_server(&self, frame: &ServerFrame) -> Result<Bytes, EncodeError> {
        self.encode(frame)
    }

    /// Server side: decode a request, check its limits ([`ClientFrame::validate`]).
    pub fn decode_client(&self, input: &[u8]) -> Result<ClientFrame, DecodeError> {
        let frame: ClientFrame = self.decode(input)?;
        frame.validate().map_err(|e| DecodeError {
            code: ErrorCode::Invalid,
            message: e.to_string(),
            rid: Some(frame.rid()),
        })?;
        Ok(frame)
    }

    /// Client side: encode a request. Limits are not checked here; call
    /// [`ClientFrame::validate`] first to fail before the server does.
    pub fn encode_client(&self, frame: &ClientFrame) -> Result<Bytes, EncodeError> {
        self.encode(frame)
    }

    /// Client side: decode a reply or push. A frame type newer than this build decodes as
    /// [`ServerFrame::Unknown`].
    pub fn decode_server(&self, input: &[u8]) -> Result<ServerFrame, DecodeError> {
        self.decode(input)
    }

    fn encode<T: Serialize>(&self, frame: &T) -> Result<Bytes, EncodeError> {
        // Named fields: every struct becomes a map, which is what the protocol promises.
        let bytes = rmp_serde::to_vec_named(frame)?;
        if bytes.len() > self.max_frame_bytes {
            return Err(EncodeError::TooLarge {
                size: bytes.len(),
                max: self.max_frame_bytes,
            });
        }
        Ok(Bytes::from(bytes))
    }

    fn decode<T: DeserializeOwned>(&self, input: &[u8]) -> Result<T, DecodeError> {
        if input.len() > self.max_frame_bytes {
            // Only the head is looked at: enough to find a leading `rid`, bounded in cost.
            let head = &input[..self.max_frame_bytes];
            return Err(DecodeError {
                code: ErrorCode::TooLarge,
                message: format!(
                    "frame is {} bytes; the limit is {}",
                    input.len(),
                    self.max_frame_bytes
                ),
                rid: probe_rid(head),
            });
        }
        if !starts_with_map(input) {
            return Err(DecodeError::bad_frame(
                "a frame must be one MessagePack map",
                None,
            ));
        }
        // A Cursor (rather than a borrowed slice reader) lets us see where the frame ended.
        let mut de = rmp_serde::Deserializer::new(Cursor::new(input));
        de.set_max_depth(MAX_NESTING_DEPTH);
        let frame = T::deserialize(&mut de).map_err(|e| {
            DecodeError::bad_frame(format!("malformed frame: {e}"), probe_rid(input))
        })?;
        if de.position() != input.len() as u64 {
            return Err(DecodeError::bad_frame(
                "unexpected bytes after the frame's map",
                probe_rid(input),
            ));
        }
        Ok(frame)
    }
}

/// Why bytes could not be decoded into a frame. Maps one-to-one onto an `err` reply.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{code}: {message}")]
pub struct DecodeError {
    /// `too_large`, `bad_frame`, or (server side, for limit violations) `invalid`.
    pub code: ErrorCode,
    /// What was wrong, written for the developer of the client.
    pub message: String,
    /// The request's `rid`, when the input was a map holding a readable integer `rid`.
    pub rid: Option<u32>,
}

impl DecodeError {
    fn bad_frame(message: impl Into<String>, rid: Option<u32>) -> Self {
        Self {
            code: ErrorCode::BadFrame,
            message: message.into(),
            rid,
        }
    }

    /// The `err` frame that answers the undecodable request.
    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::err(self.rid, self.code, self.message.clone())
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, Error)]
pub enum EncodeError {
    /// The encoded frame is larger than the codec's maximum; the peer would refuse it.
    #[error("encoded frame is {size} bytes; the limit is {max}")]
    TooLarge { size: usize, max: usize },
    /// The serializer failed (not expected for protocol types).
    #[error("frame could not be encoded: {0}")]
    Msgpack(#[from] rmp_serde::encode::Error),
}

/// fixmap (0x80..=0x8f), map 16 (0xde) or map 32 (0xdf).
fn starts_with_map(input: &[u8]) -> bool {
    matches!(input.first(), Some(0x80..=0x8f | 0xde | 0xdf))
}

/// Finds an integer `rid` among the top-level entries of a (possibly broken or truncated) map,
/// stopping at the first `rid` key so whatever follows does not matter.
fn probe_rid(input: &[u8]) -> Option<u32> {
    if !starts_with_map(input) {
        return None;
    }
    let found = Cell::new(None);
    let mut de = rmp_serde::Deserializer::from_read_ref(input);
    de.set_max_depth(MAX_NESTING_DEPTH);
    // rmp-serde reports an error when a visitor leaves map entries unread; the probe stops early
    // on purpose, so the outcome is what it recorded, not the deserializer's verdict.
    let _ = de.deserialize_map(RidProbe { found: &found });
    found.get()
}

struct RidProbe<'a> {
    found: &'a Cell<Option<u32>>,
}

impl<'de> Visitor<'de> for RidProbe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<ProbeKey>()? {
            if key.is_rid {
                self.found.set(map.next_value::<u32>().ok());
                return Ok(());
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A map key of any type, remembering only whether it was the string `rid`.
struct ProbeKey {
    is_rid: bool,
}

impl<'de> Deserialize<'de> for ProbeKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = ProbeKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProbeKey, E> {
                Ok(ProbeKey { is_rid: v == "rid" })
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ProbeKey, E> {
                Ok(ProbeKey {
                    is_rid: v == b"rid",
                })
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ProbeKey, E> {
                Ok(ProbeKey { is_rid: false })
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ProbeKey, E> {
                Ok(ProbeKey { is_rid: false })
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ProbeKey, E> {
                Ok(ProbeKey { is_rid: false })
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ProbeKey, E> {
                Ok(ProbeKey { is_rid: false })
            }
            fn visit_unit<E: de::Error>(self) -> Result<ProbeKey, E> {
                Ok(ProbeKey { is_rid: false })
            }
        }
        // Compound keys (maps, arrays) are not worth supporting: the probe gives up on them.
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::{ChannelId, MessageId};
    use crate::protocol::server::{HistoryMessage, HistoryPage, MsgSent, OkResult};

    fn ch() -> ChannelId {
        "01966f5e-0000-7000-8000-000000000001".parse().unwrap()
    }

    fn msg_id() -> MessageId {
        "01966f5e-0000-7000-8000-000000000002".parse().unwrap()
    }

    /// The generic MessagePack value, viewed as JSON, to assert the exact wire shape.
    fn wire(bytes: &[u8]) -> serde_json::Value {
        rmp_serde::from_slice(bytes).unwrap()
    }

    fn raw<T: Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec_named(value).unwrap()
    }

    #[test]
    fn ok_result_fields_sit_beside_rid() {
        let codec = FrameCodec::default();
        let frame = ServerFrame::Ok {
            rid: 7,
            result: OkResult::Sent(MsgSent {
                id: msg_id(),
                seq: 42,
            }),
        };
        let bytes = codec.encode_server(&frame).unwrap();
        assert_eq!(
            wire(&bytes),
            json!({"t": "ok", "rid": 7, "id": msg_id().to_string(), "seq": 42})
        );
        assert_eq!(codec.decode_server(&bytes).unwrap(), frame);

        let done = ServerFrame::ok(3);
        let bytes = codec.encode_server(&done).unwrap();
        assert_eq!(wire(&bytes), json!({"t": "ok", "rid": 3}));
        assert_eq!(codec.decode_server(&bytes).unwrap(), done);

        let page = ServerFrame::Ok {
            rid: 9,
            result: OkResult::History(HistoryPage {
                messages: vec![HistoryMessage {
                    seq: 1,
                    id: msg_id(),
                    from: "01966f5e-0000-7000-8000-000000000003".parse().unwrap(),
                    body: String::new(),
                    ts: 1_700_000_000_000,
                    reply_to: None,
                    mentions: vec![],
                    edited_at: Some(1_700_000_000_500),
                    deleted: true,
                }],
                has_more: false,
            }),
        };
        let bytes = codec.encode_server(&page).unwrap();
        assert_eq!(codec.decode_server(&bytes).unwrap(), page);
    }

    #[test]
    fn a_result_shape_from_a_newer_server_reads_as_done() {
        let bytes = raw(&json!({"t": "ok", "rid": 4, "cursor": "abc"}));
        assert_eq!(
            FrameCodec::default().decode_server(&bytes).unwrap(),
            ServerFrame::ok(4)
        );
    }

    #[test]
    fn an_unknown_push_type_reads_as_unknown() {
        let bytes = raw(&json!({"t": "hologram.frame", "room": "x"}));
        assert_eq!(
            FrameCodec::default().decode_server(&bytes).unwrap(),
            ServerFrame::Unknown
        );
    }

    #[test]
    fn unknown_request_type_is_bad_frame_with_rid() {
        let bytes = raw(&json!({"t": "launch.rockets", "rid": 12}));
        let err = FrameCodec::default().decode_client(&bytes).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadFrame);
        assert_eq!(err.rid, Some(12));
        assert!(err.message.contains("launch.rockets"), "{}", err.message);
    }

    #[test]
    fn missing_field_is_bad_frame_with_rid() {
        let bytes = raw(&json!({"rid": 5, "t": "sub"}));
        let err = FrameCodec::default().decode_client(&bytes).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadFrame);
        assert_eq!(err.rid, Some(5));
        assert!(err.message.contains("ch"), "{}", err.message);
    }

    #[test]
    fn rid_of_the_wrong_type_is_not_echoed() {
        let bytes = raw(&json!({"t": "ping", "rid": "seven"}));
        let err = FrameCodec::default().decode_client(&bytes).unwrap_err();
        assert_eq!((err.code, err.rid), (ErrorCode::BadFrame, None));
    }

    #[test]
    fn oversized_input_is_too_large_before_parsing() {
        let codec = FrameCodec::new(64);
        let frame = ClientFrame::MsgSend {
            rid: 21,
            ch: ch(),
            body: "x".repeat(200),
            reply_to: None,
            nonce: None,
        };
        let bytes = raw(&frame);
        let err = codec.decode_client(&bytes).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        assert_eq!(err.rid, Some(21), "rid comes first and is still echoed");
        assert!(matches!(
            codec.encode_client(&frame),
            Err(EncodeError::TooLarge { max: 64, .. })
        ));
    }

    #[test]
    fn non_map_input_is_bad_frame() {
        let codec = FrameCodec::default();
        for input in [
            &[][..],
            &[0x90],
            &[0xc0],
            &[0x92, 0xa4, b'p', b'i', b'n', b'g', 0x01],
        ] {
            let err = codec.decode_client(input).unwrap_err();
            assert_eq!(err.code, ErrorCode::BadFrame, "{input:?}");
        }
    }

    #[test]
    fn trailing_bytes_are_bad_frame() {
        let mut bytes = raw(&ClientFrame::Ping { rid: 1 });
        bytes.push(0xc0);
        let err = FrameCodec::default().decode_client(&bytes).unwrap_err();
        assert_eq!((err.code, err.rid), (ErrorCode::BadFrame, Some(1)));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        // {"t": "ping", "rid": 1, "x": [[[[…]]]]} nested far past the depth limit.
        let mut bytes = vec![0x83, 0xa1, b't', 0xa4, b'p', b'i', b'n', b'g'];
        bytes.extend_from_slice(&[0xa3, b'r', b'i', b'd', 0x01, 0xa1, b'x']);
        bytes.extend(std::iter::repeat_n(0x91, 60_000));
        bytes.push(0xc0);
        let err = FrameCodec::default().decode_client(&bytes).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadFrame);
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate_or_panic() {
        // A str32 and an array32 claiming 4 GiB inside a tiny frame.
        let codec = FrameCodec::default();
        let str_bomb = [0x81, 0xa1, b't', 0xdb, 0xff, 0xff, 0xff, 0xff, b'a'];
        assert_eq!(
            codec.decode_client(&str_bomb).unwrap_err().code,
            ErrorCode::BadFrame
        );
        let array_bomb = [0x82, 0xa1, b'x', 0xdd, 0xff, 0xff, 0xff, 0xff, 0xa1, b't'];
        assert_eq!(
            codec.decode_client(&array_bomb).unwrap_err().code,
            ErrorCode::BadFrame
        );
    }

    #[test]
    fn limit_violations_are_invalid_with_rid() {
        let frame = ClientFrame::History {
            rid: 30,
            ch: ch(),
            before_seq: None,
            limit: Some(1000),
        };
        let err = FrameCodec::default()
            .decode_client(&raw(&frame))
            .unwrap_err();
        assert_eq!((err.code, err.rid), (ErrorCode::Invalid, Some(30)));
        assert_eq!(err.message, "`limit` is 1000; it must be between 1 and 200");
        assert_eq!(
            err.to_frame(),
            ServerFrame::err(Some(30), ErrorCode::Invalid, err.message.clone())
        );
    }
}
