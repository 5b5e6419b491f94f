//! The phases of the scenarios that drive Atrium-only features, `rooms` and `llm` (the
//! conversation in `control.rs` is the same as for the chat scenarios):
//!
//! 1. `job` → open the sessions (rooms: and join each avatar's room) → `ready`;
//! 2. `go` → walk until the run's duration is up (rooms), or start every stream and read them to
//!    their end, at most duration + drain (llm) → `published` (no publisher outcomes);
//! 3. `finish` → `report`, with the counts of `counts.rs`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::ScenarioKind;
use crate::control::{FromWorker, Job, ToWorker};
use crate::counts::{LlmCounts, RoomCounts};
use crate::plan::Plan;
use crate::procstat;
use crate::recorder::LatencyRecorder;
use crate::wire::WireContext;

use super::llm::{self, LlmSession, StreamPlan};
use super::rooms::{self, PoseBoard, WalkPlan};
use super::stats::WorkerStats;
use super::{
    Inbox, Outbox, await_go, next_message, prepare_phase, report_of, send_ready, spawn_progress,
};

enum Prepared {
    /// The avatars' tasks, reading their snapshots until the walk plan comes.
    Rooms(JoinSet<RoomCounts>, watch::Sender<Option<WalkPlan>>),
    Llm(Vec<LlmSession>),
}

pub(super) async fn run(
    job: Job,
    ctx: Arc<WireContext>,
    mut inbox: Inbox,
    outbox: &Outbox,
    abort: CancellationToken,
) -> anyhow::Result<()> {
    let config = job.config.clone();
    let stats = Arc::new(WorkerStats::default());
    let board = Arc::new(PoseBoard::default());
    let progress = spawn_progress(outbox.clone(), stats.clone(), abort.clone());

    // Phase 1.
    let prepare = prepare(&job, &ctx, &stats, &board, &abort);
    let prepared = prepare_phase(
        prepare,
        &abort,
        config.run.prepare_timeout_secs,
        "connecting and joining",
    )
    .await?;
    send_ready(outbox, &stats).await?;

    // Phase 2.
    let start = await_go(&mut inbox, &abort, &stats).await?;
    let duration = Duration::from_secs(config.run.duration_secs);
    let mut room_counts = RoomCounts::default();
    let mut llm_counts = LlmCounts::default();
    match prepared {
        Prepared::Rooms(mut walking, plan_tx) => {
            let plan = WalkPlan {
                start,
                stop: start + duration,
                pos_hz: config.rooms.pos_hz,
                speed_mps: config.rooms.speed_mps,
            };
            let _ = plan_tx.send(Some(plan));
            while let Some(joined) = walking.join_next().await {
                room_counts.merge(&joined.context("an avatar task failed")?);
            }
        }
        Prepared::Llm(sessions) => {
            tokio::time::sleep_until(start).await;
            let plan = StreamPlan {
                model: config.llm.model.clone(),
                deltas: config.llm.deltas,
                deadline: start + duration + Duration::from_secs(config.run.drain_secs),
            };
            let conversations = Arc::new(job.conversation_ids.clone());
            let mut streaming = JoinSet::new();
            for session in sessions {
                streaming.spawn(session.run(
                    conversations.clone(),
                    plan.clone(),
                    stats.clone(),
                    abort.clone(),
                ));
            }
            let mut first_delta = LatencyRecorder::default();
            while let Some(joined) = streaming.join_next().await {
                let (counts, first) = joined.context("an llm session task failed")?;
                llm_counts.merge(&counts);
                first_delta.merge(&first);
            }
            llm_counts.first_delta = first_delta.snapshot();
        }
    }
    outbox
        .send(&FromWorker::Published {
            outcomes: Vec::new(),
            cpu_seconds: procstat::cpu_seconds(None).unwrap_or(0.0),
        })
        .await?;

    // Phase 3.
    let ToWorker::Finish { .. } = next_message(&mut inbox, &abort).await? else {
        bail!("expected `finish`");
    };
    progress.abort();
    let mut report = report_of(&stats);
    report.rooms = room_counts;
    report.llm = llm_counts;
    outbox.send(&FromWorker::Report(Box::new(report))).await?;
    Ok(())
}

async fn prepare(
    job: &Job,
    ctx: &Arc<WireContext>,
    stats: &Arc<WorkerStats>,
    board: &Arc<PoseBoard>,
    abort: &CancellationToken,
) -> anyhow::Result<Prepared> {
    let config = &job.config;
    let plan = Plan::new(config);
    let users = config.users.count.max(1);
    let token_of = |session: u64| ctx.token((session % u64::from(users)) as u32).to_owned();
    let gate = Arc::new(Semaphore::new(
        config.run.connect_concurrency.max(1) as usize
    ));
    match config.scenario {
        ScenarioKind::Rooms => {
            let transport = config.rooms.transport;
            let (plan_tx, plan_rx) = watch::channel(None);
            let mut joining = JoinSet::new();
            for spec in plan.avatars(job.worker) {
                let room = *job
                    .room_ids
                    .get(spec.room as usize)
                    .with_context(|| format!("room {} was not provisioned", spec.room))?;
                let (ctx, stats, board, gate, token) = (
                    ctx.clone(),
                    stats.clone(),
                    board.clone(),
                    gate.clone(),
                    token_of(spec.session),
                );
                joining.spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    let started = Instant::now();
                    let joined =
                        rooms::join(&ctx, &stats, &board, spec, transport, &token, room).await;
                    if joined.is_ok() {
                        stats.record_connect(started.elapsed());
                    }
                    joined
                });
            }
            // Each avatar reads from the moment it joined: snapshots left unread until the start
            // would pile up (in the socket, or by thousands in a QUIC datagram buffer) and be
            // read late, during the walk.
            let mut walking = JoinSet::new();
            while let Some(joined) = joining.join_next().await {
                match joined.context("a joining task panicked")? {
                    Ok(avatar) => {
                        stats.connected.fetch_add(1, Ordering::Relaxed);
                        walking.spawn(avatar.run(
                            board.clone(),
                            stats.clone(),
                            plan_rx.clone(),
                            abort.clone(),
                        ));
                    }
                    Err(_) => {
                        stats.connect_failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(Prepared::Rooms(walking, plan_tx))
        }
        ScenarioKind::Llm => {
            let mut opening = JoinSet::new();
            for spec in plan.llm_sessions(job.worker) {
                let (ctx, stats, gate, token) = (
                    ctx.clone(),
                    stats.clone(),
                    gate.clone(),
                    token_of(spec.session),
                );
                opening.spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    let started = Instant::now();
                    let opened = llm::open(&ctx, &stats, spec, &token).await;
                    if opened.is_ok() {
                        stats.record_connect(started.elapsed());
                    }
                    opened
                });
            }
            let mut sessions = Vec::new();
            while let Some(opened) = opening.join_next().await {
                match opened.context("a connecting task panicked")? {
                    Ok(session) => {
                        stats.connected.fetch_add(1, Ordering::Relaxed);
                        sessions.push(session);
                    }
                    Err(_) => {
                        stats.connect_failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(Prepared::Llm(sessions))
        }
        other => bail!(
            "scenario {} is not an Atrium feature scenario",
            other.as_str()
        ),
    }
}
