//! The recent-message ring: the last N messages of a channel, already encoded.
//!
//! A client that reconnects after a short drop is missing a handful of messages; serving them
//! from memory (frames encoded once, when they were published) makes resume free of database
//! round trips. Each entry keeps the `msg` frame and, once the message was edited or deleted,
//! the latest `msg.edited`/`msg.deleted` frame, replayed right after it.

use std::collections::VecDeque;

use bytes::Bytes;

use atrium_core::ids::MessageId;

struct Entry {
    seq: i64,
    id: MessageId,
    msg: Bytes,
    later: Option<Bytes>,
}

/// The last `capacity` published messages of one channel, in seq order.
pub struct Ring {
    capacity: usize,
    entries: VecDeque<Entry>,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: VecDeque::new(),
        }
    }

    /// Appends the next message (seqs arrive in increasing order).
    pub fn push(&mut self, seq: i64, id: MessageId, msg: Bytes, later: Option<Bytes>) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            seq,
            id,
            msg,
            later,
        });
    }

    /// Records the latest edit/delete frame of a message still in the ring; `msg` replaces the
    /// original `msg` frame too (a deleted message must not replay its old body).
    pub fn set_later(&mut self, id: MessageId, seq: i64, msg: Option<Bytes>, later: Bytes) {
        if let Some(entry) = self.find(seq)
            && entry.id == id
        {
            if let Some(msg) = msg {
                entry.msg = msg;
            }
            entry.later = Some(later);
        }
    }

    fn find(&mut self, seq: i64) -> Option<&mut Entry> {
        let first = self.entries.front()?.seq;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.entries.get_mut(index).filter(|e| e.seq == seq)
    }

    /// Whether every message with seq in `(after, upto]` is in the ring.
    pub fn covers(&self, after: i64, upto: i64) -> bool {
        if after >= upto {
            return true;
        }
        match (self.entries.front(), self.entries.back()) {
            (Some(first), Some(last)) => first.seq <= after + 1 && last.seq >= upto,
            _ => false,
        }
    }

    /// The frames of messages with seq in `(after, upto]`, in order (each `msg`, then its later
    /// state when there is one).
    pub fn frames_between(&self, after: i64, upto: i64) -> impl Iterator<Item = &Bytes> {
        self.entries
            .iter()
            .filter(move |e| e.seq > after && e.seq <= upto)
            .flat_map(|e| std::iter::once(&e.msg).chain(e.later.as_ref()))
    }

    /// Number of frames `frames_between` would yield.
    pub fn count_between(&self, after: i64, upto: i64) -> usize {
        self.frames_between(after, upto).count()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_with(seqs: std::ops::RangeInclusive<i64>, capacity: usize) -> (Ring, Vec<MessageId>) {
        let mut ring = Ring::new(capacity);
        let mut ids = Vec::new();
        for seq in seqs {
            let id = MessageId::new();
            ids.push(id);
            ring.push(seq, id, Bytes::from(seq.to_string()), None);
        }
        (ring, ids)
    }

    #[test]
    fn keeps_the_last_capacity_messages() {
        let (ring, _) = ring_with(1..=10, 4);
        assert_eq!(ring.len(), 4);
        assert!(ring.covers(6, 10));
        assert!(!ring.covers(5, 10));
        assert!(ring.covers(10, 10));
        let got: Vec<_> = ring.frames_between(7, 10).cloned().collect();
        assert_eq!(
            got,
            vec![Bytes::from("8"), Bytes::from("9"), Bytes::from("10")]
        );
    }

    #[test]
    fn later_state_follows_its_message() {
        let (mut ring, ids) = ring_with(1..=3, 8);
        ring.set_later(ids[1], 2, None, Bytes::from_static(b"edited"));
        ring.set_later(MessageId::new(), 3, None, Bytes::from_static(b"wrong id"));
        ring.set_later(
            ids[0],
            1,
            Some(Bytes::from("1'")),
            Bytes::from_static(b"deleted"),
        );
        let got: Vec<_> = ring.frames_between(0, 3).cloned().collect();
        assert_eq!(
            got,
            vec![
                Bytes::from("1'"),
                Bytes::from_static(b"deleted"),
                Bytes::from("2"),
                Bytes::from_static(b"edited"),
                Bytes::from("3")
            ]
        );
        assert_eq!(ring.count_between(1, 3), 3);
        assert_eq!(ring.count_between(0, 3), 5);
    }

    #[test]
    fn empty_ring_covers_nothing_but_empty_ranges() {
        let ring = Ring::new(4);
        assert!(!ring.covers(0, 1));
        assert!(ring.covers(5, 5));
    }
}
