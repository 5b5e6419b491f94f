//! `LlmStreamActor`: one per generation.
//!
//! Lifecycle: spawned by the [`StreamDirectory`](super::directory::StreamDirectory) for an
//! `llm.start`; `post_start` [prepares](super::prepare) it (access, budget, model, context) and
//! answers the request (`ok {stream}` or `err`), then a *pump* task opens the provider stream
//! through the router's fallback chain and forwards every event to the actor, which
//!
//! - numbers each text delta and pushes `llm.delta {stream, seq, text}` to the audience
//!   (encoded once, [`Audience`]),
//! - keeps the latest usage report,
//! - on the end — `Done`, an error, `llm.cancel`, or the node stopping — stores the answer
//!   (complete, or partial: exactly the text that was shown), records usage and cost for every
//!   provider request (the fallbacks that failed included), pushes `llm.done` or `llm.error`,
//!   starts the auto-title after the first exchange, and stops.
//!
//! The generation in progress (`Run`: the text shown, usage, the pump) is kept in the
//! stream's [`StreamShared`], not in the actor's state, so that if the actor panics the
//! supervisor ends it the same way (`conclude_after_crash`) instead of losing the text.
//!
//! Fallback happens only before the first delta (the router's rule); after that a failure ends
//! the answer where it stopped, so no text is ever shown twice. Cancelling aborts the pump,
//! which drops the provider stream and with it the HTTP request: the provider stops generating.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::StreamExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::task::JoinHandle;

use atrium_core::ai::{
    ConversationMessage, ConversationRole, MessageStatus, UsageOutcome, UsagePurpose, UsageRecord,
};
use atrium_core::ids::{ConversationId, ConversationMessageId, OrgId, StreamId, UserId};
use atrium_core::protocol::{LlmStartOk, LlmUsage, OkResult, ServerFrame};

use super::catalog::Catalog;
use super::delivery::Audience;
use super::prepare::{Overrides, Prepared, now_ms, prepare};
use super::title;
use crate::channel::Requester;
use crate::context::Context;
use crate::llm::{FailedAttempt, FallbackExhausted, ProviderError, StreamEvent, TokenUsage};
use crate::wire;

/// Code of `llm.error` after `llm.cancel`.
pub const CANCELLED: &str = "cancelled";
/// Code of `llm.error` when the node stops mid-answer.
pub const SHUTTING_DOWN: &str = "shutting_down";
/// Code of `llm.error` when the stream's actor failed.
pub const INTERNAL: &str = "internal";
/// Message of that `llm.error`.
pub const CRASHED_MESSAGE: &str = "the generation failed on the server";

/// An `llm.start` as the session routed it.
#[derive(Clone, Debug)]
pub struct StartRequest {
    pub from: Requester,
    pub org: OrgId,
    pub conversation: ConversationId,
    pub content: String,
    pub overrides: Overrides,
}

/// What the supervisor needs to know about a generation if its actor dies.
pub struct StreamShared {
    pub id: StreamId,
    pub org: OrgId,
    pub user: UserId,
    pub from: Requester,
    /// The generation in progress, once prepared. It lives here rather than in the actor's
    /// state so that if the actor panics, the supervisor can still end it like any other
    /// failure: the text shown so far stored as a partial answer, usage recorded, the provider
    /// request dropped.
    run: Mutex<Option<Run>>,
    /// Test hook: panic right after pushing this delta (fault-injection builds only).
    #[cfg(feature = "fault-injection")]
    pub crash_after_delta: Option<u32>,
}

impl StreamShared {
    pub fn new(id: StreamId, org: OrgId, user: UserId, from: Requester) -> Self {
        Self {
            id,
            org,
            user,
            from,
            run: Mutex::new(None),
            #[cfg(feature = "fault-injection")]
            crash_after_delta: None,
        }
    }

    /// Test hook: the generation panics right after pushing delta `seq`.
    #[cfg(feature = "fault-injection")]
    pub fn crashing_after_delta(self, seq: Option<u32>) -> Self {
        Self {
            crash_after_delta: seq,
            ..self
        }
    }

    fn run(&self) -> MutexGuard<'_, Option<Run>> {
        self.run.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for StreamShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamShared")
            .field("id", &self.id)
            .field("org", &self.org)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Messages of the stream actor.
pub enum StreamMsg {
    /// A model of the fallback chain started answering (after `failures`).
    Opened {
        model: String,
        failures: Vec<FailedAttempt>,
    },
    /// No model of the chain answered.
    Exhausted(FallbackExhausted),
    /// The next provider event.
    Event(StreamEvent),
    /// The provider failed after answering began.
    Failed(ProviderError),
    /// `llm.cancel` from the user who started it.
    Cancel(Requester),
    /// Test hook: panic inside the handler (fault-injection builds only).
    #[cfg(feature = "fault-injection")]
    Crash,
}

pub struct LlmStreamActor;

struct Run {
    prepared: Prepared,
    pump: JoinHandle<()>,
    /// The model that answers, once one did.
    model: Option<String>,
    failures: Vec<FailedAttempt>,
    text: String,
    seq: u32,
    usage: TokenUsage,
}

pub struct StreamState {
    ctx: Arc<Context>,
    shared: Arc<StreamShared>,
    request: Option<StartRequest>,
    catalog: Arc<Catalog>,
    audience: Audience,
}

/// How a generation ended.
enum End {
    Completed,
    Cancelled(Option<Requester>),
    Failed(ProviderError),
    Exhausted(FallbackExhausted),
    Shutdown,
    /// The stream's actor panicked (ended by the supervisor).
    Crashed,
}

impl Actor for LlmStreamActor {
    type Msg = StreamMsg;
    type State = StreamState;
    type Arguments = (Arc<Context>, Arc<StreamShared>, StartRequest);

    async fn pre_start(
        &self,
        _myself: ActorRef<StreamMsg>,
        (ctx, shared, request): (Arc<Context>, Arc<StreamShared>, StartRequest),
    ) -> Result<StreamState, ActorProcessingErr> {
        let catalog = ctx.ai.catalog();
        let audience = Audience {
            org: shared.org,
            user: shared.user,
            channel: None,
        };
        Ok(StreamState {
            ctx,
            shared,
            request: Some(request),
            catalog,
            audience,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<StreamMsg>,
        state: &mut StreamState,
    ) -> Result<(), ActorProcessingErr> {
        let Some(request) = state.request.take() else {
            return Ok(());
        };
        let settings = state.ctx.ai.settings();
        let prepared = match prepare(
            state.ctx.store.as_ref(),
            &state.catalog,
            &request,
            settings.context_messages,
        )
        .await
        {
            Ok(prepared) => prepared,
            Err(refusal) => {
                request.from.reply_err(refusal.code, &refusal.message);
                state.ctx.ai.streams.remove(state.shared.id);
                myself.stop(None);
                return Ok(());
            }
        };
        let stream = state.shared.id;
        state.audience.channel = prepared.conversation.channel_id;
        if let Some(rid) = request.from.rid {
            wire::reply(
                &request.from.outbox,
                &ServerFrame::Ok {
                    rid,
                    result: OkResult::LlmStarted(LlmStartOk { stream }),
                },
            );
        }
        state.audience.push(
            &state.ctx,
            &ServerFrame::LlmStarted {
                stream,
                conversation: prepared.conversation.id,
                model: prepared.choice.model.clone(),
            },
        );
        tracing::debug!(%stream, model = %prepared.choice.model, "generation started");
        let pump = spawn_pump(myself, state.catalog.clone(), prepared.request.clone());
        *state.shared.run() = Some(Run {
            prepared,
            pump,
            model: None,
            failures: Vec::new(),
            text: String::new(),
            seq: 0,
            usage: TokenUsage::default(),
        });
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<StreamMsg>,
        message: StreamMsg,
        state: &mut StreamState,
    ) -> Result<(), ActorProcessingErr> {
        let end = match message {
            StreamMsg::Opened { model, failures } => {
                if let Some(run) = state.shared.run().as_mut() {
                    run.model = Some(model);
                    run.failures = failures;
                }
                None
            }
            StreamMsg::Event(StreamEvent::Delta(text)) => {
                let seq = state.shared.run().as_mut().map(|run| {
                    run.seq += 1;
                    run.text.push_str(&text);
                    run.seq
                });
                if let Some(seq) = seq {
                    let frame = ServerFrame::LlmDelta {
                        stream: state.shared.id,
                        seq,
                        text,
                    };
                    state.audience.push(&state.ctx, &frame);
                    #[cfg(feature = "fault-injection")]
                    if state.shared.crash_after_delta == Some(seq) {
                        panic!("fault injection: stream {} crashed", state.shared.id);
                    }
                }
                None
            }
            StreamMsg::Event(event @ StreamEvent::Usage { .. }) => {
                if let Some(run) = state.shared.run().as_mut() {
                    run.usage.record(&event);
                }
                None
            }
            StreamMsg::Event(StreamEvent::Done { .. }) => Some(End::Completed),
            StreamMsg::Failed(error) => Some(End::Failed(error)),
            StreamMsg::Exhausted(exhausted) => Some(End::Exhausted(exhausted)),
            StreamMsg::Cancel(from) => Some(End::Cancelled(Some(from))),
            #[cfg(feature = "fault-injection")]
            StreamMsg::Crash => panic!("fault injection: stream {} crashed", state.shared.id),
        };
        if let Some(end) = end {
            let running = state.shared.run().is_some();
            if let (End::Cancelled(Some(from)), false) = (&end, running) {
                // Still preparing or already over: nothing to cancel.
                from.reply_ok();
            }
            finish(state, end).await;
            myself.stop(None);
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<StreamMsg>,
        state: &mut StreamState,
    ) -> Result<(), ActorProcessingErr> {
        // Stopped from outside (the node is shutting down) in the middle of an answer: keep
        // what was shown and account for it.
        if state.shared.run().is_some() {
            finish(state, End::Shutdown).await;
        }
        state.ctx.ai.streams.remove(state.shared.id);
        Ok(())
    }
}

/// Opens the provider stream (walking the fallback chain) and forwards its events.
fn spawn_pump(
    me: ActorRef<StreamMsg>,
    catalog: Arc<Catalog>,
    request: crate::llm::ChatRequest,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        match catalog.router.open(&request).await {
            Err(exhausted) => {
                let _ = me.cast(StreamMsg::Exhausted(exhausted));
            }
            Ok(opened) => {
                let mut stream = opened.stream;
                if me
                    .cast(StreamMsg::Opened {
                        model: opened.model,
                        failures: opened.failures,
                    })
                    .is_err()
                {
                    return;
                }
                while let Some(item) = stream.next().await {
                    let message = match item {
                        Ok(event) => StreamMsg::Event(event),
                        Err(error) => StreamMsg::Failed(error),
                    };
                    if me.cast(message).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

/// Ends the generation: stores the answer, records usage, tells the audience.
async fn finish(state: &mut StreamState, end: End) {
    conclude(
        &state.ctx,
        &state.shared,
        &state.catalog,
        &state.audience,
        end,
    )
    .await;
}

/// Ends a generation whose actor panicked, as [`finish`] would have: the text shown so far is
/// stored as a partial answer, usage is recorded (outcome failed, code `internal`), the provider
/// request is dropped and the audience gets `llm.error {code: internal}`. Returns `false` if
/// the generation had not started answering (the caller tells the audience itself).
pub(crate) async fn conclude_after_crash(ctx: &Arc<Context>, shared: &StreamShared) -> bool {
    let channel = match shared.run().as_ref() {
        Some(run) => run.prepared.conversation.channel_id,
        None => return false,
    };
    let audience = Audience {
        org: shared.org,
        user: shared.user,
        channel,
    };
    conclude(ctx, shared, &ctx.ai.catalog(), &audience, End::Crashed).await
}

/// The end of a generation, whoever ends it; `false` if it was not running (never prepared, or
/// already concluded).
async fn conclude(
    ctx: &Arc<Context>,
    shared: &StreamShared,
    catalog: &Arc<Catalog>,
    audience: &Audience,
    end: End,
) -> bool {
    let Some(run) = shared.run().take() else {
        return false;
    };
    // Dropping the provider stream (inside the pump) closes the upstream request.
    run.pump.abort();
    let ctx = ctx.clone();
    let stream = shared.id;
    let org = shared.org;
    let catalog = catalog.clone();
    let conversation = &run.prepared.conversation;

    let (outcome, failure): (UsageOutcome, Option<(String, String)>) = match &end {
        End::Completed => (UsageOutcome::Completed, None),
        End::Cancelled(_) => (
            UsageOutcome::Cancelled,
            Some((CANCELLED.into(), "the generation was cancelled".into())),
        ),
        End::Shutdown => (
            UsageOutcome::Cancelled,
            Some((SHUTTING_DOWN.into(), "the server is shutting down".into())),
        ),
        End::Crashed => (
            UsageOutcome::Failed,
            Some((INTERNAL.into(), CRASHED_MESSAGE.into())),
        ),
        End::Failed(error) => (
            UsageOutcome::Failed,
            Some((error.code().into(), error.to_string())),
        ),
        End::Exhausted(exhausted) => {
            let (code, message) = exhausted.last_error().map_or_else(
                || ("provider_unavailable".to_owned(), exhausted.to_string()),
                |e| (e.code().to_owned(), e.to_string()),
            );
            (UsageOutcome::Failed, Some((code, message)))
        }
    };
    let failures = match &end {
        End::Exhausted(exhausted) => exhausted.attempts.clone(),
        _ => run.failures.clone(),
    };
    // The model this request ended on: the one that answered, or (cancelled before any model
    // answered) the one that was being asked.
    let final_model = match (&end, &run.model) {
        (End::Exhausted(_), _) => None,
        (_, Some(model)) => Some(model.clone()),
        (_, None) => Some(run.prepared.choice.model.clone()),
    };
    let cost = final_model
        .as_deref()
        .map_or(0, |m| catalog.cost(m, run.usage));

    if !run.text.is_empty() || outcome == UsageOutcome::Completed {
        let answer = ConversationMessage {
            id: ConversationMessageId::new(),
            conversation_id: conversation.id,
            seq: 0,
            role: ConversationRole::Assistant,
            content: run.text.clone(),
            author_id: None,
            model: run.model.clone(),
            stream_id: Some(stream),
            status: if outcome == UsageOutcome::Completed {
                MessageStatus::Complete
            } else {
                MessageStatus::Partial
            },
            created_at: now_ms(),
        };
        if let Err(error) = ctx.store.append_conversation_message(org, &answer).await {
            tracing::error!(%stream, %error, "could not store the answer");
        }
    }

    let record = |model: &str,
                  usage: TokenUsage,
                  outcome: UsageOutcome,
                  streamed: bool,
                  cost: i64,
                  code: Option<String>| UsageRecord {
        id: 0,
        org_id: org,
        user_id: shared.user,
        conversation_id: Some(conversation.id),
        stream_id: Some(stream),
        model: model.to_owned(),
        provider: catalog.provider_of(model).to_owned(),
        purpose: UsagePurpose::Chat,
        outcome,
        streamed,
        input_tokens: u64::from(usage.input_tokens),
        output_tokens: u64::from(usage.output_tokens),
        cost_micros: cost,
        error_code: code,
        at: now_ms(),
    };
    let mut records: Vec<UsageRecord> = failures
        .iter()
        .map(|f| {
            let usage = f.usage.unwrap_or_default();
            record(
                &f.model,
                usage,
                UsageOutcome::Failed,
                false,
                catalog.cost(&f.model, usage),
                Some(f.error.code().to_owned()),
            )
        })
        .collect();
    if let Some(model) = &final_model {
        records.push(record(
            model,
            run.usage,
            outcome,
            run.seq > 0,
            cost,
            failure.as_ref().map(|(code, _)| code.clone()),
        ));
    }
    for usage in &records {
        if let Err(error) = ctx.store.record_usage(usage).await {
            tracing::error!(%stream, %error, "could not record usage");
        }
    }

    let frame = match &failure {
        None => ServerFrame::LlmDone {
            stream,
            usage: LlmUsage {
                input_tokens: run.usage.input_tokens,
                output_tokens: run.usage.output_tokens,
            },
            cost,
            model: final_model.clone().unwrap_or_default(),
        },
        Some((code, message)) => ServerFrame::LlmError {
            stream,
            code: code.clone(),
            message: message.clone(),
        },
    };
    audience.push(&ctx, &frame);
    if let End::Cancelled(Some(from)) = &end {
        from.reply_ok();
    }
    tracing::debug!(%stream, outcome = outcome.as_str(), deltas = run.seq, "generation ended");

    if outcome == UsageOutcome::Completed
        && conversation.title.is_none()
        && run.prepared.question.seq == 1
        && ctx.ai.settings().auto_title
        && let Some(model) = final_model
    {
        title::spawn(
            ctx.clone(),
            catalog,
            title::Exchange {
                org,
                user: shared.user,
                conversation: conversation.id,
                model,
                question: run.prepared.question.content.clone(),
                answer: run.text,
            },
        );
    }
    ctx.ai.streams.remove(stream);
    true
}
