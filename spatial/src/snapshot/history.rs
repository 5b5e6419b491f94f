//! What the server remembers per client to delta-code its snapshots.
//!
//! It keeps the view the client last acknowledged (the baseline) and the views sent since, so
//! that when an acknowledgement for one of them arrives it can become the new baseline. Memory is
//! bounded by the ack window: older sent views are dropped, and a baseline older than the window
//! is forgotten, which makes the next snapshot a full one.
//!
//! A view is only its avatar ids (their states at that tick are the room's, the same for every
//! client: see `RoomFrames`). The ids of every view held lie back to back in one buffer owned by
//! the client, oldest first, and a view equal to the one recorded before it shares its ids, so
//! a client whose view does not change holds one copy however many ticks it spans. Views leave
//! from the front only, so the buffer is trimmed from the front; nothing is allocated per tick
//! once it has grown to the client's usual view.

use smallvec::SmallVec;

use crate::ids::{AvatarId, Tick};

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

/// One view held: its tick and where its ids lie (offsets count every id ever stored, so
/// trimming the front of the buffer renumbers nothing).
#[derive(Debug, Clone, Copy)]
struct Recorded {
    tick: Tick,
    start: u64,
    len: u32,
}

/// Views sent and not yet acknowledged, held inline (more are kept when acknowledgements lag).
const SENT_INLINE: usize = 4;

/// View ids held inline: about two views of a usual crowd.
const IDS_INLINE: usize = 96;

#[derive(Debug, Default)]
pub(crate) struct SnapshotHistory {
    acked: Option<Recorded>,
    /// Oldest first.
    sent: SmallVec<[Recorded; SENT_INLINE]>,
    last_sent: Option<Tick>,
    /// The ids of the views held, oldest first (inline, so they lie in the component table).
    ids: SmallVec<[AvatarId; IDS_INLINE]>,
    /// The offset of `ids[0]`.
    base: u64,
}

impl SnapshotHistory {
    /// Forgets everything: the next snapshot is full (on join).
    pub(crate) fn reset(&mut self) {
        self.acked = None;
        self.sent.clear();
        self.last_sent = None;
        self.base += self.ids.len() as u64;
        self.ids.clear();
    }

    fn ids_of(&self, view: &Recorded) -> &[AvatarId] {
        let start = (view.start - self.base) as usize;
        &self.ids[start..start + view.len as usize]
    }

    /// Drops the ids no view held refers to any more (those before the oldest view).
    fn trim(&mut self) {
        let oldest = self
            .acked
            .as_ref()
            .or(self.sent.first())
            .map_or(self.base + self.ids.len() as u64, |view| view.start);
        let unused = (oldest - self.base) as usize;
        if unused > 0 {
            self.ids.drain(..unused);
            self.base = oldest;
        }
    }

    /// The tick [`Self::baseline`] would return after [`Self::expire`].
    pub(crate) fn baseline_tick(&self, now: Tick, window: u64) -> Option<Tick> {
        self.acked
            .as_ref()
            .map(|view| view.tick)
            .filter(|tick| now.saturating_sub(*tick) <= window)
    }

    /// Forgets a baseline older than the window (the next snapshot is then full).
    pub(crate) fn expire(&mut self, now: Tick, window: u64) {
        if self.baseline_tick(now, window).is_none() && self.acked.take().is_some() {
            self.trim();
        }
    }

    /// The view to delta-code against: its tick and ids (call [`Self::expire`] first).
    pub(crate) fn baseline(&self) -> Option<(Tick, &[AvatarId])> {
        self.acked
            .as_ref()
            .map(|view| (view.tick, self.ids_of(view)))
    }

    /// The most recent view recorded (sent or acknowledged).
    #[cfg(test)]
    pub(crate) fn latest(&self) -> Option<&[AvatarId]> {
        self.sent
            .last()
            .or(self.acked.as_ref())
            .map(|view| self.ids_of(view))
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
    /// allows acknowledging. `view` is the ids, ascending; equal to the latest view recorded,
    /// it shares that view's ids.
    pub(crate) fn record_sent<I>(&mut self, now: Tick, view: I, window: u64)
    where
        I: IntoIterator<Item = AvatarId>,
        I::IntoIter: ExactSizeIterator + Clone,
    {
        let view = view.into_iter();
        let latest = self.sent.last().or(self.acked.as_ref()).copied();
        let recorded = match latest {
            Some(latest)
                if latest.len as usize == view.len()
                    && self.ids_of(&latest).iter().copied().eq(view.clone()) =>
            {
                Recorded {
                    tick: now,
                    ..latest
                }
            }
            _ => {
                let recorded = Recorded {
                    tick: now,
                    start: self.base + self.ids.len() as u64,
                    len: view.len() as u32,
                };
                self.ids.extend(view);
                recorded
            }
        };
        let expired = self
            .sent
            .iter()
            .take_while(|view| now.saturating_sub(view.tick) > window)
            .count();
        let pruned = expired > 0;
        if pruned {
            self.sent.drain(..expired);
        }
        self.sent.push(recorded);
        self.last_sent = Some(now);
        if pruned {
            self.trim();
        }
    }

    /// Applies the client's acknowledgement of `tick`.
    pub(crate) fn acknowledge(&mut self, tick: Tick) -> AckOutcome {
        if self.acked.as_ref().is_some_and(|acked| acked.tick >= tick) {
            return AckOutcome::Stale;
        }
        let Some(index) = self.sent.iter().position(|sent| sent.tick == tick) else {
            return AckOutcome::Unknown;
        };
        // Everything before the acknowledged view leaves `sent`, and it becomes the baseline.
        self.acked = Some(self.sent[index]);
        self.sent.drain(..=index);
        self.trim();
        AckOutcome::Accepted
    }

    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.sent.len()
    }

    #[cfg(test)]
    pub(crate) fn ids_held(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u32) -> [AvatarId; 1] {
        [AvatarId(id)]
    }

    fn baseline(h: &mut SnapshotHistory, now: Tick, window: u64) -> Option<(Tick, Vec<AvatarId>)> {
        h.expire(now, window);
        h.baseline().map(|(t, ids)| (t, ids.to_vec()))
    }

    #[test]
    fn acknowledged_views_become_the_baseline() {
        let mut h = SnapshotHistory::default();
        assert!(baseline(&mut h, 1, 10).is_none());
        h.record_sent(1, view(1), 10);
        h.record_sent(2, view(2), 10);
        h.record_sent(3, view(3), 10);
        assert_eq!(h.acknowledge(2), AckOutcome::Accepted);
        assert_eq!(baseline(&mut h, 4, 10), Some((2, view(2).to_vec())));
        assert_eq!(h.baseline_tick(4, 10), Some(2));
        assert_eq!(h.latest(), Some(&view(3)[..]));
        assert_eq!(h.held(), 1, "views at or before the ack are dropped");
        assert_eq!(h.ids_held(), 2, "and so are their ids");
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
        assert_eq!(baseline(&mut h, 6, 5).map(|(t, _)| t), Some(1));
        // past the window the baseline is forgotten: the next snapshot is full
        assert_eq!(h.baseline_tick(7, 5), None);
        assert!(baseline(&mut h, 7, 5).is_none());
        // history stays bounded by the window, ids included
        for tick in 7..100 {
            h.record_sent(tick, view(tick as u32), 5);
        }
        assert!(h.held() <= 6);
        assert!(h.ids_held() <= 6);
        // an ack for a pruned tick is unknown, a recent one works
        assert_eq!(h.acknowledge(50), AckOutcome::Unknown);
        assert_eq!(h.acknowledge(98), AckOutcome::Accepted);
        assert_eq!(baseline(&mut h, 99, 5), Some((98, view(98).to_vec())));
    }

    #[test]
    fn an_unchanged_view_is_held_once() {
        let mut h = SnapshotHistory::default();
        let crowd = [AvatarId(2), AvatarId(5), AvatarId(9)];
        for tick in 1..=10 {
            h.record_sent(tick, crowd, 40);
        }
        assert_eq!((h.held(), h.ids_held()), (10, 3));
        assert_eq!(h.acknowledge(4), AckOutcome::Accepted);
        assert_eq!(baseline(&mut h, 11, 40), Some((4, crowd.to_vec())));
        // One avatar leaves the view: a second copy, without the departed.
        let fewer = [AvatarId(2), AvatarId(9)];
        h.record_sent(11, fewer, 40);
        assert_eq!(h.ids_held(), 5);
        assert_eq!(h.latest(), Some(&fewer[..]));
        assert_eq!(h.acknowledge(11), AckOutcome::Accepted);
        assert_eq!(h.ids_held(), 2, "the old view's ids go with its last tick");
        assert_eq!(baseline(&mut h, 12, 40), Some((11, fewer.to_vec())));
        h.reset();
        assert_eq!((h.held(), h.ids_held()), (0, 0));
        assert!(baseline(&mut h, 13, 40).is_none());
        h.record_sent(13, crowd, 40);
        assert_eq!(h.acknowledge(13), AckOutcome::Accepted);
        assert_eq!(baseline(&mut h, 14, 40), Some((13, crowd.to_vec())));
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
        assert!(baseline(&mut h, 22, 40).is_none());
    }
}
