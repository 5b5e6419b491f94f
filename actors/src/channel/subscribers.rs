//! The sessions subscribed to one channel, and fan-out to them.
//!
//! Fan-out is the hot loop of the engine: one encoded frame, one `Bytes` clone (a reference-count
//! increment) and one non-blocking queue push per subscriber. A subscriber whose outbox is closed
//! (gone, or closed for being slow) is dropped on the way, so a dead session costs nothing after
//! the first push that finds it.
//!
//! A subscriber that resumes from further back than the channel's ring is *replaying*: a task
//! feeds it the gap from the store while live pushes wait in a small per-subscriber buffer, which
//! is flushed behind the replay. That is what makes resume exact: the replay covers seqs up to
//! the seq published when it started, and everything published later is in the buffer.

use std::sync::Arc;

use bytes::Bytes;

use atrium_core::ids::{SessionId, UserId};

use crate::outbox::{Delivery, Pushed, SessionOutbox};

enum Mode {
    Live,
    Replaying {
        buffer: Vec<(Bytes, Delivery)>,
        /// The buffer outgrew its limit and was dropped: the replay must be extended.
        overflowed: bool,
    },
}

/// One subscribed session.
pub struct Subscriber {
    pub session: SessionId,
    pub user: UserId,
    pub outbox: Arc<SessionOutbox>,
    mode: Mode,
}

/// What a fan-out did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanoutStats {
    pub queued: usize,
    pub dropped: usize,
    /// Subscribers removed because their outbox was closed (or just overflowed).
    pub removed: usize,
}

/// How a finished replay continues.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterReplay {
    /// The buffered pushes were flushed; the subscriber is live.
    Live,
    /// Live pushes overflowed the buffer meanwhile: replay again from where the last one ended.
    Extend,
    /// The session is no longer subscribed.
    Gone,
}

/// The subscribers of one channel.
pub struct Subscribers {
    list: Vec<Subscriber>,
    replay_buffer: usize,
}

impl Subscribers {
    /// `replay_buffer` bounds the live pushes kept for one replaying subscriber.
    pub fn new(replay_buffer: usize) -> Self {
        Self {
            list: Vec::new(),
            replay_buffer,
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn contains(&self, session: SessionId) -> bool {
        self.list.iter().any(|s| s.session == session)
    }

    /// Adds (or re-adds) a live subscriber.
    pub fn add_live(&mut self, session: SessionId, user: UserId, outbox: Arc<SessionOutbox>) {
        self.insert(Subscriber {
            session,
            user,
            outbox,
            mode: Mode::Live,
        });
    }

    /// Adds a subscriber whose gap is being replayed; live pushes are buffered until
    /// [`Subscribers::finish_replay`].
    pub fn add_replaying(&mut self, session: SessionId, user: UserId, outbox: Arc<SessionOutbox>) {
        self.insert(Subscriber {
            session,
            user,
            outbox,
            mode: Mode::Replaying {
                buffer: Vec::new(),
                overflowed: false,
            },
        });
    }

    fn insert(&mut self, subscriber: Subscriber) {
        match self
            .list
            .iter_mut()
            .find(|s| s.session == subscriber.session)
        {
            Some(existing) => *existing = subscriber,
            None => self.list.push(subscriber),
        }
    }

    /// Removes a subscriber; returns whether it was there.
    pub fn remove(&mut self, session: SessionId) -> bool {
        match self.list.iter().position(|s| s.session == session) {
            Some(index) => {
                self.list.swap_remove(index);
                true
            }
            None => false,
        }
    }

    /// Removes every subscriber whose user fails `keep`; returns the removed ones.
    pub fn retain_users(&mut self, mut keep: impl FnMut(UserId) -> bool) -> Vec<Subscriber> {
        let mut removed = Vec::new();
        let mut index = 0;
        while index < self.list.len() {
            if keep(self.list[index].user) {
                index += 1;
            } else {
                removed.push(self.list.swap_remove(index));
            }
        }
        removed
    }

    /// Pushes one encoded frame to every subscriber (except the sessions of `skip_user`).
    pub fn publish(
        &mut self,
        frame: &Bytes,
        delivery: Delivery,
        skip_user: Option<UserId>,
    ) -> FanoutStats {
        let mut stats = FanoutStats::default();
        let replay_buffer = self.replay_buffer;
        self.list.retain_mut(|subscriber| {
            if skip_user == Some(subscriber.user) {
                return true;
            }
            match &mut subscriber.mode {
                Mode::Live => match subscriber.outbox.push(frame.clone(), delivery) {
                    Pushed::Queued | Pushed::Coalesced => {
                        stats.queued += 1;
                        true
                    }
                    Pushed::Dropped => {
                        stats.dropped += 1;
                        true
                    }
                    Pushed::Overflowed | Pushed::Closed => {
                        stats.removed += 1;
                        false
                    }
                },
                Mode::Replaying { buffer, overflowed } => {
                    if subscriber.outbox.is_closed() {
                        stats.removed += 1;
                        return false;
                    }
                    if *overflowed {
                        // The extended replay will cover reliable frames; droppable ones are moot.
                        stats.dropped += 1;
                    } else if buffer.len() < replay_buffer {
                        buffer.push((frame.clone(), delivery));
                        stats.queued += 1;
                    } else if matches!(delivery, Delivery::Droppable { .. }) {
                        stats.dropped += 1;
                    } else {
                        buffer.clear();
                        *overflowed = true;
                        stats.dropped += 1;
                    }
                    true
                }
            }
        });
        stats
    }

    /// Ends a replay: flushes the buffered pushes behind it, or asks for a longer replay.
    pub fn finish_replay(&mut self, session: SessionId) -> AfterReplay {
        let Some(subscriber) = self.list.iter_mut().find(|s| s.session == session) else {
            return AfterReplay::Gone;
        };
        let buffered = match &mut subscriber.mode {
            Mode::Live => return AfterReplay::Live,
            Mode::Replaying { overflowed, buffer } => {
                if *overflowed {
                    *overflowed = false;
                    buffer.clear();
                    return AfterReplay::Extend;
                }
                std::mem::take(buffer)
            }
        };
        subscriber.mode = Mode::Live;
        for (frame, delivery) in buffered {
            if matches!(
                subscriber.outbox.push(frame, delivery),
                Pushed::Overflowed | Pushed::Closed
            ) {
                break;
            }
        }
        AfterReplay::Live
    }

    /// The outboxes of every subscriber (for closing or inspection).
    pub fn iter(&self) -> impl Iterator<Item = &Subscriber> {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutboxLimits;

    fn outbox() -> Arc<SessionOutbox> {
        Arc::new(SessionOutbox::new(OutboxLimits {
            max_frames: 4,
            max_bytes: 1 << 20,
        }))
    }

    #[test]
    fn publish_reaches_everyone_but_the_skipped_user() {
        let mut subs = Subscribers::new(8);
        let (a, b) = (UserId::new(), UserId::new());
        let (oa, ob) = (outbox(), outbox());
        subs.add_live(SessionId::new(), a, oa.clone());
        subs.add_live(SessionId::new(), b, ob.clone());
        let stats = subs.publish(&Bytes::from_static(b"x"), Delivery::Reliable, Some(a));
        assert_eq!(stats.queued, 1);
        assert_eq!((oa.len(), ob.len()), (0, 1));
    }

    #[test]
    fn closed_outboxes_are_dropped() {
        let mut subs = Subscribers::new(8);
        let dead = outbox();
        dead.close_silently();
        subs.add_live(SessionId::new(), UserId::new(), dead);
        subs.add_live(SessionId::new(), UserId::new(), outbox());
        let stats = subs.publish(&Bytes::from_static(b"x"), Delivery::Reliable, None);
        assert_eq!((stats.queued, stats.removed, subs.len()), (1, 1, 1));
    }

    #[test]
    fn replaying_subscribers_buffer_then_flush() {
        let mut subs = Subscribers::new(8);
        let session = SessionId::new();
        let out = outbox();
        subs.add_replaying(session, UserId::new(), out.clone());
        subs.publish(&Bytes::from_static(b"live"), Delivery::Reliable, None);
        assert_eq!(out.len(), 0, "held back while replaying");
        assert_eq!(subs.finish_replay(session), AfterReplay::Live);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn replay_buffer_overflow_extends_the_replay() {
        let mut subs = Subscribers::new(2);
        let session = SessionId::new();
        subs.add_replaying(session, UserId::new(), outbox());
        for _ in 0..3 {
            subs.publish(&Bytes::from_static(b"m"), Delivery::Reliable, None);
        }
        assert_eq!(subs.finish_replay(session), AfterReplay::Extend);
        assert_eq!(subs.finish_replay(session), AfterReplay::Live);
        assert_eq!(subs.finish_replay(SessionId::new()), AfterReplay::Gone);
    }
}
