//! Spacing events at a fixed rate across many tasks (new connections per second).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Hands out evenly spaced start times; each caller sleeps until its own.
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// `per_second` events a second (0 means no pacing).
    pub fn new(per_second: u64) -> Self {
        let interval = if per_second == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(1.0 / per_second as f64)
        };
        Self {
            interval,
            next: Mutex::new(None),
        }
    }

    /// The next free slot (never in the past).
    pub fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }

    pub async fn wait(&self) {
        tokio::time::sleep_until(self.reserve()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_rate() {
        let pacer = Pacer::new(100);
        let a = pacer.reserve();
        let b = pacer.reserve();
        let c = pacer.reserve();
        assert_eq!(b - a, Duration::from_millis(10));
        assert_eq!(c - b, Duration::from_millis(10));
        // After a quiet spell, the next slot is now, not in the past.
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(pacer.reserve() >= Instant::now());
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unpaced() {
        let pacer = Pacer::new(0);
        assert_eq!(pacer.reserve(), pacer.reserve());
    }
}
