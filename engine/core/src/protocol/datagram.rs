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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Datagram {
    /// `["echo", n]`: the server sends the same datagram back to the sender. Lets a client
    /// measure the datagram round trip and check that datagrams get through at all. `n` is any
    /// u64 the client picks (a counter, a timestamp) to match the answer.
    Echo { n: u64 },
}

impl Datagram {
    /// Every datagram type, as named on the wire.
    pub const KINDS: [&'static str; 1] = ["echo"];

    /// The type name on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Datagram::Echo { .. } => "echo",
        }
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
        }
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
                let n: u64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("`echo` needs its `n`"))?;
                Parsed::Known(Datagram::Echo { n })
            }
            _ => Parsed::Unknown(kind),
        };
        // The decoder insists that every element is read; later fields are ignored.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(parsed)
    }
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
        let pos = rmp_serde::to_vec(&("pos", 1.5_f32, 2.0_f32)).unwrap();
        assert_eq!(
            Datagram::decode(&pos),
            Err(DatagramError::Unknown("pos".into()))
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
