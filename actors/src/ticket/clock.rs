//! The wall clock the ticket subsystem reads and sleeps on.
//!
//! SLA deadlines are wall-clock instants (`OffsetDateTime`), and tests must be able to move a
//! node an hour ahead without waiting an hour, across a node restart, over real sockets. Tokio's
//! paused time cannot do that (it auto-advances whenever the runtime idles on I/O and needs a
//! single-threaded runtime), so the clock is injected: [`SystemClock`] in production,
//! [`ManualClock`] in tests, where `advance` wakes every sleeper whose instant has come.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

/// A wall clock with a way to wait for an instant.
pub trait TicketClock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
    /// Resolves once [`TicketClock::now`] is at or past `at`.
    fn sleep_until(&self, at: OffsetDateTime) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl TicketClock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep_until(&self, at: OffsetDateTime) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let wait = (at - OffsetDateTime::now_utc()).max(Duration::ZERO);
        let wait = std::time::Duration::try_from(wait).unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now: tokio::sync::watch::Sender<OffsetDateTime>,
}

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: tokio::sync::watch::Sender::new(start),
        }
    }

    /// Moves the clock forward by `by` and wakes every sleeper whose instant has come.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by.max(Duration::ZERO));
    }

    /// Sets the clock (never backwards).
    pub fn set(&self, to: OffsetDateTime) {
        self.now.send_modify(|now| *now = (*now).max(to));
    }
}

impl TicketClock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: OffsetDateTime) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; if it is gone, nothing will ever wake us.
            if rx.wait_for(|now| *now >= at).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// A shared clock that fits in a configuration struct (compared by identity).
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn TicketClock>);

impl SharedClock {
    pub fn new(clock: impl TicketClock) -> Self {
        Self(Arc::new(clock))
    }

    /// Now, cut to the millisecond the stores keep, so a value read back equals it.
    pub fn now(&self) -> OffsetDateTime {
        let t = self.0.now().to_offset(time::UtcOffset::UTC);
        t.replace_millisecond(t.millisecond()).unwrap_or(t)
    }

    pub fn sleep_until(&self, at: OffsetDateTime) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.0.sleep_until(at)
    }
}

/// The one system clock every default configuration shares (so defaults compare equal).
static SYSTEM_CLOCK: std::sync::LazyLock<Arc<dyn TicketClock>> =
    std::sync::LazyLock::new(|| Arc::new(SystemClock));

impl Default for SharedClock {
    fn default() -> Self {
        Self(SYSTEM_CLOCK.clone())
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedClock")
    }
}

impl PartialEq for SharedClock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedClock {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_sleeper_wakes_when_the_clock_passes_its_instant() {
        let start = time::macros::datetime!(2026-03-02 09:00 UTC);
        let clock = Arc::new(ManualClock::new(start));
        let sleeper = tokio::spawn(clock.sleep_until(start + Duration::hours(1)));
        clock.advance(Duration::minutes(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::minutes(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeper)
            .await
            .expect("woke")
            .expect("ran");
        assert_eq!(clock.now(), start + Duration::hours(1));
    }
}
