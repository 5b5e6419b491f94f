//! Gap and duplicate accounting for one subscriber.
//!
//! Every delivery carries a number that must arrive exactly once and in order: Atrium's per-channel
//! `seq`, or, for peers that have none, the publisher's own counter from the payload. A
//! [`StreamTracker`] follows one such numbering (one channel, or one publisher) for one subscriber.
//! Numbers skipped over are remembered as missing; if one of them turns up later it was only
//! reordered, and anything else below the next expected number is a duplicate. At the end the
//! tracker learns the last number that was confirmed to the publisher, and whatever is still
//! missing up to it is a gap.
//!
//! The missing set is bounded ([`MAX_TRACKED_MISSING`]): beyond it gaps are still counted, but a
//! late arrival of one of the untracked numbers would count as a duplicate. That only happens when
//! a run is already badly broken.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Missing numbers remembered individually per stream.
pub const MAX_TRACKED_MISSING: usize = 4096;

/// One numbering followed by one subscriber.
#[derive(Debug, Clone, Default)]
pub struct StreamTracker {
    /// The next number expected in order.
    next: u64,
    /// Numbers skipped over and not (yet) received.
    missing: BTreeSet<u64>,
    /// Skipped numbers not remembered because the set was full.
    missing_untracked: u64,
    received: u64,
    duplicates: u64,
    reordered: u64,
}

impl StreamTracker {
    /// A tracker expecting `first` next (Atrium: the subscription's `last_seq + 1`; a publisher
    /// counter: 0).
    pub fn starting_at(first: u64) -> Self {
        Self {
            next: first,
            ..Self::default()
        }
    }

    /// Records one delivery with number `n`.
    pub fn observe(&mut self, n: u64) {
        self.received += 1;
        if n == self.next {
            self.next += 1;
        } else if n > self.next {
            for skipped in self.next..n {
                if self.missing.len() < MAX_TRACKED_MISSING {
                    self.missing.insert(skipped);
                } else {
                    self.missing_untracked += 1;
                }
            }
            self.next = n + 1;
        } else if self.missing.remove(&n) {
            self.reordered += 1;
        } else {
            self.duplicates += 1;
        }
    }

    /// True once every number below `end` (exclusive) has arrived.
    pub fn is_complete(&self, end: u64) -> bool {
        self.next >= end && self.missing.is_empty() && self.missing_untracked == 0
    }

    /// The next number expected in order (what a resume continues after: `next - 1`).
    pub fn next(&self) -> u64 {
        self.next
    }

    /// The final counts, given that numbers below `end` were confirmed to their publisher.
    pub fn finish(&self, end: u64) -> StreamCounts {
        let tail = end.saturating_sub(self.next);
        StreamCounts {
            received: self.received,
            gaps: self.missing.len() as u64 + self.missing_untracked + tail,
            duplicates: self.duplicates,
            reordered: self.reordered,
        }
    }
}

/// Totals of one or many streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCounts {
    pub received: u64,
    /// Numbers that never arrived (up to the last confirmed one).
    pub gaps: u64,
    /// Numbers that arrived more than once.
    pub duplicates: u64,
    /// Numbers that arrived after a later one (then not counted as gaps).
    pub reordered: u64,
}

/// Integrity of a whole run: the sums, and how many subscribers saw any problem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrity {
    /// Subscribers checked.
    pub subscribers: u64,
    /// Streams checked (subscriber × channel for seq, subscriber × publisher for counters).
    pub streams: u64,
    pub totals: StreamCounts,
    pub subscribers_with_gaps: u64,
    pub subscribers_with_duplicates: u64,
}

impl Integrity {
    /// Adds one subscriber's streams.
    pub fn add_subscriber(&mut self, streams: &[StreamCounts]) {
        self.subscribers += 1;
        self.streams += streams.len() as u64;
        let mut gaps = 0;
        let mut dups = 0;
        for s in streams {
            self.totals.received += s.received;
            self.totals.gaps += s.gaps;
            self.totals.duplicates += s.duplicates;
            self.totals.reordered += s.reordered;
            gaps += s.gaps;
            dups += s.duplicates;
        }
        self.subscribers_with_gaps += u64::from(gaps > 0);
        self.subscribers_with_duplicates += u64::from(dups > 0);
    }

    /// Combines the results of several workers.
    pub fn merge(&mut self, other: &Integrity) {
        self.subscribers += other.subscribers;
        self.streams += other.streams;
        self.totals.received += other.totals.received;
        self.totals.gaps += other.totals.gaps;
        self.totals.duplicates += other.totals.duplicates;
        self.totals.reordered += other.totals.reordered;
        self.subscribers_with_gaps += other.subscribers_with_gaps;
        self.subscribers_with_duplicates += other.subscribers_with_duplicates;
    }

    /// No gap and no duplicate anywhere.
    pub fn is_clean(&self) -> bool {
        self.totals.gaps == 0 && self.totals.duplicates == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(first: u64, seen: &[u64], end: u64) -> StreamCounts {
        let mut t = StreamTracker::starting_at(first);
        for &n in seen {
            t.observe(n);
        }
        t.finish(end)
    }

    #[test]
    fn an_in_order_stream_is_clean_and_complete() {
        let mut t = StreamTracker::starting_at(5);
        for n in 5..10 {
            assert!(!t.is_complete(10));
            t.observe(n);
        }
        assert!(t.is_complete(10));
        assert_eq!(
            t.finish(10),
            StreamCounts {
                received: 5,
                ..Default::default()
            }
        );
    }

    #[test]
    fn skipped_numbers_are_gaps() {
        let c = run(0, &[0, 1, 4, 5], 6);
        assert_eq!((c.gaps, c.duplicates, c.reordered), (2, 0, 0));
    }

    #[test]
    fn a_missing_tail_up_to_the_confirmed_end_is_a_gap() {
        let c = run(1, &[1, 2, 3], 7);
        assert_eq!(c.gaps, 3, "4, 5 and 6 were confirmed but never arrived");
        // Messages beyond the confirmed end (sent, unconfirmed) are fine either way.
        assert_eq!(run(1, &[1, 2, 3, 4], 3).gaps, 0);
    }

    #[test]
    fn repeats_are_duplicates() {
        let c = run(0, &[0, 1, 1, 2, 0], 3);
        assert_eq!((c.gaps, c.duplicates, c.received), (0, 2, 5));
    }

    #[test]
    fn a_late_arrival_fills_its_gap_and_counts_as_reordered() {
        let c = run(0, &[0, 2, 1, 3], 4);
        assert_eq!((c.gaps, c.duplicates, c.reordered), (0, 0, 1));
        // ... but a second copy of it is a duplicate.
        let c = run(0, &[0, 2, 1, 1, 3], 4);
        assert_eq!((c.gaps, c.duplicates, c.reordered), (0, 1, 1));
    }

    #[test]
    fn huge_jumps_are_counted_without_unbounded_memory() {
        let jump = MAX_TRACKED_MISSING as u64 * 3;
        let mut t = StreamTracker::starting_at(0);
        t.observe(jump);
        assert_eq!(t.missing.len(), MAX_TRACKED_MISSING);
        assert_eq!(t.finish(jump + 1).gaps, jump);
        assert!(!t.is_complete(jump + 1));
    }

    #[test]
    fn integrity_sums_and_counts_affected_subscribers() {
        let mut a = Integrity::default();
        a.add_subscriber(&[run(0, &[0, 1], 2), run(0, &[0, 0, 1], 2)]);
        a.add_subscriber(&[run(0, &[1], 2)]);
        assert_eq!(a.subscribers, 2);
        assert_eq!(a.streams, 3);
        assert_eq!(a.totals.duplicates, 1);
        assert_eq!(a.totals.gaps, 1);
        assert_eq!(a.subscribers_with_duplicates, 1);
        assert_eq!(a.subscribers_with_gaps, 1);
        assert!(!a.is_clean());
        let mut b = Integrity::default();
        b.add_subscriber(&[run(0, &[0], 1)]);
        assert!(b.is_clean());
        b.merge(&a);
        assert_eq!(b.subscribers, 3);
        assert_eq!(b.totals.received, 1 + 2 + 3 + 1);
    }
}
