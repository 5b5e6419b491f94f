//! Counters and histograms shared by every session task of a worker.
//!
//! Thousands of subscriber tasks record on two threads. To keep the hot path cheap each task
//! buffers its latencies ([`LatencyBuffer`]) and adds them to one of a few mutex-protected shards
//! in batches; counters are atomics bumped once per batch.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::control::Progress;
use crate::integrity::{Integrity, StreamCounts};
use crate::recorder::LatencyRecorder;

/// Latency shards per worker (a few per core is enough to make contention rare).
const SHARDS: usize = 8;
/// A task flushes its buffered latencies at this many entries…
const BUFFER_ENTRIES: usize = 512;
/// …or when the oldest is this old, so progress stays current.
const BUFFER_AGE: Duration = Duration::from_millis(250);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub struct WorkerStats {
    /// The run's start (the `go` time), microseconds since the epoch.
    pub start_us: AtomicU64,
    pub connected: AtomicU64,
    pub connect_failed: AtomicU64,
    pub published: AtomicU64,
    pub confirmed: AtomicU64,
    pub deliveries: AtomicU64,
    pub expected_deliveries: AtomicU64,
    pub churn_deliveries: AtomicU64,
    pub churn_connects: AtomicU64,
    pub reconnects: AtomicU64,
    pub first_delivery_us: AtomicU64,
    pub last_delivery_us: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    error_count: AtomicU64,
    latency: [Mutex<LatencyRecorder>; SHARDS],
    pub ack_latency: Mutex<LatencyRecorder>,
    pub connect_latency: Mutex<LatencyRecorder>,
    integrity: Mutex<Integrity>,
}

impl WorkerStats {
    pub fn error(&self, code: &str) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
        *lock(&self.errors).entry(code.to_owned()).or_default() += 1;
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        lock(&self.errors).clone()
    }

    /// Seconds since the start for a timestamp (0 before the start).
    pub fn second_of(&self, at_us: u64) -> usize {
        let start = self.start_us.load(Ordering::Relaxed);
        (at_us.saturating_sub(start) / 1_000_000) as usize
    }

    pub fn record_connect(&self, latency: Duration) {
        let now = crate::payload::now_us();
        lock(&self.connect_latency).record(
            self.second_of(now),
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        );
    }

    pub fn record_ack(&self, now_us: u64, sent_us: u64) {
        lock(&self.ack_latency).record(self.second_of(now_us), now_us.saturating_sub(sent_us));
    }

    pub fn add_subscriber(&self, streams: &[StreamCounts], expected: u64) {
        self.expected_deliveries
            .fetch_add(expected, Ordering::Relaxed);
        lock(&self.integrity).add_subscriber(streams);
    }

    pub fn integrity(&self) -> Integrity {
        *lock(&self.integrity)
    }

    /// All latency shards merged.
    pub fn latency(&self) -> LatencyRecorder {
        let mut all = LatencyRecorder::default();
        for shard in &self.latency {
            all.merge(&lock(shard));
        }
        all
    }

    pub fn progress(&self) -> Progress {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Progress {
            connected: get(&self.connected),
            connect_failed: get(&self.connect_failed),
            published: get(&self.published),
            confirmed: get(&self.confirmed),
            deliveries: get(&self.deliveries) + get(&self.churn_deliveries),
            errors: get(&self.error_count),
        }
    }
}

/// One task's not-yet-recorded latencies.
pub struct LatencyBuffer {
    shard: usize,
    entries: Vec<(u32, u64)>,
    first_us: u64,
    last_us: u64,
    oldest: Option<Instant>,
}

impl LatencyBuffer {
    pub fn new(task: u64) -> Self {
        Self {
            shard: (task % SHARDS as u64) as usize,
            entries: Vec::new(),
            first_us: 0,
            last_us: 0,
            oldest: None,
        }
    }

    /// Buffers one delivery received at `now_us` and sent at `sent_us`.
    pub fn push(&mut self, stats: &WorkerStats, now_us: u64, sent_us: u64) {
        if self.entries.is_empty() {
            self.oldest = Some(Instant::now());
            self.entries.reserve(BUFFER_ENTRIES);
        }
        if self.first_us == 0 {
            self.first_us = now_us;
        }
        self.last_us = now_us;
        let second = u32::try_from(stats.second_of(now_us)).unwrap_or(u32::MAX);
        self.entries.push((second, now_us.saturating_sub(sent_us)));
        if self.entries.len() >= BUFFER_ENTRIES {
            self.flush(stats);
        }
    }

    /// Flushes if the oldest entry is getting stale.
    pub fn maybe_flush(&mut self, stats: &WorkerStats) {
        if self.oldest.is_some_and(|t| t.elapsed() >= BUFFER_AGE) {
            self.flush(stats);
        }
    }

    pub fn flush(&mut self, stats: &WorkerStats) {
        if self.entries.is_empty() {
            return;
        }
        {
            let mut shard = lock(&stats.latency[self.shard]);
            for &(second, latency) in &self.entries {
                shard.record(second as usize, latency);
            }
        }
        stats
            .deliveries
            .fetch_add(self.entries.len() as u64, Ordering::Relaxed);
        stats
            .last_delivery_us
            .fetch_max(self.last_us, Ordering::Relaxed);
        if self.first_us != 0 {
            let _ =
                stats
                    .first_delivery_us
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| {
                        (f == 0 || self.first_us < f).then_some(self.first_us)
                    });
        }
        self.entries.clear();
        // Give back a big buffer once a burst is over; keep a small one for the next.
        self.entries.shrink_to(BUFFER_ENTRIES);
        self.oldest = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_latencies_reach_the_totals_on_flush() {
        let stats = WorkerStats::default();
        stats.start_us.store(1_000_000_000, Ordering::Relaxed);
        let mut buf = LatencyBuffer::new(3);
        buf.push(&stats, 1_000_500_000, 1_000_499_000);
        buf.push(&stats, 1_002_000_000, 1_001_998_000);
        assert_eq!(stats.progress().deliveries, 0, "not flushed yet");
        buf.flush(&stats);
        assert_eq!(stats.progress().deliveries, 2);
        let latency = stats.latency();
        assert_eq!(latency.count(), 2);
        let timeline = latency.timeline();
        assert_eq!(timeline.len(), 3, "seconds 0..=2");
        assert_eq!(timeline[2].count, 1);
        assert_eq!(
            stats.first_delivery_us.load(Ordering::Relaxed),
            1_000_500_000
        );
        assert_eq!(
            stats.last_delivery_us.load(Ordering::Relaxed),
            1_002_000_000
        );
    }

    #[test]
    fn a_full_buffer_flushes_by_itself() {
        let stats = WorkerStats::default();
        let mut buf = LatencyBuffer::new(0);
        for i in 0..BUFFER_ENTRIES as u64 {
            buf.push(&stats, 10 + i, 5);
        }
        assert_eq!(stats.progress().deliveries, BUFFER_ENTRIES as u64);
    }

    #[test]
    fn errors_are_counted_by_code() {
        let stats = WorkerStats::default();
        stats.error("rate_limited");
        stats.error("rate_limited");
        stats.error("connection_lost");
        assert_eq!(stats.errors()["rate_limited"], 2);
        assert_eq!(stats.progress().errors, 3);
    }
}
