//! What the server remembers per client to delta-code its snapshots.
//!
//! It keeps the view the client last acknowledged (the baseline) and the views sent since, so
//! that when an acknowledgement for one of them arrives it can become the new baseline. Memory is
//! bounded by the ack window: older sent views are dropped, and a baseline older than the window
//! is forgotten, which makes the next snapshot a full one.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::ids::{AvatarId, Tick};

/// Who a client saw at one tick: avatar ids, ascending. Their states at that tick are the
/// room's (see `RoomFrames`), the same for every client, so a view is only its ids. Shared:
/// while a client's view does not change, every tick's entry is the same allocation.
pub(crate) type ViewIds = Arc<[AvatarId]>;

/// The result of an acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckOutcome {
    /// The acknowledged view is the new baseline.
    Accepted,
    /// Older than (or equal to) the current baseline: nothing to do.
    Stale,
    /// A tick this client was never sent, or one already pruned: ignored.
    Unknown,
}

#[derive(Debug, Default)]
pub(crate) struct SnapshotHistory {
    acked: Option<(Tick, ViewIds)>,
    sent: VecDeque<(Tick, ViewIds)>,
    last_sent: Option<Tick>,
}

impl SnapshotHistory {
    /// Forgets everything: the next snapshot is full (on join).
    pub(crate) fn reset(&mut self) {
        self.acked = None;
        self.sent.clear();
        self.last_sent = None;
    }

    /// The tick [`Self::baseline`] would return, without forgetting an expired one.
    pub(crate) fn baseline_tick(&self, now: Tick, window: u64) -> Option<Tick> {
        self.acked
            .as_ref()
            .map(|(tick, _)| *tick)
            .filter(|tick| now.saturating_sub(*tick) <= window)
    }

    /// The view to delta-code against at `now`, if the acknowledgement is recent enough (an
    /// older one is forgotten: the next snapshot is full).
    pub(crate) fn baseline(&mut self, now: Tick, window: u64) -> Option<(Tick, &ViewIds)> {
        if self
            .acked
            .as_ref()
            .is_some_and(|(tick, _)| now.saturating_sub(*tick) > window)
        {
            self.acked = None;
        }
        self.acked.as_ref().map(|(tick, view)| (*tick, view))
    }

    /// The most recent view recorded (sent or acknowledged), to share when the next is equal.
    pub(crate) fn latest(&self) -> Option<&ViewIds> {
        self.sent
            .back()
            .or(self.acked.as_ref())
            .map(|(_, view)| view)
    }

    /// Whether a snapshot is due: always when there is something to say or no baseline, and as
    /// a keepalive every `keepalive` ticks otherwise.
    pub(crate) fn due(&self, now: Tick, has_changes: bool, keepalive: u64) -> bool {
        has_changes
            || self.acked.is_none()
            || self
                .last_sent
                .is_none_or(|sent| now.saturating_sub(sent) >= keepalive)
    }

    /// Remembers a sent view (it may become the baseline) and prunes what the window no longer
    /// allows acknowledging.
    pub(crate) fn record_sent(&mut self, now: Tick, view: ViewIds, window: u64) {
        while self
            .sent
            .front()
            .is_some_and(|(tick, _)| now.saturating_sub(*tick) > window)
        {
            self.sent.pop_front();
        }
        self.sent.push_back((now, view));
        self.last_sent = Some(now);
    }

    /// Applies the client's acknowledgement of `tick`.
    pub(crate) fn acknowledge(&mut self, tick: Tick) -> AckOutcome {
        if self.acked.as_ref().is_some_and(|(acked, _)| *acked >= tick) {
            return AckOutcome::Stale;
        }
        let Some(index) = self.sent.iter().position(|(sent, _)| *sent == tick) else {
            return AckOutcome::Unknown;
        };
        // Everything before the acknowledged view leaves `sent`, and it becomes the baseline.
        self.sent.drain(..index);
        self.acked = self.sent.pop_front();
        AckOutcome::Accepted
    }

    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.sent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u32) -> ViewIds {
        Arc::from(vec![AvatarId(id)])
    }

    #[test]
    fn acknowledged_views_become_the_baseline() {
        let mut h = SnapshotHistory::default();
        assert!(h.baseline(1, 10).is_none());
        h.record_sent(1, view(1), 10);
        h.record_sent(2, view(2), 10);
        h.record_sent(3, view(3), 10);
        assert_eq!(h.acknowledge(2), AckOutcome::Accepted);
        assert_eq!(
            h.baseline(4, 10).map(|(t, v)| (t, v.clone())),
            Some((2, view(2)))
        );
        assert_eq!(h.baseline_tick(4, 10), Some(2));
        assert_eq!(h.latest(), Some(&view(3)));
        assert_eq!(h.held(), 1, "views at or before the ack are dropped");
        assert_eq!(h.acknowledge(1), AckOutcome::Stale);
        assert_eq!(h.acknowledge(2), AckOutcome::Stale);
        assert_eq!(h.acknowledge(99), AckOutcome::Unknown);
    }

    #[test]
    fn lost_acks_keep_the_old_baseline_until_it_ages_out() {
        let mut h = SnapshotHistory::default();
        h.record_sent(1, view(1), 5);
        assert_eq!(h.acknowledge(1), AckOutcome::Accepted);
        for tick in 2..=6 {
            h.record_sent(tick, view(tick as u32), 5);
        }
        // acks for 2..6 were lost: still coded against tick 1
        assert_eq!(h.baseline(6, 5).map(|(t, _)| t), Some(1));
        // past the window the baseline is forgotten: the next snapshot is full
        assert_eq!(h.baseline_tick(7, 5), None);
        assert!(h.baseline(7, 5).is_none());
        // history stays bounded by the window
        for tick in 7..100 {
            h.record_sent(tick, view(tick as u32), 5);
        }
        assert!(h.held() <= 6);
        // an ack for a pruned tick is unknown, a recent one works
        assert_eq!(h.acknowledge(50), AckOutcome::Unknown);
        assert_eq!(h.acknowledge(98), AckOutcome::Accepted);
    }

    #[test]
    fn quiet_clients_get_keepalives() {
        let mut h = SnapshotHistory::default();
        assert!(h.due(1, false, 20), "no baseline yet");
        h.record_sent(1, view(1), 40);
        h.acknowledge(1);
        assert!(!h.due(2, false, 20));
        assert!(h.due(2, true, 20));
        assert!(h.due(21, false, 20));
        h.reset();
        assert!(h.baseline(22, 40).is_none());
    }
}
