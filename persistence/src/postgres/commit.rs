//! Committing a batch of messages on PostgreSQL: one transaction, a handful of round trips.
//!
//! A statement per message would cost a network round trip each, so the batch travels as arrays
//! and is processed set-wise:
//!
//! 1. one query looks up, for every message, a stored message with the same sender and nonce
//!    (→ `Duplicate`) and validates the rest (known channel, sender of the channel's
//!    organization, reply inside the same channel, message id free); a message that fails is
//!    answered with its own error and takes no seq;
//! 2. one statement locks the channels involved in id order (`FOR UPDATE`, so two nodes' batches
//!    touching the same channels queue instead of deadlocking) and advances each by its count;
//! 3. every accepted message is inserted by one `INSERT … SELECT FROM UNNEST(…)`.
//!
//! With BEGIN and COMMIT that is five round trips per batch, whatever its size. Between (1) and
//! (3) another node may commit the same nonce or id; the INSERT then fails with a unique
//! violation, the transaction is rolled back (no seq was spent) and the whole batch is retried,
//! now seeing that message in step 1. Deadlocks and serialization failures retry too.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use uuid::Uuid;

use atrium_core::model::{Message, NewMessage};

use super::{PgStore, rows};
use crate::batch::{self, Outcome};
use crate::columns::message_columns_m;
use crate::store::{Committed, StoreError, StoreResult};
use crate::{millis, sql_error};

/// Attempts per batch when it collides with a concurrent writer.
const MAX_ATTEMPTS: u32 = 4;

/// SQLSTATEs after which re-running the whole transaction is the right answer.
const RETRYABLE: &[&str] = &[
    "23505", // unique_violation: a concurrent batch committed the same nonce or id
    "40001", // serialization_failure
    "40P01", // deadlock_detected
];

impl PgStore {
    pub(super) async fn commit_batch(
        &self,
        batch: &[NewMessage],
    ) -> StoreResult<Vec<StoreResult<Committed>>> {
        let mut attempt = 1;
        loop {
            match self.try_commit_batch(batch).await {
                Ok(results) => return Ok(results),
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(attempt, error = %e, "message batch collided; retrying");
                    attempt += 1;
                }
                Err(e) => return Err(sql_error::db(e)),
            }
        }
    }

    async fn try_commit_batch(
        &self,
        batch: &[NewMessage],
    ) -> Result<Vec<StoreResult<Committed>>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut outcomes: Vec<Option<Outcome>> = (0..batch.len()).map(|_| None).collect();

        // 1. Earlier uses of each nonce, and whether each message may be stored.
        let verdicts = check(&mut tx, batch).await?;
        let mut accepted_ids: HashSet<Uuid> = HashSet::new();
        let mut accepted_nonces: HashMap<(Uuid, &str), usize> = HashMap::new();
        let mut per_channel: HashMap<Uuid, i64> = HashMap::new();
        for (i, msg) in batch.iter().enumerate() {
            let verdict = verdicts.get(&i);
            if let Some(Verdict {
                stored: Some(original),
                ..
            }) = verdict
            {
                outcomes[i] = Some(Outcome::Done(Ok(Committed::Duplicate(original.clone()))));
                continue;
            }
            let twin_of = msg
                .nonce
                .as_deref()
                .and_then(|n| accepted_nonces.get(&(msg.sender_id.as_uuid(), n)).copied());
            let outcome = match (twin_of, verdict.filter(|v| v.known)) {
                (Some(first), _) => Outcome::SameAs(first),
                (None, None) => Outcome::Done(Err(StoreError::NotFound)),
                (None, Some(v)) if v.id_taken || accepted_ids.contains(&msg.id.as_uuid()) => {
                    Outcome::Done(Err(StoreError::Conflict("message id".into())))
                }
                // A reply must point at a committed message of the same channel.
                (None, Some(v)) if !v.reply_ok => Outcome::Done(Err(StoreError::NotFound)),
                (None, Some(_)) => {
                    accepted_ids.insert(msg.id.as_uuid());
                    if let Some(n) = msg.nonce.as_deref() {
                        accepted_nonces.insert((msg.sender_id.as_uuid(), n), i);
                    }
                    *per_channel.entry(msg.channel_id.as_uuid()).or_default() += 1;
                    Outcome::Accepted { seq: 0 }
                }
            };
            outcomes[i] = Some(outcome);
        }

        // 2. Reserve seqs: lock the channels in a fixed order, then advance each by its count.
        let mut next_seq = reserve_seqs(&mut tx, &per_channel).await?;
        for (i, outcome) in outcomes.iter_mut().enumerate() {
            if let Some(Outcome::Accepted { seq }) = outcome {
                let slot = next_seq
                    .get_mut(&batch[i].channel_id.as_uuid())
                    .ok_or_else(|| sqlx::Error::Protocol("channel vanished while locked".into()))?;
                *seq = *slot;
                *slot += 1;
            }
        }

        // 3. Insert every accepted message in one statement.
        insert_accepted(&mut tx, batch, &outcomes).await?;
        tx.commit().await?;

        Ok(batch::resolve(batch, outcomes))
    }
}

fn is_retryable(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|dbe| dbe.code())
        .is_some_and(|code| RETRYABLE.contains(&code.as_ref()))
}

/// What [`check`] found for one message.
struct Verdict {
    /// The message this sender stored earlier under the same nonce.
    stored: Option<Message>,
    /// The channel exists and the sender is a user of its organization.
    known: bool,
    /// The id is already stored.
    id_taken: bool,
    /// No reply, or a reply to a message of the same channel.
    reply_ok: bool,
}

/// One query for the whole batch: each message's earlier nonce use (the stored message's
/// columns, under the alias `m`) and its validity.
async fn check(
    tx: &mut sqlx::PgConnection,
    batch: &[NewMessage],
) -> Result<HashMap<usize, Verdict>, sqlx::Error> {
    let mut idx = Vec::with_capacity(batch.len());
    let mut ids = Vec::with_capacity(batch.len());
    let mut channels = Vec::with_capacity(batch.len());
    let mut senders = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    let mut nonces = Vec::with_capacity(batch.len());
    for (i, m) in batch.iter().enumerate() {
        idx.push(i64::try_from(i).unwrap_or(i64::MAX));
        ids.push(m.id.as_uuid());
        channels.push(m.channel_id.as_uuid());
        senders.push(m.sender_id.as_uuid());
        replies.push(m.reply_to.map(|r| r.as_uuid()));
        nonces.push(m.nonce.as_deref());
    }
    // `m.nonce IS NOT NULL` lets the planner use the partial (sender_id, nonce) index.
    let found = sqlx::query(concat!(
        "SELECT v.i, u.id IS NOT NULL AS known, \
                EXISTS (SELECT 1 FROM messages x WHERE x.id = v.id) AS id_taken, \
                v.reply_to IS NULL OR EXISTS (SELECT 1 FROM messages r \
                    WHERE r.id = v.reply_to AND r.channel_id = v.channel_id) AS reply_ok, ",
        message_columns_m!(),
        " FROM UNNEST($1::bigint[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[]) \
              AS v(i, id, channel_id, sender_id, reply_to, nonce) \
         LEFT JOIN channels c ON c.id = v.channel_id \
         LEFT JOIN users u ON u.id = v.sender_id AND u.org_id = c.org_id \
         LEFT JOIN messages m ON m.nonce IS NOT NULL AND m.sender_id = v.sender_id \
                             AND m.nonce = v.nonce"
    ))
    .bind(&idx)
    .bind(&ids)
    .bind(&channels)
    .bind(&senders)
    .bind(&replies)
    .bind(&nonces)
    .fetch_all(&mut *tx)
    .await?;

    let mut verdicts = HashMap::with_capacity(found.len());
    for row in &found {
        let i: i64 = row.try_get("i")?;
        let stored_id: Option<Uuid> = row.try_get("id")?;
        let stored = match stored_id {
            Some(_) => Some(rows::message(row).map_err(|e| sqlx::Error::Decode(Box::new(e)))?),
            None => None,
        };
        let verdict = Verdict {
            stored,
            known: row.try_get("known")?,
            id_taken: row.try_get("id_taken")?,
            reply_ok: row.try_get("reply_ok")?,
        };
        if let Ok(i) = usize::try_from(i) {
            verdicts.insert(i, verdict);
        }
    }
    Ok(verdicts)
}

/// Locks and advances each channel by its count; returns each channel's first new seq.
async fn reserve_seqs(
    tx: &mut sqlx::PgConnection,
    per_channel: &HashMap<Uuid, i64>,
) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
    if per_channel.is_empty() {
        return Ok(HashMap::new());
    }
    let mut channels: Vec<Uuid> = per_channel.keys().copied().collect();
    channels.sort_unstable();
    let counts: Vec<i64> = channels.iter().map(|c| per_channel[c]).collect();

    // The CTE takes the row locks in id order before the UPDATE touches any row: the UPDATE can
    // only reach a channel through `locked`, whose rows come out of the sort already locked.
    let advanced: Vec<(Uuid, i64)> = sqlx::query_as(
        "WITH locked AS (SELECT id FROM channels WHERE id = ANY($1) ORDER BY id FOR UPDATE) \
         UPDATE channels c SET last_seq = c.last_seq + v.n \
         FROM UNNEST($1::uuid[], $2::bigint[]) AS v(id, n) \
         WHERE c.id = v.id AND c.id IN (SELECT id FROM locked) \
         RETURNING c.id, c.last_seq",
    )
    .bind(&channels)
    .bind(&counts)
    .fetch_all(&mut *tx)
    .await?;
    Ok(advanced
        .into_iter()
        .map(|(id, last)| (id, last - per_channel.get(&id).copied().unwrap_or(0) + 1))
        .collect())
}

async fn insert_accepted(
    tx: &mut sqlx::PgConnection,
    batch: &[NewMessage],
    outcomes: &[Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let mut ids = Vec::new();
    let mut channels = Vec::new();
    let mut seqs = Vec::new();
    let mut senders = Vec::new();
    let mut bodies = Vec::new();
    let mut replies = Vec::new();
    let mut mentions = Vec::new();
    let mut nonces = Vec::new();
    let mut times = Vec::new();
    for (msg, outcome) in batch.iter().zip(outcomes) {
        if let Some(Outcome::Accepted { seq }) = outcome {
            ids.push(msg.id.as_uuid());
            channels.push(msg.channel_id.as_uuid());
            seqs.push(*seq);
            senders.push(msg.sender_id.as_uuid());
            bodies.push(msg.body.as_str());
            replies.push(msg.reply_to.map(|r| r.as_uuid()));
            mentions.push(uuid_array_literal(&msg.mentions));
            nonces.push(msg.nonce.as_deref());
            times.push(millis::truncate(msg.created_at));
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    // Arrays of arrays do not UNNEST row by row, so mentions travel as array literals.
    sqlx::query(
        "INSERT INTO messages (id, channel_id, seq, sender_id, body, reply_to, mentions, nonce, \
                               created_at) \
         SELECT v.id, v.channel_id, v.seq, v.sender_id, v.body, v.reply_to, v.mentions::uuid[], \
                v.nonce, v.created_at \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], $6::uuid[], \
                     $7::text[], $8::text[], $9::timestamptz[]) \
              AS v(id, channel_id, seq, sender_id, body, reply_to, mentions, nonce, created_at)",
    )
    .bind(&ids)
    .bind(&channels)
    .bind(&seqs)
    .bind(&senders)
    .bind(&bodies)
    .bind(&replies)
    .bind(&mentions)
    .bind(&nonces)
    .bind(&times)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// `{id,id}`: hyphenated UUIDs contain nothing that needs quoting in an array literal.
fn uuid_array_literal(ids: &[atrium_core::ids::UserId]) -> String {
    let inner: Vec<String> = ids.iter().map(ToString::to_string).collect();
    format!("{{{}}}", inner.join(","))
}
