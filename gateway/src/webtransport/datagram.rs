//! What happens to a datagram a client sent.
//!
//! Datagrams bypass the control stream, so the gate applies the session rules to them itself:
//! nothing is accepted before the session is open (`hello` verified), each session has its own
//! rate limit, and whatever cannot be used — too early, too fast, malformed, of an unknown type —
//! is dropped and counted in `atrium_wt_datagrams_dropped_total{reason}`. A datagram is never
//! answered with an error: it has no `rid`, and an answer could be lost anyway.

use std::time::Instant;

use bytes::Bytes;

use atrium_actors::RoomInput;
use atrium_core::protocol::{Datagram, DatagramError};

use crate::session::rate_limit::{RateLimit, TokenBucket};

/// Why a datagram was dropped (the `reason` label of the metric).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// The session was not open yet.
    BeforeHello,
    /// Over the session's datagram rate.
    RateLimited,
    /// Not a datagram.
    Malformed,
    /// A datagram type this build does not know, or one only the server sends.
    Unknown,
}

impl Dropped {
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::BeforeHello => "before_hello",
            Dropped::RateLimited => "rate_limited",
            Dropped::Malformed => "malformed",
            Dropped::Unknown => "unknown",
        }
    }
}

/// What to do with one datagram.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Send these bytes back as a datagram.
    Reply(Bytes),
    /// An avatar input for the session.
    Input(RoomInput),
    Drop(Dropped),
}

/// The per-session datagram policy.
#[derive(Debug)]
pub struct DatagramGate {
    open: bool,
    bucket: TokenBucket,
}

impl DatagramGate {
    /// A closed gate: every datagram is dropped until [`DatagramGate::open`].
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            open: false,
            bucket: TokenBucket::new(limit, now),
        }
    }

    /// The session is open: datagrams count from now on.
    pub fn open(&mut self) {
        self.open = true;
    }

    /// Judges one datagram and records the outcome in the metrics.
    pub fn on_datagram(&mut self, payload: &[u8], now: Instant) -> Verdict {
        metrics::counter!("atrium_wt_datagrams_received_total").increment(1);
        let verdict = self.judge(payload, now);
        if let Verdict::Drop(reason) = &verdict {
            metrics::counter!("atrium_wt_datagrams_dropped_total", "reason" => reason.as_str())
                .increment(1);
        }
        verdict
    }

    fn judge(&mut self, payload: &[u8], now: Instant) -> Verdict {
        if !self.open {
            return Verdict::Drop(Dropped::BeforeHello);
        }
        if !self.bucket.take(now) {
            return Verdict::Drop(Dropped::RateLimited);
        }
        match Datagram::decode(payload) {
            Ok(echo @ Datagram::Echo { .. }) => Verdict::Reply(echo.encode()),
            Ok(Datagram::Pos {
                seq,
                p,
                yaw,
                v,
                ack,
            }) => Verdict::Input(RoomInput::Pose {
                seq: Some(seq),
                p,
                yaw,
                v,
                ack,
            }),
            Ok(Datagram::Ack { tick }) => Verdict::Input(RoomInput::Ack { tick }),
            Ok(Datagram::Snap { .. }) => Verdict::Drop(Dropped::Unknown),
            Err(DatagramError::Unknown(_)) => Verdict::Drop(Dropped::Unknown),
            Err(DatagramError::Malformed(_)) => Verdict::Drop(Dropped::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const LIMIT: RateLimit = RateLimit {
        per_second: 10.0,
        burst: 2.0,
    };

    #[test]
    fn nothing_before_the_session_opens() {
        let t0 = Instant::now();
        let mut gate = DatagramGate::new(LIMIT, t0);
        let echo = Datagram::Echo { n: 1 }.encode();
        assert_eq!(
            gate.on_datagram(&echo, t0),
            Verdict::Drop(Dropped::BeforeHello)
        );
        gate.open();
        assert_eq!(gate.on_datagram(&echo, t0), Verdict::Reply(echo.clone()));
    }

    #[test]
    fn unknown_malformed_and_too_fast_are_dropped() {
        let t0 = Instant::now();
        let mut gate = DatagramGate::new(LIMIT, t0);
        gate.open();
        // ["jump", 1, 2]
        let unknown = [0x93, 0xa4, b'j', b'u', b'm', b'p', 0x01, 0x02];
        assert_eq!(
            gate.on_datagram(&unknown, t0),
            Verdict::Drop(Dropped::Unknown)
        );
        assert_eq!(
            gate.on_datagram(b"\x81\xa1t\xa4echo", t0),
            Verdict::Drop(Dropped::Malformed)
        );
        // Both drops above used the burst of 2.
        let echo = Datagram::Echo { n: 9 }.encode();
        assert_eq!(
            gate.on_datagram(&echo, t0),
            Verdict::Drop(Dropped::RateLimited)
        );
        let later = t0 + Duration::from_millis(100);
        assert_eq!(gate.on_datagram(&echo, later), Verdict::Reply(echo.clone()));
    }
}
