//! Reconnect delays: exponential with "equal jitter".

use std::time::Duration;

use rand::Rng;

/// The delay before reconnect attempt `attempt` (0-based): `min · 2^attempt` capped at `max`,
/// then a random point in its upper half, so a server restart does not bring every client back
/// in the same millisecond, yet nobody retries sooner than half the nominal delay.
pub fn delay(attempt: u32, min: Duration, max: Duration) -> Duration {
    let nominal = min
        .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .min(max);
    let half = nominal / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let extra = if jitter_ms == 0 {
        0
    } else {
        rand::rng().random_range(0..=jitter_ms)
    };
    half + Duration::from_millis(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_stays_within_bounds() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..40 {
            let nominal = (min * 2u32.saturating_pow(attempt.min(20))).min(max);
            let d = delay(attempt, min, max);
            assert!(d >= nominal / 2 && d <= nominal, "attempt {attempt}: {d:?}");
        }
    }
}
