//! A token bucket per session.
//!
//! Each request costs one token; tokens refill continuously at `rate` per second up to `burst`.
//! A client that sends faster is answered `rate_limited` for the excess (not silently dropped),
//! and it keeps its session: a burst of typing or a reconnect storm is not a reason to
//! disconnect anyone.

use std::time::Instant;

/// Limits of the bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed back to back.
    pub burst: f64,
}

#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: limit.burst,
            refilled_at: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(
            RateLimit {
                per_second: 10.0,
                burst: 3.0,
            },
            t0,
        );
        assert!(bucket.take(t0));
        assert!(bucket.take(t0));
        assert!(bucket.take(t0));
        assert!(!bucket.take(t0));
        // 100 ms at 10/s refills one token.
        assert!(bucket.take(t0 + Duration::from_millis(100)));
        assert!(!bucket.take(t0 + Duration::from_millis(100)));
        // A long pause refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(bucket.take(later));
        }
        assert!(!bucket.take(later));
    }
}
