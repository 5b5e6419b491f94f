//! Committing a batch of messages on SQLite: one transaction, per-channel seqs, nonce dedup.
//!
//! SQLite runs in-process, so a statement per message costs microseconds, not a network round
//! trip; the batch is therefore written row by row, which keeps each message's failure its own:
//! a failed INSERT rolls back only that statement, never the transaction. The next seq of each
//! channel is read once per batch, advanced in memory for every message that actually got in, and
//! written back once at the end, so a rejected message never leaves a gap.
//!
//! A repeated nonce is detected by the `(sender_id, nonce)` unique index itself: the INSERT fails,
//! and the original message (committed earlier or a moment ago in this very batch) is returned.

use std::collections::HashMap;

use uuid::Uuid;

use atrium_core::model::{Message, NewMessage};

use super::{SqliteStore, rows};
use crate::columns::message_columns;
use crate::store::{Committed, StoreError, StoreResult};
use crate::{millis, sql_error};

impl SqliteStore {
    pub(super) async fn commit_batch(
        &self,
        batch: &[NewMessage],
    ) -> StoreResult<Vec<StoreResult<Committed>>> {
        let mut tx = self.begin_write().await?;
        // channel -> (last seq as of now, whether this batch advanced it)
        let mut seqs: HashMap<Uuid, (i64, bool)> = HashMap::new();
        let mut results = Vec::with_capacity(batch.len());

        for msg in batch {
            let channel = msg.channel_id.as_uuid();
            let last_seq = match seqs.get(&channel) {
                Some((seq, _)) => *seq,
                None => {
                    let found: Option<i64> =
                        sqlx::query_scalar("SELECT last_seq FROM channels WHERE id = ?")
                            .bind(channel)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(sql_error::db)?;
                    match found {
                        Some(seq) => {
                            seqs.insert(channel, (seq, false));
                            seq
                        }
                        None => {
                            results.push(Err(StoreError::NotFound));
                            continue;
                        }
                    }
                }
            };

            let seq = last_seq + 1;
            let created_at = millis::truncate(msg.created_at);
            let mentions = rows::encode_mentions(&msg.mentions);
            // The sender must be a user of the channel's organization, and a reply must point at a
            // message of the same channel; otherwise no row is selected and nothing is inserted.
            let inserted = sqlx::query(
                "INSERT INTO messages (id, channel_id, seq, sender_id, body, reply_to, mentions, \
                 nonce, created_at) \
                 SELECT ?1, c.id, ?3, u.id, ?5, ?6, ?7, ?8, ?9 \
                 FROM channels c JOIN users u ON u.org_id = c.org_id \
                 WHERE c.id = ?2 AND u.id = ?4 AND (?6 IS NULL OR EXISTS \
                     (SELECT 1 FROM messages r WHERE r.id = ?6 AND r.channel_id = c.id))",
            )
            .bind(msg.id.as_uuid())
            .bind(channel)
            .bind(seq)
            .bind(msg.sender_id.as_uuid())
            .bind(&msg.body)
            .bind(msg.reply_to.map(|r| r.as_uuid()))
            .bind(mentions)
            .bind(msg.nonce.as_deref())
            .bind(millis::to_millis(created_at))
            .execute(&mut *tx)
            .await;

            let result = match inserted {
                Ok(done) if done.rows_affected() == 1 => {
                    seqs.insert(channel, (seq, true));
                    Ok(Committed::New(Message {
                        id: msg.id,
                        channel_id: msg.channel_id,
                        seq,
                        sender_id: msg.sender_id,
                        body: msg.body.clone(),
                        reply_to: msg.reply_to,
                        mentions: msg.mentions.clone(),
                        nonce: msg.nonce.clone(),
                        created_at,
                        edited_at: None,
                        deleted: false,
                    }))
                }
                Ok(_) => Err(StoreError::NotFound),
                Err(e) if sql_error::is_unique_violation(&e) => {
                    match original(&mut tx, msg).await? {
                        Some(m) => Ok(Committed::Duplicate(m)),
                        None => Err(StoreError::Conflict("message id".into())),
                    }
                }
                Err(e) if sql_error::is_row_constraint(&e) => {
                    Err(sql_error::write(e, "message", &[]))
                }
                // Anything else (I/O, a full disk) fails the whole batch: nothing is acknowledged.
                Err(e) => return Err(sql_error::db(e)),
            };
            results.push(result);
        }

        for (channel, (seq, advanced)) in &seqs {
            if *advanced {
                sqlx::query("UPDATE channels SET last_seq = ? WHERE id = ?")
                    .bind(seq)
                    .bind(channel)
                    .execute(&mut *tx)
                    .await
                    .map_err(sql_error::db)?;
            }
        }
        tx.commit().await.map_err(sql_error::db)?;
        Ok(results)
    }
}

/// The message this sender already stored under the same nonce, if any.
async fn original(
    tx: &mut sqlx::SqliteConnection,
    msg: &NewMessage,
) -> StoreResult<Option<Message>> {
    let Some(nonce) = msg.nonce.as_deref() else {
        return Ok(None);
    };
    let row = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE sender_id = ? AND nonce = ?"
    ))
    .bind(msg.sender_id.as_uuid())
    .bind(nonce)
    .fetch_optional(&mut *tx)
    .await
    .map_err(sql_error::db)?;
    row.as_ref().map(rows::message).transpose()
}
