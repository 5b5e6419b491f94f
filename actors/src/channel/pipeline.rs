//! The commit pipeline of one channel.
//!
//! `msg.send` must be acknowledged only after its transaction committed, yet a channel that
//! waited for each commit before taking the next message would be limited to one message per
//! database round trip. So the channel actor hands each accepted message to this pipeline and
//! moves on. The pipeline keeps many commits in flight in the shared group-commit writer (which
//! batches them, across channels, into few transactions) while preserving the order in which
//! the actor accepted them:
//!
//! 1. *prepare* (resolve `@mentions`, check `reply_to`) runs concurrently, but its results are
//!    taken in acceptance order (`FuturesOrdered`);
//! 2. each prepared message's commit future is polled for the first time in that same order,
//!    and the writer enqueues a message on that first poll (FIFO), so the store assigns seqs in
//!    the order messages were sent: a client's pipelined messages land in the order it sent them.
//!
//! Each result goes straight back to the sender as `ok {id, seq}` and to the channel actor,
//! whose [`Sequencer`](super::sequencer::Sequencer) publishes in seq order. A duplicate nonce is
//! answered with the original `{id, seq}` and not published again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use futures_util::stream::{FuturesOrdered, FuturesUnordered};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use atrium_core::ids::{MessageId, OrgId};
use atrium_core::model::NewMessage;
use atrium_core::protocol::{ErrorCode, MsgSent, OkResult, ServerFrame};
use atrium_persistence::store::{Committed, StoreError};

use crate::channel::mentions::parse_mentions;
use crate::channel::{ChannelMsg, ChannelShared, Requester};
use crate::context::Context;
use crate::wire;

/// One accepted `msg.send`.
pub struct CommitJob {
    pub from: Requester,
    pub org: OrgId,
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub nonce: Option<String>,
}

/// The sending side of a running pipeline.
pub struct Pipeline {
    jobs: mpsc::UnboundedSender<CommitJob>,
}

impl Pipeline {
    /// Starts the pipeline task for `shared`'s channel. It ends once this handle is dropped and
    /// every accepted job was answered, so a crashing actor never strands a sender.
    pub fn start(
        ctx: Arc<Context>,
        shared: Arc<ChannelShared>,
        in_flight: Arc<AtomicUsize>,
    ) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(ctx, shared, in_flight, queue));
        Self { jobs }
    }

    /// Accepts a job; gives it back if the pipeline is gone.
    pub fn submit(&self, job: CommitJob) -> Result<(), Box<CommitJob>> {
        self.jobs.send(job).map_err(|e| Box::new(e.0))
    }
}

async fn run(
    ctx: Arc<Context>,
    shared: Arc<ChannelShared>,
    in_flight: Arc<AtomicUsize>,
    mut queue: mpsc::UnboundedReceiver<CommitJob>,
) {
    let mut preparing = FuturesOrdered::new();
    let mut committing = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            // Commits first: a freshly pushed commit is polled (and so enqueued in the writer)
            // before the next prepared message is taken.
            biased;
            Some(()) = committing.next(), if !committing.is_empty() => {}
            Some(prepared) = preparing.next(), if !preparing.is_empty() => {
                match prepared {
                    Some((from, message)) => committing.push(commit(
                        ctx.clone(),
                        shared.clone(),
                        in_flight.clone(),
                        from,
                        message,
                    )),
                    None => {
                        in_flight.fetch_sub(1, Ordering::AcqRel);
                    }
                }
            }
            job = queue.recv(), if open => match job {
                Some(job) => preparing.push_back(prepare(ctx.clone(), shared.clone(), job)),
                None => open = false,
            },
            else => break,
        }
    }
}

/// Resolves mentions and checks `reply_to`; answers the sender itself when the message cannot
/// be sent.
async fn prepare(
    ctx: Arc<Context>,
    shared: Arc<ChannelShared>,
    job: CommitJob,
) -> Option<(Requester, NewMessage)> {
    let channel = shared.key.channel;
    if let Some(reply_to) = job.reply_to {
        match ctx.store.get_message(channel, reply_to).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                job.from.reply_err(
                    ErrorCode::NotFound,
                    "reply_to names no message of this channel",
                );
                return None;
            }
            Err(error) => {
                tracing::warn!(%channel, %error, "reply_to lookup failed");
                job.from
                    .reply_err(ErrorCode::Internal, "the message could not be sent");
                return None;
            }
        }
    }
    let names = parse_mentions(&job.body);
    let mentions = if names.is_empty() {
        Vec::new()
    } else {
        match ctx.store.find_users_by_usernames(job.org, &names).await {
            Ok(users) => users.into_iter().map(|u| u.id).collect(),
            Err(error) => {
                tracing::warn!(%channel, %error, "mention lookup failed");
                job.from
                    .reply_err(ErrorCode::Internal, "the message could not be sent");
                return None;
            }
        }
    };
    let message = NewMessage {
        id: MessageId::new(),
        channel_id: channel,
        sender_id: job.from.user,
        body: job.body,
        reply_to: job.reply_to,
        mentions,
        nonce: job.nonce,
        created_at: OffsetDateTime::now_utc(),
    };
    Some((job.from, message))
}

async fn commit(
    ctx: Arc<Context>,
    shared: Arc<ChannelShared>,
    in_flight: Arc<AtomicUsize>,
    from: Requester,
    message: NewMessage,
) {
    let result = ctx.committer.commit(message).await;
    match result {
        Ok(committed) => {
            let stored = committed.message();
            if let Some(rid) = from.rid {
                wire::reply(
                    &from.outbox,
                    &ServerFrame::Ok {
                        rid,
                        result: OkResult::Sent(MsgSent {
                            id: stored.id,
                            seq: stored.seq,
                        }),
                    },
                );
            }
            if let Committed::New(message) = committed {
                shared.slot.send(ChannelMsg::Committed(message), false);
            }
        }
        Err(error) => {
            let (code, text) = match &error {
                StoreError::NotFound => (ErrorCode::NotFound, "the channel no longer exists"),
                StoreError::Conflict(_) => (ErrorCode::Conflict, "the message conflicts"),
                _ => (ErrorCode::Internal, "the message could not be committed"),
            };
            tracing::warn!(channel = %shared.key.channel, %error, "commit failed");
            from.reply_err(code, text);
        }
    }
    in_flight.fetch_sub(1, Ordering::AcqRel);
}
