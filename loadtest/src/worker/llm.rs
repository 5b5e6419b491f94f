//! `llm`: one session per user, starting that user's streams at once and reading them to the end.
//!
//! Every `llm.delta` text carries the microsecond the mock provider wrote it (`llm_mock.rs`), so
//! each delta is a latency sample (receive − written). Each stream's `seq` must count 1, 2, 3, …
//! up to the number of deltas the mock wrote: anything skipped is a gap, anything seen twice a
//! duplicate (the integrity machinery of the fan-out scenarios, one stream per generation).

use std::collections::HashMap;
use std::sync::Arc;

use atrium_core::ids::{ConversationId, StreamId};
use atrium_core::protocol::{ClientFrame, OkResult, ServerFrame};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::counts::LlmCounts;
use crate::integrity::StreamTracker;
use crate::llm_mock::written_at;
use crate::payload::now_us;
use crate::plan::{LlmSessionSpec, SessionSpec};
use crate::recorder::LatencyRecorder;
use crate::wire::atrium::AtriumWire;
use crate::wire::{Wire, WireContext, WireError};

use super::stats::{LatencyBuffer, WorkerStats};
use super::subscriber;

/// The question every stream asks (the mock ignores it).
const PROMPT: &str = "Load test: answer with timestamps.";

/// A session holding some users' streams.
pub struct LlmSession {
    wire: AtriumWire,
    spec: LlmSessionSpec,
}

pub async fn open(
    ctx: &WireContext,
    stats: &WorkerStats,
    spec: LlmSessionSpec,
    token: &str,
) -> Result<LlmSession, WireError> {
    let session = SessionSpec {
        session: spec.session,
        channel: None,
    };
    let (wire, _) = subscriber::open_subscribed::<AtriumWire>(ctx, stats, session, token).await?;
    Ok(LlmSession { wire, spec })
}

/// What every stream of a run asks for.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    pub model: String,
    /// Deltas the mock writes per stream: `seq` must reach this.
    pub deltas: u32,
    /// Streams still running then are abandoned (counted as `unfinished`).
    pub deadline: Instant,
}

#[derive(Default)]
struct Track {
    seq: StreamTracker,
    /// When its `llm.start` was sent (µs), until the first delta took it.
    started_us: Option<u64>,
}

impl LlmSession {
    pub async fn run(
        mut self,
        conversations: Arc<Vec<ConversationId>>,
        plan: StreamPlan,
        stats: Arc<WorkerStats>,
        abort: CancellationToken,
    ) -> (LlmCounts, LatencyRecorder) {
        let mut counts = LlmCounts::default();
        let mut first_delta = LatencyRecorder::default();
        let mut latencies = LatencyBuffer::new(self.spec.session);
        // rid → the stream's start time, until `ok {stream}` names it.
        let mut pending: HashMap<u32, u64> = HashMap::new();
        let mut tracks: HashMap<StreamId, Track> = HashMap::new();
        let total = self.spec.streams.len() as u64;
        let mut finished = 0u64;
        let outcome: Result<(), WireError> = async {
            for &stream in &self.spec.streams {
                let conversation = *conversations.get(stream as usize).ok_or_else(|| {
                    WireError::Protocol(format!("stream {stream} has no conversation"))
                })?;
                let rid = self.wire.next_rid();
                self.wire
                    .feed_frame(&ClientFrame::LlmStart {
                        rid,
                        conversation,
                        content: PROMPT.to_owned(),
                        model: Some(plan.model.clone()),
                        temperature: None,
                        system: None,
                    })
                    .await?;
                pending.insert(rid, now_us());
                counts.requested += 1;
            }
            self.wire.flush().await?;
            while finished < total {
                let (frame, _) = tokio::select! {
                    () = abort.cancelled() => return Ok(()),
                    () = tokio::time::sleep_until(plan.deadline) => return Ok(()),
                    frame = self.wire.recv_frame() => frame?,
                };
                match frame {
                    ServerFrame::Ok {
                        rid,
                        result: OkResult::LlmStarted(ok),
                    } => {
                        if let Some(started) = pending.remove(&rid) {
                            counts.accepted += 1;
                            let track = tracks.entry(ok.stream).or_default();
                            track.seq = StreamTracker::starting_at(1);
                            track.started_us = Some(started);
                        }
                    }
                    ServerFrame::Err {
                        rid: Some(rid),
                        code,
                        ..
                    } if pending.remove(&rid).is_some() => {
                        *counts.errors.entry(code.to_string()).or_default() += 1;
                        finished += 1;
                    }
                    ServerFrame::Err { code, .. } => stats.error(code.as_str()),
                    ServerFrame::LlmDelta { stream, seq, text } => {
                        let now = now_us();
                        let track = tracks.entry(stream).or_insert_with(|| Track {
                            seq: StreamTracker::starting_at(1),
                            started_us: None,
                        });
                        track.seq.observe(u64::from(seq));
                        if let Some(started) = track.started_us.take() {
                            let second = stats.second_of(now);
                            first_delta.record(second, now.saturating_sub(started));
                        }
                        for written in written_at(&text) {
                            latencies.push(&stats, now, written);
                        }
                        counts.deltas += 1;
                        if counts.first_delta_us == 0 {
                            counts.first_delta_us = now;
                        }
                        counts.last_delta_us = now;
                        latencies.maybe_flush(&stats);
                    }
                    ServerFrame::LlmDone { .. } => {
                        counts.done += 1;
                        finished += 1;
                    }
                    ServerFrame::LlmError { code, .. } => {
                        counts.failed += 1;
                        *counts.errors.entry(code).or_default() += 1;
                        finished += 1;
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            stats.error(&e.code());
        }
        let unfinished = total.saturating_sub(finished);
        if unfinished > 0 {
            *counts.errors.entry("unfinished".to_owned()).or_default() += unfinished;
        }
        latencies.flush(&stats);
        let end = u64::from(plan.deltas) + 1;
        let streams: Vec<_> = tracks.values().map(|t| t.seq.finish(end)).collect();
        stats.add_subscriber(&streams, streams.len() as u64 * u64::from(plan.deltas));
        self.wire.close().await;
        (counts, first_delta)
    }
}
