//! Datagrams: small, unreliable messages beside the control stream (WebTransport only).
//!
//! A datagram is one MessagePack **array** whose first element is a string naming its type,
//! followed by that type's fields by position (`["echo", 7]`). Arrays rather than the control
//! stream's maps keep the bytes few: datagrams carry high-rate data (positions, snapshots) and
//! must fit one QUIC packet. A datagram has no `rid` and no reply; whatever answers it is
//! another datagram that may be lost like any other.
//!
//! Decoding never panics and tells a datagram of a type this build does not know
//! ([`DatagramError::Unknown`]) from bytes that are not a datagram at all
//! ([`DatagramError::Malformed`]): the server counts both and drops them, never answering.

use std::fmt;
use std::io::Cursor;

use bytes::Bytes;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::protocol::limits::MAX_NESTING_DEPTH;

/// A datagram, in either direction.
#[derive(Clone, Debug, PartialEq)]
pub enum Datagram {
    /// `["echo", n]`: the server sends the same datagram back to the sender. Lets a client
    /// measure the datagram round trip and check that datagrams get through at all. `n` is any
    /// u64 the client picks (a counter, a timestamp) to match the answer.
    Echo { n: u64 },
    /// `["pos", seq, x, y, z, yaw, vx, vy, vz]` or with a tenth element `ack`: the client's
    /// avatar pose (the `pos` frame as a datagram). `seq` is the sender's counter (wrapping):
    /// the server ignores a pose older than one it already took.
    Pos {
        seq: u32,
        p: [f32; 3],
        yaw: f32,
        v: [f32; 3],
        ack: Option<u64>,
    },
    /// `["ack", tick]`: the client holds every part of the snapshot of `tick`.
    Ack { tick: u64 },
    /// `["snap", data]` (server → client): one snapshot part, the `data` of `room.snapshot`.
    Snap { data: Bytes },
}

impl Datagram {
    /// Every datagram type, as named on the wire.
    pub const KINDS: [&'static str; 4] = ["echo", "pos", "ack", "snap"];

    /// The type name on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Datagram::Echo { .. } => "echo",
            Datagram::Pos { .. } => "pos",
            Datagram::Ack { .. } => "ack",
            Datagram::Snap { .. } => "snap",
        }
    }

    /// The bytes of a `snap` datagram around `data`, without copying `data` twice.
    pub fn encode_snap(data: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(data.len() + SNAP_OVERHEAD);
        // fixarray of 2, fixstr "snap", then bin 8/16/32 with its length.
        out.push(0x92);
        out.extend_from_slice(&[0xa4, b's', b'n', b'a', b'p']);
        match u32::try_from(data.len()) {
            Ok(len) if len <= u32::from(u8::MAX) => out.extend_from_slice(&[0xc4, len as u8]),
            Ok(len) if len <= u32::from(u16::MAX) => {
                out.push(0xc5);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            Ok(len) => {
                out.push(0xc6);
                out.extend_from_slice(&len.to_be_bytes());
            }
            // Never: a datagram is far below 4 GiB.
            Err(_) => return Bytes::new(),
        }
        out.extend_from_slice(data);
        Bytes::from(out)
    }

    /// The datagram's bytes.
    pub fn encode(&self) -> Bytes {
        // Serializing a tag and integers into a Vec cannot fail; an empty datagram would be
        // refused by any receiver, which is the safest outcome if it ever did.
        Bytes::from(rmp_serde::to_vec(self).unwrap_or_default())
    }

    /// Reads one datagram. Trailing elements of the array (fields a newer peer added) are
    /// ignored; anything after the array is not.
    pub fn decode(input: &[u8]) -> Result<Datagram, DatagramError> {
        if !starts_with_array(input) {
            return Err(DatagramError::Malformed(
                "a datagram must be one MessagePack array".into(),
            ));
        }
        let mut de = rmp_serde::Deserializer::new(Cursor::new(input));
        de.set_max_depth(MAX_NESTING_DEPTH);
        let parsed = Parsed::deserialize(&mut de)
            .map_err(|e| DatagramError::Malformed(format!("malformed datagram: {e}")))?;
        if de.position() != input.len() as u64 {
            return Err(DatagramError::Malformed(
                "unexpected bytes after the datagram's array".into(),
            ));
        }
        match parsed {
            Parsed::Known(datagram) => Ok(datagram),
            Parsed::Unknown(kind) => Err(DatagramError::Unknown(kind)),
        }
    }
}

/// Bytes a `snap` datagram adds around its data (array, type and a bin 16 header at most).
pub const SNAP_OVERHEAD: usize = 9;

/// Why bytes were not a datagram this build can act on.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DatagramError {
    /// Not a MessagePack array starting with a string, or a known type with wrong fields.
    #[error("{0}")]
    Malformed(String),
    /// A well-formed datagram of a type this build does not know.
    #[error("unknown datagram type `{0}`")]
    Unknown(String),
}

impl DatagramError {
    /// A short label for metrics: `malformed` or `unknown`.
    pub fn reason(&self) -> &'static str {
        match self {
            DatagramError::Malformed(_) => "malformed",
            DatagramError::Unknown(_) => "unknown",
        }
    }
}

impl Serialize for Datagram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Datagram::Echo { n } => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(self.kind())?;
                seq.serialize_element(n)?;
                seq.end()
            }
            Datagram::Pos {
                seq: n,
                p,
                yaw,
                v,
                ack,
            } => {
                let len = if ack.is_some() { 10 } else { 9 };
                let mut seq = serializer.serialize_seq(Some(len))?;
                seq.serialize_element(self.kind())?;
                seq.serialize_element(n)?;
                for x in p {
                    seq.serialize_element(x)?;
                }
                seq.serialize_element(yaw)?;
                for x in v {
                    seq.serialize_element(x)?;
                }
                if let Some(ack) = ack {
                    seq.serialize_element(ack)?;
                }
                seq.end()
            }
            Datagram::Ack { tick } => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(self.kind())?;
                seq.serialize_element(tick)?;
                seq.end()
            }
            Datagram::Snap { data } => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(self.kind())?;
                seq.serialize_element(&SnapshotBytes(data))?;
                seq.end()
            }
        }
    }
}

struct SnapshotBytes<'a>(&'a [u8]);

impl Serialize for SnapshotBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// fixarray (0x90..=0x9f), array 16 (0xdc) or array 32 (0xdd).
fn starts_with_array(input: &[u8]) -> bool {
    matches!(input.first(), Some(0x90..=0x9f | 0xdc | 0xdd))
}

enum Parsed {
    Known(Datagram),
    Unknown(String),
}

impl<'de> Deserialize<'de> for Parsed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ParsedVisitor)
    }
}

struct ParsedVisitor;

impl<'de> Visitor<'de> for ParsedVisitor {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array starting with the datagram type")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let kind: String = seq
            .next_element()?
            .ok_or_else(|| de::Error::custom("empty array: the datagram type is missing"))?;
        let parsed = match kind.as_str() {
            "echo" => {
                let n: u64 = field(&mut seq, "echo", "n")?;
                Parsed::Known(Datagram::Echo { n })
            }
            "pos" => {
                let n: u32 = field(&mut seq, "pos", "seq")?;
                let mut p = [0f32; 3];
                for (x, name) in p.iter_mut().zip(["x", "y", "z"]) {
                    *x = field(&mut seq, "pos", name)?;
                }
                let yaw: f32 = field(&mut seq, "pos", "yaw")?;
                let mut v = [0f32; 3];
                for (x, name) in v.iter_mut().zip(["vx", "vy", "vz"]) {
                    *x = field(&mut seq, "pos", name)?;
                }
                let ack: Option<u64> = seq.next_element()?;
                Parsed::Known(Datagram::Pos {
                    seq: n,
                    p,
                    yaw,
                    v,
                    ack,
                })
            }
            "ack" => {
                let tick: u64 = field(&mut seq, "ack", "tick")?;
                Parsed::Known(Datagram::Ack { tick })
            }
            "snap" => {
                let data: crate::protocol::room::SnapshotData = field(&mut seq, "snap", "data")?;
                Parsed::Known(Datagram::Snap {
                    data: Bytes::from(data.0),
                })
            }
            _ => Parsed::Unknown(kind),
        };
        // The decoder insists that every element is read; later fields are ignored.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(parsed)
    }
}

/// The next positional field of a datagram, or an error naming it.
fn field<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    kind: &str,
    name: &str,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::custom(format!("`{kind}` needs its `{name}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_round_trips_in_the_documented_shape() {
        let echo = Datagram::Echo { n: 7 };
        let bytes = echo.encode();
        assert_eq!(&bytes[..], &[0x92, 0xa4, b'e', b'c', b'h', b'o', 0x07]);
        assert_eq!(Datagram::decode(&bytes), Ok(echo));
        let big = Datagram::Echo { n: u64::MAX };
        assert_eq!(Datagram::decode(&big.encode()), Ok(big));
    }

    #[test]
    fn unknown_types_are_told_from_garbage() {
        let teleport = rmp_serde::to_vec(&("teleport", 1.5_f32, 2.0_f32)).unwrap();
        assert_eq!(
            Datagram::decode(&teleport),
            Err(DatagramError::Unknown("teleport".into()))
        );
        // A known type with too few fields is malformed, not unknown.
        let short_pos = rmp_serde::to_vec(&("pos", 1_u32, 1.5_f32, 2.0_f32)).unwrap();
        assert_eq!(
            Datagram::decode(&short_pos).unwrap_err().reason(),
            "malformed"
        );
        for input in [
            &[][..],
            &[0x90],
            &[0x91, 0x07],
            &[0x81, 0xa1, b't', 0xa4, b'e', b'c', b'h', b'o'],
            &[0x92, 0xa4, b'e', b'c', b'h', b'o', 0xa1, b'x'],
            &[0x92, 0xa4, b'e', b'c', b'h', b'o', 0xff],
            &[0x91, 0xa4, b'e', b'c', b'h', b'o'],
            &[0x92, 0xa4, b'e', b'c', b'h', b'o', 0x07, 0xc0],
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 0xa4],
        ] {
            let err = Datagram::decode(input).unwrap_err();
            assert_eq!(err.reason(), "malformed", "{input:?}: {err}");
        }
    }

    #[test]
    fn room_datagrams_round_trip() {
        let pos = Datagram::Pos {
            seq: 9,
            p: [1.5, 0.0, -2.25],
            yaw: 0.5,
            v: [0.0, 0.0, 1.0],
            ack: None,
        };
        assert_eq!(Datagram::decode(&pos.encode()), Ok(pos));
        let acked = Datagram::Pos {
            seq: u32::MAX,
            p: [1.5, 0.0, -2.25],
            yaw: 0.5,
            v: [0.0; 3],
            ack: Some(300),
        };
        assert_eq!(Datagram::decode(&acked.encode()), Ok(acked));
        let ack = Datagram::Ack { tick: 7 };
        assert_eq!(Datagram::decode(&ack.encode()), Ok(ack));
        for len in [0usize, 1, 255, 256, 1100, 70_000] {
            let data = Bytes::from(vec![0xab; len]);
            let snap = Datagram::Snap { data: data.clone() };
            let fast = Datagram::encode_snap(&data);
            assert_eq!(fast, snap.encode(), "{len}");
            assert!(fast.len() <= len + SNAP_OVERHEAD + 2);
            assert_eq!(Datagram::decode(&fast), Ok(snap));
        }
    }

    #[test]
    fn later_fields_are_ignored() {
        let bytes = rmp_serde::to_vec(&("echo", 3_u8, "extra", [1, 2])).unwrap();
        assert_eq!(Datagram::decode(&bytes), Ok(Datagram::Echo { n: 3 }));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut bytes = vec![0x93, 0xa4, b'e', b'c', b'h', b'o', 0x01];
        bytes.extend(std::iter::repeat_n(0x91, 10_000));
        bytes.push(0xc0);
        assert_eq!(Datagram::decode(&bytes).unwrap_err().reason(), "malformed");
    }
}
