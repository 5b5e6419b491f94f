//! Messages on SQLite: reads, edits, soft deletes, reactions and full-text search.

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ids::{ChannelId, MessageId, UserId};
use atrium_core::model::{Message, MessageEdit, NewMessage};

use super::{SqliteStore, rows};
use crate::columns::{message_columns, message_columns_m};
use crate::store::{
    Committed, MAX_MESSAGES_PER_READ, MAX_SEARCH_HITS, MessageStore, SearchHit, StoreError,
    StoreResult,
};
use crate::{fts_query, millis, reaction_groups, sql_error};

/// Words of context FTS5 puts in a search snippet.
const SNIPPET_TOKENS: i64 = 12;

#[async_trait]
impl MessageStore for SqliteStore {
    async fn insert_messages(
        &self,
        batch: &[NewMessage],
    ) -> StoreResult<Vec<StoreResult<Committed>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.commit_batch(batch).await
    }

    async fn get_message(&self, channel: ChannelId, id: MessageId) -> StoreResult<Message> {
        let row = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE id = ? AND channel_id = ?"
        ))
        .bind(id.as_uuid())
        .bind(channel.as_uuid())
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::message(&row)
    }

    async fn history(
        &self,
        channel: ChannelId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let rows = sqlx::query(concat!(
            "SELECT * FROM (SELECT ",
            message_columns!(),
            " FROM messages WHERE channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?) \
             ORDER BY seq"
        ))
        .bind(channel.as_uuid())
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(limit.min(MAX_MESSAGES_PER_READ))
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(rows::message).collect()
    }

    async fn messages_after(
        &self,
        channel: ChannelId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(channel.as_uuid())
        .bind(after_seq)
        .bind(limit.min(MAX_MESSAGES_PER_READ))
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(rows::message).collect()
    }

    async fn edit_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        editor: UserId,
        body: &str,
        mentions: &[UserId],
        at: OffsetDateTime,
    ) -> StoreResult<Message> {
        let mut tx = self.begin_write().await?;
        // A deleted message cannot be edited back to life.
        let previous: String = sqlx::query_scalar(
            "SELECT body FROM messages WHERE id = ? AND channel_id = ? AND deleted = 0",
        )
        .bind(id.as_uuid())
        .bind(channel.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        sqlx::query(
            "INSERT INTO message_edits (message_id, editor_id, previous_body, edited_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(id.as_uuid())
        .bind(editor.as_uuid())
        .bind(previous)
        .bind(millis::to_millis(at))
        .execute(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        let row = sqlx::query(concat!(
            "UPDATE messages SET body = ?, mentions = ?, edited_at = ? WHERE id = ? RETURNING ",
            message_columns!()
        ))
        .bind(body)
        .bind(rows::encode_mentions(mentions))
        .bind(millis::to_millis(at))
        .bind(id.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        let message = rows::message(&row)?;
        tx.commit().await.map_err(sql_error::db)?;
        Ok(message)
    }

    async fn message_edits(&self, id: MessageId) -> StoreResult<Vec<MessageEdit>> {
        let rows = sqlx::query(
            "SELECT message_id, editor_id, previous_body, edited_at FROM message_edits \
             WHERE message_id = ? ORDER BY id",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(rows::edit).collect()
    }

    async fn delete_message(&self, channel: ChannelId, id: MessageId) -> StoreResult<Message> {
        // The content goes, including its earlier versions; the row keeps its seq so the
        // channel's sequence stays gap-free for everyone resuming.
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(concat!(
            "UPDATE messages SET body = '', mentions = x'', deleted = 1 \
             WHERE id = ? AND channel_id = ? RETURNING ",
            message_columns!()
        ))
        .bind(id.as_uuid())
        .bind(channel.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        sqlx::query("DELETE FROM message_edits WHERE message_id = ?")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(sql_error::db)?;
        let message = rows::message(&row)?;
        tx.commit().await.map_err(sql_error::db)?;
        Ok(message)
    }

    async fn set_reaction(
        &self,
        id: MessageId,
        user: UserId,
        emoji: &str,
        on: bool,
    ) -> StoreResult<bool> {
        let done = if on {
            sqlx::query(
                "INSERT INTO reactions (message_id, user_id, emoji, created_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .bind(emoji)
            .bind(millis::to_millis(OffsetDateTime::now_utc()))
            .execute(&self.writer)
            .await
            .map_err(|e| sql_error::write(e, "reaction", &[]))?
        } else {
            sqlx::query("DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?")
                .bind(id.as_uuid())
                .bind(user.as_uuid())
                .bind(emoji)
                .execute(&self.writer)
                .await
                .map_err(sql_error::db)?
        };
        Ok(done.rows_affected() > 0)
    }

    async fn reactions(&self, id: MessageId) -> StoreResult<Vec<(String, Vec<UserId>)>> {
        let rows: Vec<(String, uuid::Uuid)> = sqlx::query_as(
            "SELECT emoji, user_id FROM reactions WHERE message_id = ? \
             ORDER BY created_at, emoji, user_id",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        Ok(reaction_groups::group(
            rows.into_iter().map(|(e, u)| (e, UserId::from(u))),
        ))
    }

    async fn search_messages(
        &self,
        user: UserId,
        query: &str,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        let Some(expr) = fts_query::to_fts5(query) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(concat!(
            "SELECT ",
            message_columns_m!(),
            ", snippet(messages_fts, 0, '', '', '…', ?3) AS snippet \
             FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid \
             WHERE messages_fts MATCH ?1 AND m.deleted = 0 \
               AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = ?2) \
             ORDER BY messages_fts.rank, m.created_at DESC LIMIT ?4"
        ))
        .bind(expr)
        .bind(user.as_uuid())
        .bind(SNIPPET_TOKENS)
        .bind(limit.min(MAX_SEARCH_HITS))
        .fetch_all(&self.reader)
        .await
        .map_err(|e| StoreError::Database(format!("search failed: {e}")))?;
        rows.iter()
            .map(|row| {
                Ok(SearchHit {
                    message: rows::message(row)?,
                    snippet: sqlx::Row::try_get(row, "snippet")
                        .map_err(|e| sql_error::corrupt("snippet", e))?,
                })
            })
            .collect()
    }
}
