//! `SessionOutbox`: the bounded queue between the actors and one connection's writer.
//!
//! Channel actors push encoded frames (`Bytes`, shared by every subscriber of a fan-out) straight
//! into each subscriber's outbox; the transport task drains it in batches and writes them to the
//! socket. The queue is bounded in frames and bytes so a reader that stops reading can pin only a
//! bounded amount of memory:
//!
//! - *droppable* frames (typing, presence, read receipts) carry a coalescing key: a newer frame
//!   with the same key replaces the queued one, and when the queue is full they are dropped or
//!   evicted first, because a later frame supersedes them anyway;
//! - if a *reliable* frame still does not fit, the session is a slow consumer: the queue is
//!   discarded, a `bye {code: slow_consumer}` becomes the only frame left, and the session closes.
//!   The client reconnects and resumes from its last seq, so nothing is lost, and nobody else
//!   waited for it.
//!
//! An empty outbox allocates nothing beyond the struct itself, which keeps idle sessions cheap.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::Notify;

use atrium_core::protocol::ErrorCode;

use crate::config::OutboxLimits;
use crate::wire;

/// How a frame may be treated when the queue is under pressure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Must arrive, in order; overflowing with it closes the session.
    Reliable,
    /// May be dropped under pressure; replaces a queued frame with the same key.
    Droppable { key: u64 },
}

/// What happened to a pushed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Replaced a queued droppable frame with the same key.
    Coalesced,
    /// A droppable frame that did not fit.
    Dropped,
    /// A reliable frame did not fit: the session is now closing with `slow_consumer`.
    Overflowed,
    /// The outbox was already closed.
    Closed,
}

/// What the writer should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Frames were moved into the caller's buffer: write them.
    Frames,
    /// Nothing more will come: write `bye` (if any), then close the connection with `code`.
    Close { bye: Option<Bytes>, code: ErrorCode },
}

#[derive(Debug)]
struct Queued {
    frame: Bytes,
    delivery: Delivery,
}

#[derive(Debug)]
struct Closing {
    code: ErrorCode,
    bye: Option<Bytes>,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Queued>,
    bytes: usize,
    droppable: usize,
    closing: Option<Closing>,
    /// High-water mark of `queue.len()`, for tests and stats.
    peak_frames: usize,
}

impl State {
    fn fits(&self, limits: &OutboxLimits, len: usize) -> bool {
        // An empty queue always takes one frame, whatever its size: the frame-size limit of the
        // codec bounds it, and refusing it would wedge the session.
        self.queue.is_empty()
            || (self.queue.len() < limits.max_frames && self.bytes + len <= limits.max_bytes)
    }

    fn push_back(&mut self, frame: Bytes, delivery: Delivery) {
        self.bytes += frame.len();
        if matches!(delivery, Delivery::Droppable { .. }) {
            self.droppable += 1;
        }
        self.queue.push_back(Queued { frame, delivery });
        self.peak_frames = self.peak_frames.max(self.queue.len());
    }

    fn evict_oldest_droppable(&mut self) -> bool {
        if self.droppable == 0 {
            return false;
        }
        let Some(index) = self
            .queue
            .iter()
            .position(|q| matches!(q.delivery, Delivery::Droppable { .. }))
        else {
            return false;
        };
        if let Some(evicted) = self.queue.remove(index) {
            self.bytes -= evicted.frame.len();
            self.droppable -= 1;
        }
        true
    }

    fn coalesce(&mut self, key: u64, frame: &Bytes) -> bool {
        if self.droppable == 0 {
            return false;
        }
        let slot = self
            .queue
            .iter_mut()
            .rev()
            .find(|q| q.delivery == Delivery::Droppable { key });
        match slot {
            Some(slot) => {
                self.bytes = self.bytes - slot.frame.len() + frame.len();
                slot.frame = frame.clone();
                true
            }
            None => false,
        }
    }

    fn discard_queue(&mut self) {
        self.queue = VecDeque::new();
        self.bytes = 0;
        self.droppable = 0;
    }
}

/// One session's bounded outbound queue. Shared (`Arc`) by the session actor, every channel the
/// session subscribes to, the presence actor, and the transport's writer.
#[derive(Debug)]
pub struct SessionOutbox {
    state: Mutex<State>,
    /// Wakes the (single) writer: a frame was queued or the outbox closed.
    writer: Notify,
    /// Wakes everyone waiting for room or for closure (`push_wait`, `closed`).
    changed: Notify,
    limits: OutboxLimits,
}

impl SessionOutbox {
    pub fn new(limits: OutboxLimits) -> Self {
        Self {
            state: Mutex::new(State::default()),
            writer: Notify::new(),
            changed: Notify::new(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The critical sections below never panic, but a poisoned lock must not take the whole
        // session down with it: the data is a plain queue and stays consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a frame without waiting (the fan-out path: a channel never waits for a reader).
    pub fn push(&self, frame: Bytes, delivery: Delivery) -> Pushed {
        let result = {
            let mut state = self.lock();
            if state.closing.is_some() {
                return Pushed::Closed;
            }
            match delivery {
                Delivery::Droppable { key } => {
                    if state.coalesce(key, &frame) {
                        Pushed::Coalesced
                    } else if state.fits(&self.limits, frame.len()) {
                        state.push_back(frame, delivery);
                        Pushed::Queued
                    } else {
                        Pushed::Dropped
                    }
                }
                Delivery::Reliable => {
                    while !state.fits(&self.limits, frame.len()) {
                        if !state.evict_oldest_droppable() {
                            break;
                        }
                    }
                    if state.fits(&self.limits, frame.len()) {
                        state.push_back(frame, delivery);
                        Pushed::Queued
                    } else {
                        state.discard_queue();
                        state.closing = Some(Closing {
                            code: ErrorCode::SlowConsumer,
                            bye: wire::bye(
                                ErrorCode::SlowConsumer,
                                "outbound queue overflowed; reconnect and resume",
                            ),
                        });
                        Pushed::Overflowed
                    }
                }
            }
        };
        match result {
            Pushed::Queued | Pushed::Coalesced => self.writer.notify_one(),
            Pushed::Overflowed => {
                self.writer.notify_one();
                self.changed.notify_waiters();
            }
            Pushed::Dropped | Pushed::Closed => {}
        }
        result
    }

    /// Queues a reliable frame, waiting for room instead of overflowing (replay of a long gap,
    /// which would otherwise flood the queue it is filling). Returns `false` once closed.
    pub async fn push_wait(&self, frame: Bytes) -> bool {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closing.is_some() {
                    return false;
                }
                if state.fits(&self.limits, frame.len()) {
                    state.push_back(frame, Delivery::Reliable);
                    drop(state);
                    self.writer.notify_one();
                    return true;
                }
            }
            changed.await;
        }
    }

    /// Room for `frames` more frames right now (ignoring bytes), for deciding whether a replay
    /// fits at once.
    pub fn free_frames(&self) -> usize {
        let state = self.lock();
        self.limits.max_frames.saturating_sub(state.queue.len())
    }

    /// Closes the outbox: nothing more is accepted; `bye` is written after the frames already
    /// queued (or instead of them when `discard_queued`), then the connection closes.
    /// Closing twice keeps the first reason.
    pub fn close(&self, code: ErrorCode, message: &str, discard_queued: bool) {
        {
            let mut state = self.lock();
            if state.closing.is_some() {
                return;
            }
            if discard_queued {
                state.discard_queue();
            }
            state.closing = Some(Closing {
                code,
                bye: wire::bye(code, message),
            });
        }
        self.writer.notify_one();
        self.changed.notify_waiters();
    }

    /// Closes without a `bye` (the connection is already gone).
    pub fn close_silently(&self) {
        {
            let mut state = self.lock();
            if state.closing.is_some() {
                return;
            }
            state.discard_queue();
            state.closing = Some(Closing {
                code: ErrorCode::Internal,
                bye: None,
            });
        }
        self.writer.notify_one();
        self.changed.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closing.is_some()
    }

    /// The close reason, once closed.
    pub fn close_code(&self) -> Option<ErrorCode> {
        self.lock().closing.as_ref().map(|c| c.code)
    }

    /// Frames currently queued.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most frames that were ever queued at once.
    pub fn peak_frames(&self) -> usize {
        self.lock().peak_frames
    }

    /// Waits until the outbox is closed (the writer uses it to abandon a write to a stalled
    /// socket once the session was closed for being slow).
    pub async fn closed(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_closed() {
                return;
            }
            changed.await;
        }
    }

    /// Takes up to `max` queued frames into `out` (appending) without waiting; returns how many.
    /// A pending close is not reported here (see [`SessionOutbox::next_batch`]).
    pub fn take_ready(&self, out: &mut Vec<Bytes>, max: usize) -> usize {
        let taken = {
            let mut state = self.lock();
            let n = state.queue.len().min(max);
            let (mut bytes, mut droppable) = (0, 0);
            for queued in state.queue.drain(..n) {
                bytes += queued.frame.len();
                if matches!(queued.delivery, Delivery::Droppable { .. }) {
                    droppable += 1;
                }
                out.push(queued.frame);
            }
            state.bytes -= bytes;
            state.droppable -= droppable;
            if state.queue.is_empty() && state.queue.capacity() > INITIAL_CAPACITY_KEPT {
                // Give a burst's memory back: an idle session should cost ~nothing.
                state.queue = VecDeque::new();
            }
            n
        };
        if taken > 0 {
            self.changed.notify_waiters();
        }
        taken
    }

    /// Takes up to `max` queued frames into `out` (appending), waiting while there are none.
    /// Queued frames are delivered before a close takes effect (unless the close discarded
    /// them). Only one task may call this.
    pub async fn next_batch(&self, out: &mut Vec<Bytes>, max: usize) -> Next {
        loop {
            if self.take_ready(out, max.max(1)) > 0 {
                return Next::Frames;
            }
            {
                let mut state = self.lock();
                if state.queue.is_empty() {
                    if let Some(closing) = &mut state.closing {
                        return Next::Close {
                            bye: closing.bye.take(),
                            code: closing.code,
                        };
                    }
                } else {
                    // Pushed between the take and the lock: take it on the next round.
                    continue;
                }
            }
            self.writer.notified().await;
        }
    }
}

/// Queue capacity an emptied outbox may keep without shrinking.
const INITIAL_CAPACITY_KEPT: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_frames: usize, max_bytes: usize) -> OutboxLimits {
        OutboxLimits {
            max_frames,
            max_bytes,
        }
    }

    fn frame(n: u8) -> Bytes {
        Bytes::from(vec![n; 10])
    }

    async fn drain(outbox: &SessionOutbox) -> Vec<Bytes> {
        let mut out = Vec::new();
        if outbox.is_empty() {
            return out;
        }
        assert_eq!(outbox.next_batch(&mut out, usize::MAX).await, Next::Frames);
        out
    }

    #[tokio::test]
    async fn reliable_frames_keep_order() {
        let outbox = SessionOutbox::new(limits(8, 1000));
        for n in 0..5 {
            assert_eq!(outbox.push(frame(n), Delivery::Reliable), Pushed::Queued);
        }
        let got = drain(&outbox).await;
        assert_eq!(got, (0..5).map(frame).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn droppable_frames_coalesce_by_key() {
        let outbox = SessionOutbox::new(limits(8, 1000));
        outbox.push(frame(1), Delivery::Droppable { key: 7 });
        outbox.push(frame(2), Delivery::Reliable);
        assert_eq!(
            outbox.push(frame(3), Delivery::Droppable { key: 7 }),
            Pushed::Coalesced
        );
        assert_eq!(drain(&outbox).await, vec![frame(3), frame(2)]);
    }

    #[tokio::test]
    async fn droppable_frames_give_way_to_reliable_ones() {
        let outbox = SessionOutbox::new(limits(3, 1000));
        outbox.push(frame(1), Delivery::Droppable { key: 1 });
        outbox.push(frame(2), Delivery::Reliable);
        outbox.push(frame(3), Delivery::Droppable { key: 3 });
        // Full: a droppable frame is dropped, a reliable one evicts the oldest droppable.
        assert_eq!(
            outbox.push(frame(4), Delivery::Droppable { key: 4 }),
            Pushed::Dropped
        );
        assert_eq!(outbox.push(frame(5), Delivery::Reliable), Pushed::Queued);
        assert_eq!(drain(&outbox).await, vec![frame(2), frame(3), frame(5)]);
    }

    #[tokio::test]
    async fn reliable_overflow_closes_with_slow_consumer() {
        let outbox = SessionOutbox::new(limits(2, 1000));
        outbox.push(frame(1), Delivery::Reliable);
        outbox.push(frame(2), Delivery::Reliable);
        assert_eq!(
            outbox.push(frame(3), Delivery::Reliable),
            Pushed::Overflowed
        );
        assert_eq!(outbox.push(frame(4), Delivery::Reliable), Pushed::Closed);
        assert_eq!(outbox.len(), 0, "the backlog is released at once");
        let mut out = Vec::new();
        match outbox.next_batch(&mut out, 10).await {
            Next::Close { bye, code } => {
                assert_eq!(code, ErrorCode::SlowConsumer);
                assert!(bye.is_some());
            }
            other => panic!("expected close, got {other:?}"),
        }
        assert!(out.is_empty());
    }

    #[tokio::test]
    async fn byte_limit_counts_too() {
        let outbox = SessionOutbox::new(limits(100, 25));
        outbox.push(frame(1), Delivery::Reliable);
        outbox.push(frame(2), Delivery::Reliable);
        assert_eq!(
            outbox.push(frame(3), Delivery::Reliable),
            Pushed::Overflowed
        );
    }

    #[tokio::test]
    async fn close_delivers_queued_frames_first() {
        let outbox = SessionOutbox::new(limits(8, 1000));
        outbox.push(frame(1), Delivery::Reliable);
        outbox.close(ErrorCode::TokenExpired, "expired", false);
        assert_eq!(drain(&outbox).await, vec![frame(1)]);
        let mut out = Vec::new();
        assert!(matches!(
            outbox.next_batch(&mut out, 10).await,
            Next::Close {
                code: ErrorCode::TokenExpired,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn push_wait_waits_for_room() {
        let outbox = std::sync::Arc::new(SessionOutbox::new(limits(1, 1000)));
        outbox.push(frame(1), Delivery::Reliable);
        let waiter = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.push_wait(frame(2)).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert_eq!(drain(&outbox).await, vec![frame(1)]);
        let pushed = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("push_wait should finish once there is room")
            .expect("task");
        assert!(pushed);
        assert_eq!(drain(&outbox).await, vec![frame(2)]);
    }

    #[tokio::test]
    async fn writer_wakes_on_push() {
        let outbox = std::sync::Arc::new(SessionOutbox::new(limits(8, 1000)));
        let reader = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                outbox.next_batch(&mut out, 8).await;
                out
            })
        };
        tokio::task::yield_now().await;
        outbox.push(frame(9), Delivery::Reliable);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), reader)
            .await
            .expect("writer should wake")
            .expect("task");
        assert_eq!(got, vec![frame(9)]);
    }
}
