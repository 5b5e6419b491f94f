//! Time for the driver, replaceable in tests.
//!
//! The driver only asks "what time is it?" and "how long may I block?". The system clock
//! answers with real time; a [`ManualClock`] lets a test decide when time passes (and makes the
//! driver poll briefly instead of sleeping through a fake period).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of time for the tick loop.
pub trait Clock: Send + 'static {
    /// The current instant.
    fn now(&self) -> Instant;

    /// How long the driver may block waiting for input when the next deadline is `until` away.
    fn block_for(&self, until: Duration) -> Duration {
        until
    }
}

/// Real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Time that moves only when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    elapsed_nanos: Arc<AtomicU64>,
}

/// How long a driver on a manual clock blocks before looking at the clock again.
const MANUAL_POLL: Duration = Duration::from_millis(1);

impl ManualClock {
    /// A clock stopped at an arbitrary instant.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.elapsed_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }

    fn block_for(&self, until: Duration) -> Duration {
        until.min(MANUAL_POLL)
    }
}
