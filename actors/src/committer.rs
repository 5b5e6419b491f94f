//! What the channel actors need from the group-commit writer.
//!
//! In production this is `atrium_persistence::writer::MessageWriter`. The trait exists so that
//! benchmarks can measure fan-out without a database in the way; nothing else should need
//! another implementation.
//!
//! Contract relied upon for per-sender order: a message is enqueued on the first poll of the
//! future `commit` returns, first come first served (see `channel::pipeline`).

use async_trait::async_trait;

use atrium_core::model::NewMessage;
use atrium_persistence::store::{Committed, StoreResult};
use atrium_persistence::writer::MessageWriter;

#[async_trait]
pub trait MessageCommitter: Send + Sync + 'static {
    /// Commits one message; resolves once it is durable (or was a duplicate nonce).
    async fn commit(&self, message: NewMessage) -> StoreResult<Committed>;
}

#[async_trait]
impl MessageCommitter for MessageWriter {
    async fn commit(&self, message: NewMessage) -> StoreResult<Committed> {
        MessageWriter::commit(self, message).await
    }
}
