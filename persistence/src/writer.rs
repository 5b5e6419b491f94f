//! Group commit: many concurrent message sends, one transaction.
//!
//! A commit costs roughly the same whether it carries one message or hundreds (the fixed part is
//! the transaction and, on PostgreSQL, the WAL flush and the round trips). So instead of one
//! transaction per `msg.send`, every sender hands its message to a single writer task, which
//! gathers what arrives within a short window (or until the batch is full), commits it with
//! [`MessageStore::insert_messages`](crate::store::MessageStore::insert_messages) and answers
//! each sender with its own result. A sender is answered only after the commit, so an
//! acknowledged message is a durable message; if the commit fails, every sender in the batch gets
//! the error and nothing is acknowledged.
//!
//! Batches are committed one after another, in arrival order: two messages from the same task are
//! stored in the order it sent them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use atrium_core::model::NewMessage;

use crate::store::{Committed, Store, StoreError, StoreResult};

/// How the writer batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    /// The most messages committed in one transaction.
    pub max_batch: usize,
    /// How long the writer waits for more messages after the first one of a batch arrived.
    /// Zero commits whatever is queued at once.
    pub max_wait: Duration,
    /// Messages that may wait for the writer; beyond this, `commit` callers wait (back-pressure).
    pub queue_depth: usize,
}

impl WriterConfig {
    pub const DEFAULT_MAX_BATCH: usize = 256;
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(1);
    pub const DEFAULT_QUEUE_DEPTH: usize = 8192;
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            max_batch: Self::DEFAULT_MAX_BATCH,
            max_wait: Self::DEFAULT_MAX_WAIT,
            queue_depth: Self::DEFAULT_QUEUE_DEPTH,
        }
    }
}

type Reply = oneshot::Sender<StoreResult<Committed>>;

struct Request {
    message: NewMessage,
    reply: Reply,
}

/// A handle to the group-commit task. Cheap to clone; every clone feeds the same task.
#[derive(Clone)]
pub struct MessageWriter {
    queue: mpsc::Sender<Request>,
    stop: CancellationToken,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// Messages handed to the writer whose callers are still waiting for the commit.
    pending: Arc<AtomicUsize>,
}

/// Counts one caller as pending until it is answered or stops waiting.
struct PendingGuard(Arc<AtomicUsize>);

impl PendingGuard {
    fn new(pending: &Arc<AtomicUsize>) -> Self {
        pending.fetch_add(1, Ordering::Relaxed);
        Self(pending.clone())
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for MessageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageWriter")
            .field("pending", &self.pending())
            .field("stopping", &self.stop.is_cancelled())
            .finish()
    }
}

impl MessageWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Store>, config: WriterConfig) -> Self {
        let config = WriterConfig {
            max_batch: config.max_batch.max(1),
            queue_depth: config.queue_depth.max(1),
            ..config
        };
        let (queue, requests) = mpsc::channel(config.queue_depth);
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(store, config, requests, stop.clone()));
        Self {
            queue,
            stop,
            task: Arc::new(Mutex::new(Some(task))),
            pending: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Messages accepted by the writer and not yet answered (queued or being committed): the
    /// depth of the commit pipeline, for metrics and for tests that need a known backlog.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Commits one message and returns its stored form once the transaction holding it has
    /// committed (or the original, if the sender already used this nonce).
    pub async fn commit(&self, message: NewMessage) -> StoreResult<Committed> {
        let (reply, answer) = oneshot::channel();
        // Counted before the send so `pending` never lags behind what the writer holds.
        let _pending = PendingGuard::new(&self.pending);
        self.queue
            .send(Request { message, reply })
            .await
            .map_err(|_| closed())?;
        // A dropped reply means the writer task died mid-batch: the outcome is unknown, so it
        // must not be reported as success. (A retry with the same nonce is safe.)
        answer.await.map_err(|_| closed())?
    }

    /// Stops taking messages, commits everything already queued, and returns when the task has
    /// finished. Later `commit` calls fail. Every clone may call this; all return after the drain.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let mut task = self.task.lock().await;
        if let Some(handle) = task.take()
            && let Err(e) = handle.await
        {
            tracing::error!(error = %e, "message writer task failed");
        }
    }
}

fn closed() -> StoreError {
    StoreError::Database("the message writer is shut down".into())
}

async fn run(
    store: Arc<dyn Store>,
    config: WriterConfig,
    mut requests: mpsc::Receiver<Request>,
    stop: CancellationToken,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(config.max_batch);
    let mut draining = false;
    loop {
        if draining {
            if requests.recv_many(&mut batch, config.max_batch).await == 0 {
                break;
            }
        } else {
            tokio::select! {
                biased;
                () = stop.cancelled() => {
                    // No new messages from here on; what is queued is still received.
                    requests.close();
                    draining = true;
                    continue;
                }
                received = requests.recv_many(&mut batch, config.max_batch) => {
                    if received == 0 {
                        break; // every handle is gone
                    }
                }
            }
            fill_window(&mut requests, &mut batch, &config, &stop).await;
        }
        commit(store.as_ref(), &mut batch).await;
    }
    tracing::debug!("message writer stopped");
}

/// Keeps receiving until the batch is full, `max_wait` has passed since its first message, or a
/// shutdown begins (which must not wait out the window).
async fn fill_window(
    requests: &mut mpsc::Receiver<Request>,
    batch: &mut Vec<Request>,
    config: &WriterConfig,
    stop: &CancellationToken,
) {
    if config.max_wait.is_zero() {
        return;
    }
    let deadline = Instant::now() + config.max_wait;
    while batch.len() < config.max_batch {
        let room = config.max_batch - batch.len();
        // `recv_many` is cancel-safe: neither the timeout nor the stop signal loses a message.
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            received = tokio::time::timeout_at(deadline, requests.recv_many(batch, room)) => {
                match received {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
}

async fn commit(store: &dyn Store, batch: &mut Vec<Request>) {
    let (messages, replies): (Vec<NewMessage>, Vec<Reply>) =
        batch.drain(..).map(|r| (r.message, r.reply)).unzip();
    match store.insert_messages(&messages).await {
        Ok(results) if results.len() == replies.len() => {
            for (reply, result) in replies.into_iter().zip(results) {
                // The sender may have given up waiting; its message is committed regardless.
                let _ = reply.send(result);
            }
        }
        Ok(results) => {
            tracing::error!(
                sent = replies.len(),
                answered = results.len(),
                "store answered a batch with the wrong number of results"
            );
            let error = StoreError::Database("batch result count mismatch".into());
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
        Err(error) => {
            tracing::warn!(batch = replies.len(), %error, "message batch failed to commit");
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}
