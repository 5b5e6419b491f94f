//! A measured subscriber: receives a channel's messages, records their latency and checks that
//! each arrives exactly once.
//!
//! It runs until the coordinator's `finish` has told it what was confirmed and it holds all of
//! it, or the drain time is up, or the run is aborted. A dropped connection is reopened (Atrium
//! resumes from the last seq seen, so nothing may be missing afterwards; the peers resubscribe
//! and whatever was published meanwhile shows up as gaps).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::control::Expectations;
use crate::integrity::{StreamCounts, StreamTracker};
use crate::payload;
use crate::plan::SessionSpec;
use crate::wire::{ChannelRef, Event, Wire, WireContext, WireError};

use super::stats::{LatencyBuffer, WorkerStats};

/// Opening attempts before a session counts as failed.
pub const OPEN_ATTEMPTS: u32 = 3;
/// First pause before reopening a dropped connection; doubles up to [`REOPEN_MAX_DELAY`].
const REOPEN_MIN_DELAY: Duration = Duration::from_millis(100);
const REOPEN_MAX_DELAY: Duration = Duration::from_secs(2);

/// Opens a session and subscribes it (when it has a channel), retrying a few times.
pub async fn open_subscribed<W: Wire>(
    ctx: &WireContext,
    stats: &WorkerStats,
    spec: SessionSpec,
    token: &str,
) -> Result<(W, Option<i64>), WireError> {
    with_retries(stats, || async {
        let mut wire = W::open(ctx, spec.session, token).await?;
        let last_seq = match spec.channel {
            Some(ch) => wire.subscribe(ctx.channel(ch)?).await?,
            None => None,
        };
        Ok((wire, last_seq))
    })
    .await
}

/// Runs `open` up to [`OPEN_ATTEMPTS`] times, pausing longer after each failure; every failure
/// is counted by its code.
pub async fn with_retries<T, F, Fut>(stats: &WorkerStats, mut open: F) -> Result<T, WireError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WireError>>,
{
    let mut last_error = WireError::Timeout("open");
    for attempt in 0..OPEN_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(REOPEN_MIN_DELAY * 2u32.pow(attempt)).await;
        }
        match open().await {
            Ok(ok) => return Ok(ok),
            Err(e) => {
                stats.error(&e.code());
                last_error = e;
            }
        }
    }
    Err(last_error)
}

/// Reopens a dropped session with backoff until it works or `give_up` fires.
pub async fn reopen<W: Wire>(
    ctx: &WireContext,
    stats: &WorkerStats,
    session: u64,
    token: &str,
    channel: Option<&ChannelRef>,
    last_seq: Option<i64>,
    give_up: &CancellationToken,
) -> Option<W> {
    let mut delay = REOPEN_MIN_DELAY;
    loop {
        tokio::select! {
            () = give_up.cancelled() => return None,
            () = tokio::time::sleep(delay) => {}
        }
        let attempt = match channel {
            Some(ch) => W::reopen(ctx, session, token, ch, last_seq).await,
            None => W::open(ctx, session, token).await,
        };
        match attempt {
            Ok(wire) => {
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
                return Some(wire);
            }
            Err(e) => stats.error(&e.code()),
        }
        delay = (delay * 2).min(REOPEN_MAX_DELAY);
    }
}

/// One measured subscriber, connected and subscribed.
pub struct Subscriber<W> {
    pub wire: W,
    pub session: u64,
    pub channel: ChannelRef,
    pub token: String,
    /// Atrium: the channel's seq stream, from the subscription's `last_seq + 1`.
    pub seq: Option<StreamTracker>,
    /// Peers: one counter stream per publisher of the channel.
    pub publishers: Range<u32>,
}

/// The numbering state of one subscriber.
struct Streams {
    seq: Option<(StreamTracker, u64)>,
    counters: BTreeMap<u32, StreamTracker>,
    publishers: Range<u32>,
}

impl Streams {
    fn observe(&mut self, stats: &WorkerStats, stamp: &payload::Stamp, seq: Option<i64>) {
        match (&mut self.seq, seq) {
            (Some((tracker, _)), Some(seq)) => tracker.observe(u64::try_from(seq).unwrap_or(0)),
            _ => {
                if !self.publishers.contains(&stamp.publisher) {
                    stats.error("misrouted_delivery");
                    return;
                }
                self.counters
                    .entry(stamp.publisher)
                    .or_insert_with(|| StreamTracker::starting_at(0))
                    .observe(stamp.counter);
            }
        }
    }

    /// Where each stream must end (exclusive), from the confirmations.
    fn ends(&self, channel: u32, e: &Expectations) -> Vec<(Option<u32>, u64)> {
        match &self.seq {
            Some(_) => {
                let last = e.last_seq.get(&channel).copied().unwrap_or(0);
                vec![(None, u64::try_from(last).unwrap_or(0) + 1)]
            }
            None => self
                .publishers
                .clone()
                .map(|p| (Some(p), e.confirmed.get(&p).copied().unwrap_or(0)))
                .collect(),
        }
    }

    fn is_complete(&self, channel: u32, e: &Expectations) -> bool {
        self.ends(channel, e)
            .into_iter()
            .all(|(p, end)| match (p, &self.seq) {
                (None, Some((t, _))) => t.is_complete(end),
                (Some(p), _) => self
                    .counters
                    .get(&p)
                    .map_or(end == 0, |t| t.is_complete(end)),
                (None, None) => true,
            })
    }

    /// Final counts and the number of deliveries that were due.
    fn finish(&self, channel: u32, e: &Expectations) -> (Vec<StreamCounts>, u64) {
        let mut counts = Vec::new();
        let mut expected = 0;
        for (p, end) in self.ends(channel, e) {
            match (p, &self.seq) {
                (None, Some((t, first))) => {
                    counts.push(t.finish(end.max(*first)));
                    expected += end.saturating_sub(*first);
                }
                (Some(p), _) => {
                    let t = self.counters.get(&p).cloned().unwrap_or_default();
                    counts.push(t.finish(end));
                    expected += end;
                }
                (None, None) => {}
            }
        }
        (counts, expected)
    }

    fn last_seq(&self) -> Option<i64> {
        self.seq
            .as_ref()
            .map(|(t, _)| i64::try_from(t.next()).unwrap_or(i64::MAX) - 1)
    }
}

impl<W: Wire> Subscriber<W> {
    /// Receives until done; records the integrity of what arrived.
    pub async fn run(
        self,
        ctx: Arc<WireContext>,
        stats: Arc<WorkerStats>,
        mut finish: watch::Receiver<Option<Arc<Expectations>>>,
        drain: Duration,
        abort: CancellationToken,
    ) {
        let Subscriber {
            mut wire,
            session,
            channel,
            token,
            seq,
            publishers,
        } = self;
        let mut streams = Streams {
            seq: seq.map(|t| {
                let first = t.next();
                (t, first)
            }),
            counters: BTreeMap::new(),
            publishers,
        };
        let mut buffer = LatencyBuffer::new(session);
        let mut expectations: Option<Arc<Expectations>> = None;
        let give_up = abort.child_token();
        // Futures created once and polled in place: a fresh timer or waiter per delivery would
        // cost more than the delivery itself.
        let aborted = abort.cancelled();
        let finished = async {
            let _ = finish.changed().await;
            finish.borrow().clone()
        };
        let drain_end = tokio::time::sleep(Duration::from_secs(365 * 24 * 3600));
        tokio::pin!(aborted, finished, drain_end);
        loop {
            if let Some(e) = &expectations
                && streams.is_complete(channel.index, e)
            {
                break;
            }
            let received = {
                let mut sink = |event: Event<'_>| {
                    if let Event::Delivery { body, seq } = event {
                        let now = payload::now_us();
                        match payload::parse(body) {
                            Some(stamp) => {
                                buffer.push(&stats, now, stamp.sent_us);
                                streams.observe(&stats, &stamp, seq);
                            }
                            None => stats.error("foreign_payload"),
                        }
                    }
                };
                tokio::select! {
                    biased;
                    () = &mut aborted => break,
                    e = &mut finished, if expectations.is_none() => {
                        // `None`: the coordinator is gone.
                        let Some(e) = e else { break };
                        expectations = Some(e);
                        drain_end.as_mut().reset(Instant::now() + drain);
                        let stop = give_up.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(drain).await;
                            stop.cancel();
                        });
                        continue;
                    }
                    () = &mut drain_end => break,
                    received = wire.recv(&mut sink) => received,
                }
            };
            match received {
                Ok(()) => buffer.maybe_flush(&stats),
                Err(e) => {
                    stats.error(&e.code());
                    buffer.flush(&stats);
                    let last_seq = streams.last_seq();
                    let reopened = reopen::<W>(
                        &ctx,
                        &stats,
                        session,
                        &token,
                        Some(&channel),
                        last_seq,
                        &give_up,
                    )
                    .await;
                    match reopened {
                        Some(w) => wire = w,
                        None => {
                            finish_streams(
                                &stats,
                                &streams,
                                channel.index,
                                expectations.as_deref(),
                            );
                            return;
                        }
                    }
                }
            }
        }
        buffer.flush(&stats);
        finish_streams(&stats, &streams, channel.index, expectations.as_deref());
        wire.close().await;
    }
}

fn finish_streams(stats: &WorkerStats, streams: &Streams, channel: u32, e: Option<&Expectations>) {
    let empty = Expectations::default();
    let (counts, expected) = streams.finish(channel, e.unwrap_or(&empty));
    stats.add_subscriber(&counts, expected);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(publisher: u32, counter: u64) -> payload::Stamp {
        payload::Stamp {
            publisher,
            counter,
            sent_us: 0,
        }
    }

    #[test]
    fn seq_streams_complete_at_the_confirmed_seq() {
        let stats = WorkerStats::default();
        let mut s = Streams {
            seq: Some((StreamTracker::starting_at(11), 11)),
            counters: BTreeMap::new(),
            publishers: 0..2,
        };
        let e = Expectations {
            last_seq: BTreeMap::from([(4, 13)]),
            ..Default::default()
        };
        s.observe(&stats, &stamp(0, 0), Some(11));
        s.observe(&stats, &stamp(1, 0), Some(12));
        assert!(!s.is_complete(4, &e));
        s.observe(&stats, &stamp(0, 1), Some(13));
        assert!(s.is_complete(4, &e));
        assert_eq!(s.last_seq(), Some(13));
        let (counts, expected) = s.finish(4, &e);
        assert_eq!(expected, 3);
        assert_eq!(counts[0].gaps + counts[0].duplicates, 0);
    }

    #[test]
    fn counter_streams_are_per_publisher_and_catch_strays() {
        let stats = WorkerStats::default();
        let mut s = Streams {
            seq: None,
            counters: BTreeMap::new(),
            publishers: 2..4,
        };
        let e = Expectations {
            confirmed: BTreeMap::from([(2, 2), (3, 1)]),
            ..Default::default()
        };
        s.observe(&stats, &stamp(2, 0), None);
        s.observe(&stats, &stamp(3, 0), None);
        assert!(!s.is_complete(1, &e));
        s.observe(&stats, &stamp(2, 1), None);
        s.observe(&stats, &stamp(2, 1), None);
        assert!(s.is_complete(1, &e));
        s.observe(&stats, &stamp(9, 0), None);
        assert_eq!(stats.errors()["misrouted_delivery"], 1);
        let (counts, expected) = s.finish(1, &e);
        assert_eq!(expected, 3);
        assert_eq!(counts.iter().map(|c| c.duplicates).sum::<u64>(), 1);
        assert_eq!(counts.iter().map(|c| c.gaps).sum::<u64>(), 0);
    }

    #[test]
    fn a_publisher_that_confirmed_nothing_needs_nothing() {
        let s = Streams {
            seq: None,
            counters: BTreeMap::new(),
            publishers: 0..1,
        };
        assert!(s.is_complete(0, &Expectations::default()));
    }
}
