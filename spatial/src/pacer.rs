//! Fixed-rate pacing without pile-up.
//!
//! Ticks are due at `start + k × period`. When a tick finishes after later deadlines have
//! already passed (it overran, or the thread was descheduled), those deadlines are skipped and
//! counted instead of being run back to back: a burst of catch-up ticks would only make the next
//! ones late too. Simulated time advances one fixed period per tick run, so under overload the
//! simulation runs slower than real time rather than jerkier.

use std::time::{Duration, Instant};

/// Tracks the next deadline.
#[derive(Debug, Clone)]
pub struct TickPacer {
    period: Duration,
    next: Instant,
}

impl TickPacer {
    /// The first tick is due one period after `start`.
    pub fn new(start: Instant, period: Duration) -> Self {
        Self {
            period,
            next: start + period,
        }
    }

    /// The next deadline.
    pub fn next_deadline(&self) -> Instant {
        self.next
    }

    /// Whether a tick is due at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// Time left until the next deadline (zero if due).
    pub fn until_due(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }

    /// Called when the tick due at the current deadline has finished at `now`: moves to the
    /// first deadline after `now` and returns how many deadlines were skipped on the way.
    pub fn finish_tick(&mut self, now: Instant) -> u64 {
        let after = self.next + self.period;
        if now < after {
            self.next = after;
            return 0;
        }
        let late = now.duration_since(after);
        let period = self.period.as_nanos().max(1);
        let skipped = late.as_nanos() / period + 1;
        let skipped = u64::try_from(skipped).unwrap_or(u64::MAX);
        let advance = self
            .period
            .checked_mul(u32::try_from(skipped + 1).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX);
        self.next = self.next.checked_add(advance).unwrap_or(now + self.period);
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(50);

    #[test]
    fn on_time_ticks_skip_nothing() {
        let t0 = Instant::now();
        let mut pacer = TickPacer::new(t0, P);
        assert!(!pacer.is_due(t0));
        assert_eq!(pacer.until_due(t0), P);
        assert!(pacer.is_due(t0 + P));
        // the tick took 10 ms
        assert_eq!(pacer.finish_tick(t0 + P + Duration::from_millis(10)), 0);
        assert_eq!(pacer.next_deadline(), t0 + 2 * P);
    }

    #[test]
    fn an_overrun_skips_missed_deadlines_instead_of_piling_up() {
        let t0 = Instant::now();
        let mut pacer = TickPacer::new(t0, P);
        // the tick due at 1P finished at 4.5P: deadlines 2P, 3P and 4P were missed
        assert_eq!(pacer.finish_tick(t0 + P * 9 / 2), 3);
        assert_eq!(pacer.next_deadline(), t0 + 5 * P);
        // finishing exactly on a later deadline skips it too (it is already past)
        assert_eq!(pacer.finish_tick(t0 + 6 * P), 1);
        assert_eq!(pacer.next_deadline(), t0 + 7 * P);
    }
}
