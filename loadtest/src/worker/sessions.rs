//! Sessions that are not measured per delivery: the `connect` scenario's held sessions and the
//! `soak` scenario's churning ones.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::plan::SessionSpec;
use crate::wire::{Event, Wire, WireContext};

use super::pacer::Pacer;
use super::stats::WorkerStats;
use super::subscriber;

/// Keeps a session open (answering pings, counting stray deliveries) until `stop`; reopens it
/// if it drops.
pub async fn hold<W: Wire>(
    ctx: Arc<WireContext>,
    stats: Arc<WorkerStats>,
    mut wire: W,
    spec: SessionSpec,
    token: String,
    stop: CancellationToken,
) {
    let stopped = stop.cancelled();
    tokio::pin!(stopped);
    loop {
        let mut sink = |event: Event<'_>| {
            if let Event::Delivery { .. } = event {
                stats.churn_deliveries.fetch_add(1, Ordering::Relaxed);
            }
        };
        let received = tokio::select! {
            biased;
            () = &mut stopped => break,
            received = wire.recv(&mut sink) => received,
        };
        if let Err(e) = received {
            stats.error(&e.code());
            let channel = match spec.channel.map(|c| ctx.channel(c)) {
                Some(Ok(ch)) => Some(ch.clone()),
                _ => None,
            };
            match subscriber::reopen::<W>(
                &ctx,
                &stats,
                spec.session,
                &token,
                channel.as_ref(),
                None,
                &stop,
            )
            .await
            {
                Some(fresh) => wire = fresh,
                None => return,
            }
        }
    }
    // Dropped, not closed politely: closing thousands of sessions one by one would only measure
    // the close handshake.
    drop(wire);
}

/// `connect`: opens `specs` at `rate` per second (at most `concurrency` handshakes at once),
/// holds each until `stop`. Returns once every session has been attempted, with
/// (opened, failed).
pub async fn open_and_hold<W: Wire>(
    ctx: Arc<WireContext>,
    stats: Arc<WorkerStats>,
    specs: Vec<SessionSpec>,
    tokens: impl Fn(u64) -> String,
    rate: u64,
    concurrency: usize,
    stop: CancellationToken,
) -> (u64, u64) {
    let pacer = Pacer::new(rate);
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<bool>();
    let total = specs.len();
    for spec in specs {
        tokio::select! {
            () = stop.cancelled() => break,
            () = pacer.wait() => {}
        }
        let Ok(permit) = gate.clone().acquire_owned().await else {
            break;
        };
        let (ctx, stats, stop, done) = (ctx.clone(), stats.clone(), stop.clone(), done_tx.clone());
        let token = tokens(spec.session);
        tokio::spawn(async move {
            let started = Instant::now();
            let opened = subscriber::open_subscribed::<W>(&ctx, &stats, spec, &token).await;
            drop(permit);
            match opened {
                Ok((wire, _)) => {
                    stats.record_connect(started.elapsed());
                    stats.connected.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(true);
                    hold(ctx, stats, wire, spec, token, stop).await;
                }
                Err(_) => {
                    stats.connect_failed.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(false);
                }
            }
        });
    }
    drop(done_tx);
    let (mut opened, mut failed) = (0, 0);
    for _ in 0..total {
        match done_rx.recv().await {
            Some(true) => opened += 1,
            Some(false) => failed += 1,
            None => break,
        }
    }
    (opened, failed)
}

/// `soak`: each slot connects, subscribes, stays `hold` and leaves, again and again until
/// `stop`, new connections paced by `pacer`.
pub async fn churn<W: Wire>(
    ctx: Arc<WireContext>,
    stats: Arc<WorkerStats>,
    spec: SessionSpec,
    token: String,
    pacer: Arc<Pacer>,
    hold_for: Duration,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        tokio::select! {
            () = stop.cancelled() => break,
            () = pacer.wait() => {}
        }
        let started = Instant::now();
        match subscriber::open_subscribed::<W>(&ctx, &stats, spec, &token).await {
            Ok((wire, _)) => {
                stats.record_connect(started.elapsed());
                stats.churn_connects.fetch_add(1, Ordering::Relaxed);
                let leave = stop.child_token();
                let timer = {
                    let leave = leave.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(hold_for).await;
                        leave.cancel();
                    })
                };
                hold(ctx.clone(), stats.clone(), wire, spec, token.clone(), leave).await;
                timer.abort();
            }
            Err(_) => {
                stats.connect_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
