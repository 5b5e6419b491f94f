//! A worker process: opens its share of the sessions and runs the phases the coordinator calls
//! (see `control.rs`). Its stdout carries only protocol lines; logs go to stderr.

mod features;
mod llm;
mod pacer;
mod publisher;
mod room_link;
mod rooms;
mod sessions;
pub mod stats;
mod subscriber;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{ScenarioKind, TargetKind};
use crate::control::{FromWorker, Job, PublisherOutcome, ToWorker, WorkerReport};
use crate::integrity::StreamTracker;
use crate::loopback;
use crate::payload;
use crate::plan::Plan;
use crate::procstat;
use crate::wire::atrium::AtriumWire;
use crate::wire::nats::NatsWire;
use crate::wire::socketio::SocketIoWire;
use crate::wire::wt::WtTarget;
use crate::wire::{ChannelRef, Wire, WireContext};

use pacer::Pacer;
use publisher::{PublishPlan, Publisher};
use stats::WorkerStats;
use subscriber::Subscriber;

/// How often progress goes to the coordinator.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Connecting, greeting and subscribing one session.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Writes protocol lines to stdout.
#[derive(Clone)]
struct Outbox(Arc<Mutex<tokio::io::Stdout>>);

impl Outbox {
    async fn send(&self, message: &FromWorker) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        let mut out = self.0.lock().await;
        out.write_all(&line).await?;
        out.flush().await?;
        Ok(())
    }
}

/// Runs a worker on this process's stdin/stdout.
pub async fn run() -> anyhow::Result<()> {
    let outbox = Outbox(Arc::new(Mutex::new(tokio::io::stdout())));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let first = lines
        .next_line()
        .await?
        .context("the coordinator closed the connection before sending a job")?;
    let ToWorker::Job(job) = serde_json::from_str(&first).context("bad job line")? else {
        bail!("the first message must be a job");
    };
    let (to_worker, inbox) = mpsc::unbounded_channel();
    let abort = CancellationToken::new();
    {
        let abort = abort.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let message = serde_json::from_str::<ToWorker>(&line)
                    .map_err(|e| format!("unreadable message from the coordinator: {e}"));
                if to_worker.send(message).is_err() {
                    break;
                }
            }
            // The coordinator is gone or gave up.
            abort.cancel();
        });
    }
    let result = match (job.config.scenario, job.config.target.kind) {
        (ScenarioKind::Rooms | ScenarioKind::Llm, _) => match context_for(&job) {
            Ok(ctx) => features::run(*job, Arc::new(ctx), inbox, &outbox, abort).await,
            Err(e) => Err(e),
        },
        (_, TargetKind::Atrium) => run_with::<AtriumWire>(*job, inbox, &outbox, abort).await,
        (_, TargetKind::Socketio) => run_with::<SocketIoWire>(*job, inbox, &outbox, abort).await,
        (_, TargetKind::Nats) => run_with::<NatsWire>(*job, inbox, &outbox, abort).await,
    };
    if let Err(e) = &result {
        let _ = outbox
            .send(&FromWorker::Failed {
                message: format!("{e:#}"),
            })
            .await;
    }
    result
}

fn context_for(job: &Job) -> anyhow::Result<WireContext> {
    let config = &job.config;
    let url = config.target.ws_url();
    let target = loopback::check_url(&url, &["ws"])?;
    let sources = loopback::check_sources(&config.run.source_addrs, target.addr.ip())?;
    let channels = (0..Plan::new(config).channel_count())
        .map(|i| match config.target.kind {
            TargetKind::Atrium => ChannelRef {
                index: i,
                name: format!("lt.{i}"),
                id: job.channel_ids.get(i as usize).copied(),
            },
            _ => ChannelRef::peer(i),
        })
        .collect();
    let webtransport = job
        .webtransport
        .as_ref()
        .map(|announced| WtTarget::resolve(announced, config.target.wt_url.as_deref()))
        .transpose()?;
    if let Some(wt) = &webtransport {
        loopback::check_sources(&config.run.source_addrs, wt.addr.ip())?;
    }
    Ok(WireContext {
        kind: config.target.kind,
        url,
        addr: target.addr,
        sources,
        tokens: job.tokens.clone(),
        channels,
        handshake_timeout: HANDSHAKE_TIMEOUT,
        webtransport,
    })
}

type Inbox = mpsc::UnboundedReceiver<Result<ToWorker, String>>;

async fn next_message(inbox: &mut Inbox, abort: &CancellationToken) -> anyhow::Result<ToWorker> {
    tokio::select! {
        () = abort.cancelled() => bail!("aborted by the coordinator"),
        message = inbox.recv() => match message.context("the coordinator went away")? {
            Ok(message) => Ok(message),
            Err(e) => bail!(e),
        },
    }
}

/// Phase 1's bound: `prepare` must finish within `timeout_secs` (`run.prepare_timeout_secs`)
/// and before an abort.
/// `what` names the work in the timeout's message.
async fn prepare_phase<T>(
    prepare: impl Future<Output = anyhow::Result<T>>,
    abort: &CancellationToken,
    timeout_secs: u64,
    what: &str,
) -> anyhow::Result<T> {
    tokio::select! {
        () = abort.cancelled() => bail!("aborted by the coordinator"),
        prepared = tokio::time::timeout(Duration::from_secs(timeout_secs), prepare) => {
            prepared.with_context(|| format!("{what} took longer than run.prepare_timeout_secs"))?
        }
    }
}

/// Tells the coordinator this worker's sessions stand (end of phase 1).
async fn send_ready(outbox: &Outbox, stats: &WorkerStats) -> anyhow::Result<()> {
    outbox
        .send(&FromWorker::Ready {
            connected: stats.connected.load(Ordering::Relaxed),
            failed: stats.connect_failed.load(Ordering::Relaxed),
            cpu_seconds: procstat::cpu_seconds(None).unwrap_or(0.0),
        })
        .await
}

/// Waits for `go` and returns the shared start time as an instant on this process's clock.
async fn await_go(
    inbox: &mut Inbox,
    abort: &CancellationToken,
    stats: &WorkerStats,
) -> anyhow::Result<Instant> {
    let ToWorker::Go { start_us } = next_message(inbox, abort).await? else {
        bail!("expected `go`");
    };
    stats.start_us.store(start_us, Ordering::Relaxed);
    Ok(Instant::now() + Duration::from_micros(start_us.saturating_sub(payload::now_us())))
}

async fn run_with<W: Wire>(
    job: Job,
    mut inbox: Inbox,
    outbox: &Outbox,
    abort: CancellationToken,
) -> anyhow::Result<()> {
    let ctx = Arc::new(context_for(&job)?);
    let config = job.config.clone();
    let plan = Plan::new(&config);
    let stats = Arc::new(WorkerStats::default());
    let token_of = {
        let ctx = ctx.clone();
        let users = config.users.count.max(1);
        move |session: u64| ctx.token((session % u64::from(users)) as u32).to_owned()
    };

    // Phase 1: standing sessions.
    let progress = spawn_progress(outbox.clone(), stats.clone(), abort.clone());
    let prepare = prepare::<W>(&job, &ctx, &stats, &token_of);
    let (subscribers, publishers) = prepare_phase(
        prepare,
        &abort,
        config.run.prepare_timeout_secs,
        "connecting and subscribing",
    )
    .await?;
    send_ready(outbox, &stats).await?;

    // Phase 2: the active phase.
    let start = await_go(&mut inbox, &abort, &stats).await?;
    let (finish_tx, finish_rx) = watch::channel(None);
    let drain = Duration::from_secs(config.run.drain_secs);
    let mut receiving = JoinSet::new();
    for s in subscribers {
        receiving.spawn(s.run(
            ctx.clone(),
            stats.clone(),
            finish_rx.clone(),
            drain,
            abort.clone(),
        ));
    }
    let stop_sessions = abort.child_token();
    let mut background = JoinSet::new();
    let outcomes = match config.scenario {
        ScenarioKind::Connect => {
            tokio::time::sleep_until(start).await;
            let (opened, failed) = sessions::open_and_hold::<W>(
                ctx.clone(),
                stats.clone(),
                plan.connect_sessions(job.worker),
                &token_of,
                plan.share_of_rate(config.connect.rate_per_sec),
                config.run.connect_concurrency as usize,
                stop_sessions.clone(),
            )
            .await;
            outbox
                .send(&FromWorker::Held {
                    connected: opened,
                    failed,
                })
                .await?;
            tokio::select! {
                () = abort.cancelled() => bail!("aborted by the coordinator"),
                () = tokio::time::sleep(held_for(&config)) => {}
            }
            Vec::new()
        }
        ScenarioKind::Fanout | ScenarioKind::Soak => {
            let pacer = Arc::new(Pacer::new(
                plan.share_of_rate(config.soak.churn_rate_per_sec),
            ));
            for spec in plan.churners(job.worker) {
                background.spawn(sessions::churn::<W>(
                    ctx.clone(),
                    stats.clone(),
                    spec,
                    token_of(spec.session),
                    pacer.clone(),
                    Duration::from_millis(config.soak.churn_hold_ms),
                    stop_sessions.clone(),
                ));
            }
            run_publishers(publishers, &config, &ctx, &stats, start, &abort).await?
        }
        ScenarioKind::Rooms | ScenarioKind::Llm => bail!("rooms and llm run in features.rs"),
    };
    stop_sessions.cancel();
    outbox
        .send(&FromWorker::Published {
            outcomes,
            cpu_seconds: procstat::cpu_seconds(None).unwrap_or(0.0),
        })
        .await?;

    // Phase 3: drain and report.
    let ToWorker::Finish { expectations } = next_message(&mut inbox, &abort).await? else {
        bail!("expected `finish`");
    };
    let _ = finish_tx.send(Some(Arc::new(expectations)));
    let grace = drain + Duration::from_secs(5);
    let _ = tokio::time::timeout(grace, async {
        while receiving.join_next().await.is_some() {}
    })
    .await;
    receiving.abort_all();
    background.abort_all();
    progress.abort();
    let report = report_of(&stats);
    outbox.send(&FromWorker::Report(Box::new(report))).await?;
    Ok(())
}

type Prepared<W> = (Vec<Subscriber<W>>, Vec<Publisher<W>>);

/// Opens the subscribers and publishers of this worker.
async fn prepare<W: Wire>(
    job: &Job,
    ctx: &Arc<WireContext>,
    stats: &Arc<WorkerStats>,
    token_of: &(impl Fn(u64) -> String + Sync),
) -> anyhow::Result<Prepared<W>> {
    let plan = Plan::new(&job.config);
    let gate = Arc::new(Semaphore::new(
        job.config.run.connect_concurrency.max(1) as usize
    ));
    let mut opening = JoinSet::new();
    for spec in plan.subscribers(job.worker) {
        let (ctx, stats, gate, token) = (
            ctx.clone(),
            stats.clone(),
            gate.clone(),
            token_of(spec.session),
        );
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let started = Instant::now();
            let opened = subscriber::open_subscribed::<W>(&ctx, &stats, spec, &token).await;
            if opened.is_ok() {
                stats.record_connect(started.elapsed());
            }
            (spec, token, opened)
        });
    }
    let mut subscribers = Vec::new();
    while let Some(joined) = opening.join_next().await {
        let (spec, token, opened) = joined.context("a connecting task panicked")?;
        let Ok((wire, last_seq)) = opened else {
            stats.connect_failed.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        stats.connected.fetch_add(1, Ordering::Relaxed);
        let Some(channel) = spec.channel else {
            continue;
        };
        subscribers.push(Subscriber {
            wire,
            session: spec.session,
            channel: ctx.channel(channel)?.clone(),
            token,
            seq: last_seq.map(|s| StreamTracker::starting_at(u64::try_from(s).unwrap_or(0) + 1)),
            publishers: plan.publishers_of(channel),
        });
    }
    let mut publishers = Vec::new();
    for spec in plan.publishers(job.worker) {
        let token = token_of(spec.session);
        let unsubscribed = crate::plan::SessionSpec {
            session: spec.session,
            channel: None,
        };
        match subscriber::open_subscribed::<W>(ctx, stats, unsubscribed, &token).await {
            Ok((wire, _)) => {
                stats.connected.fetch_add(1, Ordering::Relaxed);
                publishers.push(Publisher {
                    wire,
                    spec,
                    channel: ctx.channel(spec.channel)?.clone(),
                    token,
                });
            }
            Err(e) => bail!("publisher {} could not connect: {e}", spec.id),
        }
    }
    Ok((subscribers, publishers))
}

async fn run_publishers<W: Wire>(
    publishers: Vec<Publisher<W>>,
    config: &crate::config::LoadConfig,
    ctx: &Arc<WireContext>,
    stats: &Arc<WorkerStats>,
    start: Instant,
    abort: &CancellationToken,
) -> anyhow::Result<Vec<PublisherOutcome>> {
    let fanout = &config.fanout;
    let all_publishers = u64::from(fanout.channels) * u64::from(fanout.publishers_per_channel);
    let plan = PublishPlan {
        rate_per_sec: fanout.rate_per_sec as f64 / all_publishers.max(1) as f64,
        inflight: fanout.inflight,
        payload_bytes: fanout.payload_bytes,
        start,
        stop: start + Duration::from_secs(config.run.duration_secs),
        drain: Duration::from_secs(config.run.drain_secs),
    };
    let mut running = JoinSet::new();
    for p in publishers {
        running.spawn(p.run(ctx.clone(), stats.clone(), plan, abort.clone()));
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = running.join_next().await {
        // A panicking publisher is a bug in the load tester: fail the run rather than report
        // a quietly smaller load.
        outcomes.push(joined.context("a publisher task failed")?);
    }
    Ok(outcomes)
}

fn spawn_progress(
    outbox: Outbox,
    stats: Arc<WorkerStats>,
    abort: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        loop {
            tokio::select! {
                () = abort.cancelled() => return,
                _ = tick.tick() => {}
            }
            if outbox
                .send(&FromWorker::Progress(stats.progress()))
                .await
                .is_err()
            {
                return;
            }
        }
    })
}

fn report_of(stats: &WorkerStats) -> WorkerReport {
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let lock = |m: &std::sync::Mutex<crate::recorder::LatencyRecorder>| {
        m.lock().unwrap_or_else(|p| p.into_inner()).snapshot()
    };
    WorkerReport {
        latency: stats.latency().snapshot(),
        ack_latency: lock(&stats.ack_latency),
        connect_latency: lock(&stats.connect_latency),
        deliveries: get(&stats.deliveries),
        expected_deliveries: get(&stats.expected_deliveries),
        churn_deliveries: get(&stats.churn_deliveries),
        churn_connects: get(&stats.churn_connects),
        published: get(&stats.published),
        confirmed: get(&stats.confirmed),
        connected: get(&stats.connected),
        connect_failed: get(&stats.connect_failed),
        reconnects: get(&stats.reconnects),
        errors: stats.errors(),
        integrity: stats.integrity(),
        first_delivery_us: get(&stats.first_delivery_us),
        last_delivery_us: get(&stats.last_delivery_us),
        cpu_seconds: procstat::cpu_seconds(None).unwrap_or(0.0),
        ..WorkerReport::default()
    }
}

/// How long a `connect` worker holds its sessions once they are open: the coordinator's wait
/// before sampling the server's memory, then `--hold`.
fn held_for(config: &crate::config::LoadConfig) -> Duration {
    crate::control::memory_settle(config) + Duration::from_secs(config.connect.hold_secs)
}
