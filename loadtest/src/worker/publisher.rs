//! A publisher: posts timestamped payloads to one channel at a paced rate (or as fast as
//! confirmations allow), keeping at most `inflight` unconfirmed.
//!
//! Pacing is open-loop against the clock: at any moment the publisher may have sent
//! `elapsed × rate` messages, and it catches up in a burst after a stall, so a slow server sees
//! the intended load rather than a politely reduced one. When the in-flight window is full it
//! waits for confirmations instead; the report then shows a publish rate below the offered one,
//! which means the target is saturated at that rate.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::control::PublisherOutcome;
use crate::payload::{self, Stamp};
use crate::plan::PublisherSpec;
use crate::wire::{ChannelRef, Event, Wire, WireContext};

use super::stats::WorkerStats;
use super::subscriber;

/// When paced publishing may send message number `sent` (0-based): message k is due
/// k / rate seconds after the start. Unpaced publishing (rate 0) never waits for the clock.
fn next_send(plan: &PublishPlan, sent: u64) -> Instant {
    let due = if plan.rate_per_sec > 0.0 {
        Duration::try_from_secs_f64(sent as f64 / plan.rate_per_sec).ok()
    } else {
        None
    };
    plan.start + due.unwrap_or(NEVER)
}

/// A time that does not come during a run.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// How one publisher runs.
#[derive(Debug, Clone, Copy)]
pub struct PublishPlan {
    /// Messages per second for this publisher; 0 = unpaced.
    pub rate_per_sec: f64,
    pub inflight: u32,
    pub payload_bytes: usize,
    pub start: Instant,
    pub stop: Instant,
    /// After `stop`, how long to wait for outstanding confirmations.
    pub drain: Duration,
}

pub struct Publisher<W> {
    pub wire: W,
    pub spec: PublisherSpec,
    pub channel: ChannelRef,
    pub token: String,
}

/// Counters of one publisher.
#[derive(Default)]
struct Window {
    sent: u64,
    confirmed: u64,
    max_seq: Option<i64>,
    /// Send times of unconfirmed messages, oldest first (confirmations come in order).
    outstanding: VecDeque<u64>,
}

impl<W: Wire> Publisher<W> {
    pub async fn run(
        self,
        ctx: Arc<WireContext>,
        stats: Arc<WorkerStats>,
        plan: PublishPlan,
        abort: CancellationToken,
    ) -> PublisherOutcome {
        let Publisher {
            mut wire,
            spec,
            channel,
            token,
        } = self;
        let mut w = Window::default();
        let mut body = String::with_capacity(plan.payload_bytes);
        let stop = tokio::time::sleep_until(plan.stop);
        let aborted = abort.cancelled();
        tokio::pin!(stop, aborted);
        tokio::time::sleep_until(plan.start).await;
        let mut stopped = false;
        let drain_end = plan.stop + plan.drain;
        loop {
            let now = Instant::now();
            if stopped && (w.outstanding.is_empty() || now >= drain_end) {
                break;
            }
            // Send what the schedule allows and the window has room for.
            let mut fed = false;
            if !stopped {
                let allowed = if plan.rate_per_sec > 0.0 {
                    (now.saturating_duration_since(plan.start).as_secs_f64() * plan.rate_per_sec)
                        as u64
                        + 1
                } else {
                    u64::MAX
                };
                while w.sent < allowed && w.outstanding.len() < plan.inflight as usize {
                    let sent_us = payload::now_us();
                    let stamp = Stamp {
                        publisher: spec.id,
                        counter: w.sent,
                        sent_us,
                    };
                    payload::encode_into(&mut body, stamp, plan.payload_bytes);
                    if let Err(e) = wire.feed_publish(&channel, &body).await {
                        stats.error(&e.code());
                        break;
                    }
                    w.sent += 1;
                    w.outstanding.push_back(sent_us);
                    stats.published.fetch_add(1, Ordering::Relaxed);
                    fed = true;
                }
            }
            let flushed = if fed { wire.flush().await } else { Ok(()) };
            let room = w.outstanding.len() < plan.inflight as usize;
            let next_due = next_send(&plan, w.sent);
            let received = match flushed {
                Err(e) => Err(e),
                Ok(()) => {
                    let mut sink = |event: Event<'_>| on_event(&stats, &mut w, event);
                    tokio::select! {
                        biased;
                        () = &mut aborted => break,
                        () = &mut stop, if !stopped => {
                            stopped = true;
                            continue;
                        }
                        () = tokio::time::sleep_until(next_due), if !stopped && room && plan.rate_per_sec > 0.0 => Ok(()),
                        () = tokio::time::sleep_until(drain_end), if stopped => Ok(()),
                        received = wire.recv(&mut sink) => received,
                    }
                }
            };
            if let Err(e) = received {
                stats.error(&e.code());
                // Unconfirmed messages are lost with the connection (their fate shows in the
                // subscribers' gap counts); start a fresh window.
                w.outstanding.clear();
                let give_up = abort.child_token();
                let deadline_guard = give_up.clone();
                let until = if stopped { drain_end } else { plan.stop };
                let timer = tokio::spawn(async move {
                    tokio::time::sleep_until(until).await;
                    deadline_guard.cancel();
                });
                let reopened = subscriber::reopen::<W>(
                    &ctx,
                    &stats,
                    spec.session,
                    &token,
                    None,
                    None,
                    &give_up,
                )
                .await;
                timer.abort();
                match reopened {
                    Some(fresh) => wire = fresh,
                    None => break,
                }
            }
        }
        wire.close().await;
        PublisherOutcome {
            id: spec.id,
            channel: spec.channel,
            sent: w.sent,
            confirmed: w.confirmed,
            max_seq: w.max_seq,
        }
    }
}

fn on_event(stats: &WorkerStats, w: &mut Window, event: Event<'_>) {
    match event {
        Event::Confirmed { seq } => {
            if let Some(sent_us) = w.outstanding.pop_front() {
                stats.record_ack(payload::now_us(), sent_us);
            }
            w.confirmed += 1;
            stats.confirmed.fetch_add(1, Ordering::Relaxed);
            if let Some(seq) = seq {
                w.max_seq = Some(w.max_seq.map_or(seq, |m| m.max(seq)));
            }
        }
        Event::Rejected { code } => {
            w.outstanding.pop_front();
            stats.error(code);
        }
        // Publishers do not subscribe; a stray delivery is not ours to measure.
        Event::Delivery { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paced_sends_are_spread_over_the_second_and_unpaced_ones_never_wait() {
        let start = Instant::now();
        let mut plan = PublishPlan {
            rate_per_sec: 4.0,
            inflight: 1,
            payload_bytes: 64,
            start,
            stop: start,
            drain: Duration::ZERO,
        };
        assert_eq!(next_send(&plan, 0), start);
        assert_eq!(next_send(&plan, 2), start + Duration::from_millis(500));
        plan.rate_per_sec = 0.0;
        assert_eq!(next_send(&plan, 7), start + NEVER);
        plan.rate_per_sec = f64::MIN_POSITIVE;
        assert_eq!(
            next_send(&plan, u64::MAX),
            start + NEVER,
            "no overflow panic"
        );
    }

    #[test]
    fn confirmations_close_the_window_in_order_and_track_the_top_seq() {
        let stats = WorkerStats::default();
        let mut w = Window::default();
        w.outstanding.extend([10, 20, 30]);
        on_event(&stats, &mut w, Event::Confirmed { seq: Some(7) });
        on_event(
            &stats,
            &mut w,
            Event::Rejected {
                code: "rate_limited",
            },
        );
        on_event(&stats, &mut w, Event::Confirmed { seq: Some(5) });
        assert!(w.outstanding.is_empty());
        assert_eq!(w.confirmed, 2);
        assert_eq!(w.max_seq, Some(7));
        assert_eq!(stats.errors()["rate_limited"], 1);
        assert_eq!(stats.ack_latency.lock().unwrap().count(), 2);
    }
}
