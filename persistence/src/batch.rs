//! What both back ends share when committing a batch of messages: the per-message outcome
//! while the transaction is open, and turning outcomes into the caller's results after commit.

use atrium_core::model::{Message, NewMessage};

use crate::millis;
use crate::store::{Committed, StoreError, StoreResult};

/// What became of one message of a batch while its transaction is open.
pub(crate) enum Outcome {
    /// Stored with this seq.
    Accepted { seq: i64 },
    /// Same sender and nonce as the accepted message at this batch position.
    SameAs(usize),
    /// Settled without being stored: a duplicate of an earlier transaction, or an error.
    Done(StoreResult<Committed>),
}

/// The message as stored, built from what was sent: no read-back needed.
pub(crate) fn stored(msg: &NewMessage, seq: i64) -> Message {
    Message {
        id: msg.id,
        channel_id: msg.channel_id,
        seq,
        sender_id: msg.sender_id,
        body: msg.body.clone(),
        reply_to: msg.reply_to,
        mentions: msg.mentions.clone(),
        nonce: msg.nonce.clone(),
        created_at: millis::truncate(msg.created_at),
        edited_at: None,
        deleted: false,
    }
}

/// The per-message results, in batch order, once the transaction has committed.
pub(crate) fn resolve(
    batch: &[NewMessage],
    outcomes: Vec<Option<Outcome>>,
) -> Vec<StoreResult<Committed>> {
    let seqs: Vec<Option<i64>> = outcomes
        .iter()
        .map(|o| match o {
            Some(Outcome::Accepted { seq }) => Some(*seq),
            _ => None,
        })
        .collect();
    outcomes
        .into_iter()
        .zip(batch)
        .map(|(outcome, msg)| match outcome {
            Some(Outcome::Accepted { seq }) => Ok(Committed::New(stored(msg, seq))),
            Some(Outcome::SameAs(first)) => {
                match (seqs.get(first).copied().flatten(), batch.get(first)) {
                    (Some(seq), Some(original)) => Ok(Committed::Duplicate(stored(original, seq))),
                    _ => Err(StoreError::Database(
                        "duplicate of an unstored message".into(),
                    )),
                }
            }
            Some(Outcome::Done(result)) => result,
            None => Err(StoreError::Database("message was not processed".into())),
        })
        .collect()
}
