//! Latency recording: one HDR histogram for the run and one per second for the timeline.
//!
//! Values are microseconds. The whole-run histogram keeps 3 significant digits (0.1% error);
//! the per-second ones 2, which is plenty for a line on a plot and keeps them small. Workers in
//! other processes send their histograms as sparse `(value, count)` lists ([`LatencySnapshot`]),
//! which the coordinator merges without losing precision: a value taken from a bucket lands in
//! the same bucket again.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency recorded exactly (60 s); anything slower is recorded as 60 s.
pub const LATENCY_MAX_US: u64 = 60_000_000;
/// Seconds the timeline covers; later deliveries are counted in the last second.
pub const MAX_TIMELINE_SECONDS: usize = 3600;
const TOTAL_SIGFIG: u8 = 3;
const SECOND_SIGFIG: u8 = 2;

fn histogram(sigfig: u8) -> Histogram<u64> {
    // Constant bounds that hdrhistogram accepts (low ≥ 1, high ≥ 2·low, sigfig ≤ 5): no input
    // reaches this, and every test that records anything would catch a bad constant.
    Histogram::new_with_bounds(1, LATENCY_MAX_US, sigfig).expect("constant histogram bounds")
}

/// Latencies of one worker (or, merged, of a run).
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    total: Histogram<u64>,
    /// Per second since the start of the run: latencies of the deliveries received then.
    per_second: Vec<Option<Histogram<u64>>>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self {
            total: histogram(TOTAL_SIGFIG),
            per_second: Vec::new(),
        }
    }
}

impl LatencyRecorder {
    /// Records one latency observed `second` seconds into the run.
    pub fn record(&mut self, second: usize, latency_us: u64) {
        let value = latency_us.clamp(1, LATENCY_MAX_US);
        self.total.saturating_record(value);
        let second = second.min(MAX_TIMELINE_SECONDS - 1);
        if self.per_second.len() <= second {
            self.per_second.resize_with(second + 1, || None);
        }
        self.per_second[second]
            .get_or_insert_with(|| histogram(SECOND_SIGFIG))
            .saturating_record(value);
    }

    pub fn count(&self) -> u64 {
        self.total.len()
    }

    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Same bounds on both sides, so adding cannot fail; saturate instead of panicking anyway.
        let _ = self.total.add(&other.total);
        if self.per_second.len() < other.per_second.len() {
            self.per_second.resize_with(other.per_second.len(), || None);
        }
        for (mine, theirs) in self.per_second.iter_mut().zip(&other.per_second) {
            if let Some(theirs) = theirs {
                let _ = mine
                    .get_or_insert_with(|| histogram(SECOND_SIGFIG))
                    .add(theirs);
            }
        }
    }

    pub fn summary(&self) -> LatencySummary {
        LatencySummary::of(&self.total)
    }

    /// One point per second: deliveries and their percentiles.
    pub fn timeline(&self) -> Vec<TimelinePoint> {
        self.per_second
            .iter()
            .enumerate()
            .map(|(second, h)| match h {
                Some(h) => TimelinePoint {
                    second: second as u64,
                    count: h.len(),
                    p50_ms: ms(h.value_at_quantile(0.5)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                    max_ms: ms(h.max()),
                },
                None => TimelinePoint {
                    second: second as u64,
                    ..TimelinePoint::default()
                },
            })
            .collect()
    }

    /// `(latency in ms, count)` of every recorded bucket, for the distribution plot.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        self.total
            .iter_recorded()
            .map(|v| (ms(v.value_iterated_to()), v.count_at_value()))
            .collect()
    }

    pub fn snapshot(&self) -> LatencySnapshot {
        LatencySnapshot {
            total: sparse(&self.total),
            per_second: self
                .per_second
                .iter()
                .map(|h| h.as_ref().map(sparse).unwrap_or_default())
                .collect(),
        }
    }

    pub fn from_snapshot(snapshot: &LatencySnapshot) -> Self {
        let mut recorder = LatencyRecorder::default();
        for &(value, count) in &snapshot.total {
            let _ = recorder
                .total
                .record_n(value.clamp(1, LATENCY_MAX_US), count);
        }
        let seconds = snapshot.per_second.len().min(MAX_TIMELINE_SECONDS);
        recorder.per_second.resize_with(seconds, || None);
        for (slot, pairs) in recorder.per_second.iter_mut().zip(&snapshot.per_second) {
            if pairs.is_empty() {
                continue;
            }
            let h = slot.get_or_insert_with(|| histogram(SECOND_SIGFIG));
            for &(value, count) in pairs {
                let _ = h.record_n(value.clamp(1, LATENCY_MAX_US), count);
            }
        }
        recorder
    }
}

fn sparse(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// A recorder in transit between processes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySnapshot {
    pub total: Vec<(u64, u64)>,
    pub per_second: Vec<Vec<(u64, u64)>>,
}

/// The percentiles a report shows, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl LatencySummary {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// One second of the latency-over-time plot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub second: u64,
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= b.abs() * 0.01 + 0.001
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut r = LatencyRecorder::default();
        // 1..=10_000 µs once each: p50 = 5 ms, p90 = 9 ms, p99 = 9.9 ms, max = 10 ms.
        for v in 1..=10_000u64 {
            r.record(0, v);
        }
        let s = r.summary();
        assert_eq!(s.count, 10_000);
        assert!(close(s.p50_ms, 5.0), "{s:?}");
        assert!(close(s.p90_ms, 9.0), "{s:?}");
        assert!(close(s.p99_ms, 9.9), "{s:?}");
        assert!(close(s.p999_ms, 9.99), "{s:?}");
        assert!(close(s.max_ms, 10.0), "{s:?}");
        assert!(close(s.mean_ms, 5.0005), "{s:?}");
    }

    #[test]
    fn out_of_range_values_are_clamped_not_lost() {
        let mut r = LatencyRecorder::default();
        r.record(0, 0);
        r.record(0, u64::MAX);
        assert_eq!(r.count(), 2);
        assert!(close(r.summary().max_ms, 60_000.0));
        // A timeline second beyond the cap lands in the last slot.
        r.record(MAX_TIMELINE_SECONDS * 2, 5);
        assert_eq!(r.timeline().len(), MAX_TIMELINE_SECONDS);
    }

    #[test]
    fn the_timeline_has_one_point_per_second_including_empty_ones() {
        let mut r = LatencyRecorder::default();
        r.record(0, 1000);
        r.record(2, 3000);
        r.record(2, 5000);
        let t = r.timeline();
        assert_eq!(t.len(), 3);
        assert_eq!((t[0].count, t[1].count, t[2].count), (1, 0, 2));
        assert!(close(t[2].max_ms, 5.0));
    }

    #[test]
    fn snapshots_merge_like_the_originals() {
        let mut a = LatencyRecorder::default();
        let mut b = LatencyRecorder::default();
        for v in 0..5000u64 {
            a.record((v % 3) as usize, 100 + v * 7);
            b.record((v % 5) as usize, 20_000 + v * 3);
        }
        let mut direct = a.clone();
        direct.merge(&b);
        let mut via_wire = LatencyRecorder::from_snapshot(&a.snapshot());
        via_wire.merge(&LatencyRecorder::from_snapshot(&b.snapshot()));
        assert_eq!(direct.summary(), via_wire.summary());
        assert_eq!(direct.timeline(), via_wire.timeline());
        assert_eq!(direct.count(), 10_000);
        // Snapshots survive JSON.
        let json = serde_json::to_string(&a.snapshot()).unwrap();
        let back: LatencySnapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a.snapshot());
    }

    #[test]
    fn an_empty_recorder_summarises_to_zeros() {
        assert_eq!(
            LatencyRecorder::default().summary(),
            LatencySummary::default()
        );
    }
}
