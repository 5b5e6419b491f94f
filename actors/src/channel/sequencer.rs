//! Publishing committed messages in seq order.
//!
//! A channel pipelines its commits: many `msg.send`s are in the group-commit writer at once, and
//! their results come back in whatever order their tasks run. The store assigned the seqs, gap
//! free; the sequencer holds a result until every lower seq was published, so subscribers see
//! seq N+1 only after N. A seq that never arrives (committed by another path, or its result lost
//! while the actor restarted) is fetched from the store after a short delay; see
//! `RealtimeConfig::gap_fill_delay`.

use std::collections::BTreeMap;

use atrium_core::model::Message;

/// The reorder buffer of one channel.
pub struct Sequencer {
    published: i64,
    waiting: BTreeMap<i64, Message>,
}

impl Sequencer {
    /// Starts after `published` (the last seq subscribers have seen).
    pub fn new(published: i64) -> Self {
        Self {
            published,
            waiting: BTreeMap::new(),
        }
    }

    /// The last seq released for publication.
    pub fn published(&self) -> i64 {
        self.published
    }

    /// Accepts a committed message; returns the messages now publishable, in order. Seqs at or
    /// below the published mark are duplicates and ignored.
    pub fn accept(&mut self, message: Message) -> Vec<Message> {
        if message.seq <= self.published {
            return Vec::new();
        }
        self.waiting.insert(message.seq, message);
        self.release()
    }

    fn release(&mut self) -> Vec<Message> {
        let mut ready = Vec::new();
        while let Some(entry) = self.waiting.first_entry() {
            if *entry.key() != self.published + 1 {
                break;
            }
            let message = entry.remove();
            self.published = message.seq;
            ready.push(message);
        }
        ready
    }

    /// The missing range `(published, first waiting)` when a later seq is waiting.
    pub fn gap(&self) -> Option<(i64, i64)> {
        self.waiting
            .first_key_value()
            .map(|(&first, _)| (self.published, first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_core::ids::{ChannelId, MessageId, UserId};
    use time::OffsetDateTime;

    fn message(seq: i64) -> Message {
        Message {
            id: MessageId::new(),
            channel_id: ChannelId::new(),
            seq,
            sender_id: UserId::new(),
            body: format!("m{seq}"),
            reply_to: None,
            mentions: vec![],
            nonce: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            edited_at: None,
            deleted: false,
        }
    }

    fn seqs(messages: Vec<Message>) -> Vec<i64> {
        messages.into_iter().map(|m| m.seq).collect()
    }

    #[test]
    fn releases_in_order() {
        let mut s = Sequencer::new(10);
        assert!(s.accept(message(12)).is_empty());
        assert_eq!(s.gap(), Some((10, 12)));
        assert!(s.accept(message(13)).is_empty());
        assert_eq!(seqs(s.accept(message(11))), vec![11, 12, 13]);
        assert_eq!(s.published(), 13);
        assert_eq!(s.gap(), None);
    }

    #[test]
    fn ignores_duplicates() {
        let mut s = Sequencer::new(5);
        assert!(s.accept(message(5)).is_empty());
        assert_eq!(seqs(s.accept(message(6))), vec![6]);
        assert!(s.accept(message(6)).is_empty());
        assert_eq!(s.gap(), None);
    }
}
