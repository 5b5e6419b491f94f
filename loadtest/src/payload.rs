//! The message body every publisher sends: who sent it, its number, and when.
//!
//! Latency is measured end to end from a timestamp written into the payload by the publisher and
//! read by each subscriber, so it covers everything in between (the client's send path, the
//! server, the client's receive path) and needs no server cooperation. Publishers and subscribers
//! run on the same machine (targets are loopback only), so they share one wall clock even across
//! processes.
//!
//! Layout: 8 hex digits publisher id, 16 hex digits counter, 16 hex digits send time in
//! microseconds since the Unix epoch, then `x` padding up to the configured size. Hex and `x`
//! need no escaping in JSON (Socket.IO), are valid UTF-8 (Atrium bodies are strings) and have no
//! spaces (Atrium rejects whitespace-only bodies; NATS counts bytes). Parsing is a fixed-offset
//! read without allocation, because subscribers parse hundreds of thousands per second.

use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes of the fixed header; a payload is at least this long.
pub const HEADER_LEN: usize = 40;
/// Largest payload the load tester sends (Atrium's body limit is 4,000 characters).
pub const MAX_PAYLOAD_BYTES: usize = 4000;

/// What a subscriber learns from one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Global publisher index.
    pub publisher: u32,
    /// The publisher's message counter, from 0, one per message it sent.
    pub counter: u64,
    /// Send time, microseconds since the Unix epoch.
    pub sent_us: u64,
}

/// Microseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Writes a payload of `size` bytes (at least [`HEADER_LEN`]) into `out`, replacing its content.
pub fn encode_into(out: &mut String, stamp: Stamp, size: usize) {
    use std::fmt::Write as _;
    out.clear();
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "{:08x}{:016x}{:016x}",
        stamp.publisher, stamp.counter, stamp.sent_us
    );
    let target = size.clamp(HEADER_LEN, MAX_PAYLOAD_BYTES);
    out.extend(std::iter::repeat_n('x', target - out.len()));
}

/// Reads a payload; `None` if it is not one of ours.
pub fn parse(bytes: &[u8]) -> Option<Stamp> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    let publisher = u32::try_from(hex(&bytes[0..8])?).ok()?;
    Some(Stamp {
        publisher,
        counter: hex(&bytes[8..24])?,
        sent_us: hex(&bytes[24..40])?,
    })
}

fn hex(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u64::from(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads_to_the_requested_size() {
        let stamp = Stamp {
            publisher: 0xdead_beef,
            counter: 12_345_678_901,
            sent_us: 1_764_115_200_123_456,
        };
        let mut s = String::new();
        encode_into(&mut s, stamp, 100);
        assert_eq!(s.len(), 100);
        assert!(s.ends_with("xxxx"));
        assert_eq!(parse(s.as_bytes()), Some(stamp));
    }

    #[test]
    fn sizes_are_clamped_to_the_header_and_the_body_limit() {
        let stamp = Stamp {
            publisher: 1,
            counter: 2,
            sent_us: 3,
        };
        let mut s = String::new();
        encode_into(&mut s, stamp, 3);
        assert_eq!(s.len(), HEADER_LEN);
        encode_into(&mut s, stamp, 1_000_000);
        assert_eq!(s.len(), MAX_PAYLOAD_BYTES);
        assert_eq!(parse(s.as_bytes()), Some(stamp));
    }

    #[test]
    fn foreign_bodies_are_not_mistaken_for_payloads() {
        assert_eq!(parse(b"hello"), None);
        assert_eq!(parse(&[b'g'; 40]), None);
        assert_eq!(
            parse("ABCDEF00".repeat(5).as_bytes()),
            None,
            "upper case is not ours"
        );
    }

    #[test]
    fn clock_is_after_2020() {
        assert!(now_us() > 1_577_836_800_000_000);
    }
}
