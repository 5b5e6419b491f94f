//! Committing a batch of messages on SQLite: one transaction, a handful of statements.
//!
//! SQLite itself is fast per row, but every statement sqlx runs is a hop to the connection's
//! worker thread and back; a statement per message would spend most of a batch on hops. So the
//! batch travels as one JSON parameter and is written set-wise:
//!
//! 1. nonces already stored for their sender are looked up in one query (→ `Duplicate`);
//! 2. one `INSERT … SELECT FROM jsonb_each(?)` stores every message whose channel exists, whose
//!    sender belongs to the channel's organization, whose reply (if any) is in the same channel
//!    and whose id is free; a window function numbers each channel's messages from its
//!    `last_seq`, in batch order, over the rows that passed, so a rejected message leaves no gap;
//! 3. each channel's `last_seq` is advanced once.
//!
//! The write lock is held from `BEGIN IMMEDIATE` to `COMMIT`, so nothing changes between the
//! checks and the INSERT. Two messages of one batch with the same sender and nonce (or the same
//! id) never go into the same INSERT: the later one waits for the next round and becomes a
//! duplicate of (or a conflict with) the first if that was stored, or is tried itself if not.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use atrium_core::model::{Message, NewMessage};

use super::{SqliteStore, rows};
use crate::batch::{self, Outcome};
use crate::columns::message_columns;
use crate::store::{Committed, StoreError, StoreResult};
use crate::{millis, sql_error};

/// One message as the batch statements read it: `[position, id, channel, sender, body,
/// reply_to, mentions, nonce, created_at]`, ids as hex (JSON has no blobs).
#[derive(Serialize)]
struct JsonMessage<'a>(
    usize,
    String,
    String,
    String,
    &'a str,
    Option<String>,
    String,
    Option<&'a str>,
    i64,
);

impl SqliteStore {
    pub(super) async fn commit_batch(
        &self,
        batch: &[NewMessage],
    ) -> StoreResult<Vec<StoreResult<Committed>>> {
        let mut tx = self.begin_write().await?;
        let mut outcomes: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();

        let stored = stored_duplicates(&mut tx, batch).await?;
        for (outcome, msg) in outcomes.iter_mut().zip(batch) {
            if let Some(original) = msg
                .nonce
                .as_deref()
                .and_then(|n| stored.get(&(msg.sender_id.as_uuid(), n.to_owned())))
            {
                *outcome = Some(Outcome::Done(Ok(Committed::Duplicate(original.clone()))));
            }
        }

        let mut pending: Vec<usize> = (0..batch.len())
            .filter(|&i| outcomes[i].is_none())
            .collect();
        while !pending.is_empty() {
            let (round, twins) = split_twins(batch, &pending);
            let inserted = insert_round(&mut tx, batch, &round).await?;
            let failed: Vec<usize> = round
                .iter()
                .copied()
                .filter(|&i| !inserted.contains_key(&batch[i].id.as_uuid()))
                .collect();
            let taken = taken_ids(&mut tx, batch, &failed).await?;
            for &i in &round {
                let id = batch[i].id.as_uuid();
                outcomes[i] = Some(match inserted.get(&id) {
                    Some(&seq) => Outcome::Accepted { seq },
                    None if taken.contains(&id) => {
                        Outcome::Done(Err(StoreError::Conflict("message id".into())))
                    }
                    None => Outcome::Done(Err(StoreError::NotFound)),
                });
            }
            advance_channels(&mut tx, batch, &round, &outcomes).await?;

            pending = Vec::new();
            for (i, first) in twins {
                let first_stored = matches!(outcomes[first], Some(Outcome::Accepted { .. }));
                let same_nonce = batch[i].nonce.is_some() && batch[i].nonce == batch[first].nonce;
                outcomes[i] = match (first_stored, same_nonce) {
                    (true, true) => Some(Outcome::SameAs(first)),
                    (true, false) => Some(Outcome::Done(Err(StoreError::Conflict(
                        "message id".into(),
                    )))),
                    (false, _) => {
                        pending.push(i);
                        None
                    }
                };
            }
        }

        tx.commit().await.map_err(sql_error::db)?;
        Ok(batch::resolve(batch, outcomes))
    }
}

/// Splits `pending` into the messages that can go into one INSERT and the later ones that
/// share a (sender, nonce) or an id with an earlier one (paired with that earlier position).
fn split_twins(batch: &[NewMessage], pending: &[usize]) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut round = Vec::with_capacity(pending.len());
    let mut twins = Vec::new();
    let mut ids: HashMap<Uuid, usize> = HashMap::new();
    let mut nonces: HashMap<(Uuid, &str), usize> = HashMap::new();
    for &i in pending {
        let msg = &batch[i];
        let by_nonce = msg
            .nonce
            .as_deref()
            .and_then(|n| nonces.get(&(msg.sender_id.as_uuid(), n)).copied());
        match by_nonce.or_else(|| ids.get(&msg.id.as_uuid()).copied()) {
            Some(first) => twins.push((i, first)),
            None => {
                ids.insert(msg.id.as_uuid(), i);
                if let Some(n) = msg.nonce.as_deref() {
                    nonces.insert((msg.sender_id.as_uuid(), n), i);
                }
                round.push(i);
            }
        }
    }
    (round, twins)
}

fn hex(id: Uuid) -> String {
    id.simple().to_string()
}

fn to_json(batch: &[NewMessage], positions: &[usize]) -> StoreResult<String> {
    let rows: Vec<JsonMessage<'_>> = positions
        .iter()
        .map(|&i| {
            let m = &batch[i];
            JsonMessage(
                i,
                hex(m.id.as_uuid()),
                hex(m.channel_id.as_uuid()),
                hex(m.sender_id.as_uuid()),
                &m.body,
                m.reply_to.map(|r| hex(r.as_uuid())),
                m.mentions.iter().map(|u| hex(u.as_uuid())).collect(),
                m.nonce.as_deref(),
                millis::to_millis(m.created_at),
            )
        })
        .collect();
    serde_json::to_string(&rows).map_err(|e| StoreError::Database(format!("encoding batch: {e}")))
}

/// Messages already stored under the batch's (sender, nonce) pairs, keyed by that pair.
async fn stored_duplicates(
    tx: &mut sqlx::SqliteConnection,
    batch: &[NewMessage],
) -> StoreResult<HashMap<(Uuid, String), Message>> {
    let pairs: Vec<(String, &str)> = batch
        .iter()
        .filter_map(|m| Some((hex(m.sender_id.as_uuid()), m.nonce.as_deref()?)))
        .collect();
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs = serde_json::to_string(&pairs)
        .map_err(|e| StoreError::Database(format!("encoding nonces: {e}")))?;
    let found = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE nonce IS NOT NULL AND (sender_id, nonce) IN \
         (SELECT unhex(j.value ->> 0), j.value ->> 1 FROM jsonb_each(?) j)"
    ))
    .bind(pairs)
    .fetch_all(&mut *tx)
    .await
    .map_err(sql_error::db)?;
    let mut stored = HashMap::with_capacity(found.len());
    for row in &found {
        let message = rows::message(row)?;
        if let Some(nonce) = message.nonce.clone() {
            stored.insert((message.sender_id.as_uuid(), nonce), message);
        }
    }
    Ok(stored)
}

/// Inserts every valid message of `round`; returns the seq of each one stored, by id.
async fn insert_round(
    tx: &mut sqlx::SqliteConnection,
    batch: &[NewMessage],
    round: &[usize],
) -> StoreResult<HashMap<Uuid, i64>> {
    if round.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "INSERT INTO messages (id, channel_id, seq, sender_id, body, reply_to, mentions, nonce, \
                               created_at) \
         SELECT unhex(j.value ->> 1), c.id, \
                c.last_seq + ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY j.value ->> 0), \
                u.id, j.value ->> 4, unhex(j.value ->> 5), unhex(j.value ->> 6), \
                j.value ->> 7, j.value ->> 8 \
         FROM jsonb_each(?) j \
         JOIN channels c ON c.id = unhex(j.value ->> 2) \
         JOIN users u ON u.id = unhex(j.value ->> 3) AND u.org_id = c.org_id \
         WHERE NOT EXISTS (SELECT 1 FROM messages x WHERE x.id = unhex(j.value ->> 1)) \
           AND (j.value ->> 5 IS NULL OR EXISTS (SELECT 1 FROM messages r \
                WHERE r.id = unhex(j.value ->> 5) AND r.channel_id = c.id)) \
         RETURNING id, seq",
    )
    .bind(to_json(batch, round)?)
    .fetch_all(&mut *tx)
    .await
    .map_err(sql_error::db)?;
    Ok(rows.into_iter().collect())
}

/// Which of the messages at `positions` have an id that is already stored.
async fn taken_ids(
    tx: &mut sqlx::SqliteConnection,
    batch: &[NewMessage],
    positions: &[usize],
) -> StoreResult<Vec<Uuid>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = positions
        .iter()
        .map(|&i| hex(batch[i].id.as_uuid()))
        .collect();
    let ids = serde_json::to_string(&ids)
        .map_err(|e| StoreError::Database(format!("encoding ids: {e}")))?;
    sqlx::query_scalar(
        "SELECT id FROM messages WHERE id IN (SELECT unhex(value) FROM json_each(?))",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(sql_error::db)
}

/// Moves each channel's `last_seq` to the highest seq this round stored in it.
async fn advance_channels(
    tx: &mut sqlx::SqliteConnection,
    batch: &[NewMessage],
    round: &[usize],
    outcomes: &[Option<Outcome>],
) -> StoreResult<()> {
    let mut highest: HashMap<Uuid, i64> = HashMap::new();
    for &i in round {
        if let Some(Outcome::Accepted { seq }) = outcomes[i] {
            let top = highest.entry(batch[i].channel_id.as_uuid()).or_insert(seq);
            *top = (*top).max(seq);
        }
    }
    if highest.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(String, i64)> = highest.into_iter().map(|(c, s)| (hex(c), s)).collect();
    let pairs = serde_json::to_string(&pairs)
        .map_err(|e| StoreError::Database(format!("encoding seqs: {e}")))?;
    sqlx::query(
        "UPDATE channels SET last_seq = j.value ->> 1 FROM jsonb_each(?) j \
         WHERE channels.id = unhex(j.value ->> 0)",
    )
    .bind(pairs)
    .execute(&mut *tx)
    .await
    .map_err(sql_error::db)?;
    Ok(())
}
