//! Messages on PostgreSQL: reads, edits, soft deletes, reactions and full-text search.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use atrium_core::ids::{ChannelId, MessageId, UserId};
use atrium_core::model::{Message, MessageEdit, NewMessage};

use super::{PgStore, rows};
use crate::columns::{message_columns, message_columns_m};
use crate::store::{
    Committed, MAX_MESSAGES_PER_READ, MAX_SEARCH_HITS, MessageStore, SearchHit, StoreError,
    StoreResult,
};
use crate::{millis, reaction_groups, sql_error};

#[async_trait]
impl MessageStore for PgStore {
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
            " FROM messages WHERE id = $1 AND channel_id = $2"
        ))
        .bind(id.as_uuid())
        .bind(channel.as_uuid())
        .fetch_one(&self.pool)
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
            " FROM messages WHERE channel_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) page \
             ORDER BY seq"
        ))
        .bind(channel.as_uuid())
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(i64::from(limit.min(MAX_MESSAGES_PER_READ)))
        .fetch_all(&self.pool)
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
            " FROM messages WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(channel.as_uuid())
        .bind(after_seq)
        .bind(i64::from(limit.min(MAX_MESSAGES_PER_READ)))
        .fetch_all(&self.pool)
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
        let at = millis::truncate(at);
        let mut tx = self.pool.begin().await.map_err(sql_error::db)?;
        // FOR UPDATE: two concurrent edits each record the body the other replaced.
        // A deleted message cannot be edited back to life.
        let previous: String = sqlx::query_scalar(
            "SELECT body FROM messages WHERE id = $1 AND channel_id = $2 AND NOT deleted \
             FOR UPDATE",
        )
        .bind(id.as_uuid())
        .bind(channel.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        sqlx::query(
            "INSERT INTO message_edits (message_id, editor_id, previous_body, edited_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id.as_uuid())
        .bind(editor.as_uuid())
        .bind(previous)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        let mentions: Vec<Uuid> = mentions.iter().map(UserId::as_uuid).collect();
        let row = sqlx::query(concat!(
            "UPDATE messages SET body = $1, mentions = $2, edited_at = $3 WHERE id = $4 RETURNING ",
            message_columns!()
        ))
        .bind(body)
        .bind(mentions)
        .bind(at)
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
             WHERE message_id = $1 ORDER BY id",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(rows::edit).collect()
    }

    async fn delete_message(&self, channel: ChannelId, id: MessageId) -> StoreResult<Message> {
        // The content goes, including its earlier versions; the row keeps its seq so the
        // channel's sequence stays gap-free for everyone resuming.
        let mut tx = self.pool.begin().await.map_err(sql_error::db)?;
        let row = sqlx::query(concat!(
            "UPDATE messages SET body = '', mentions = '{}', deleted = true \
             WHERE id = $1 AND channel_id = $2 RETURNING ",
            message_columns!()
        ))
        .bind(id.as_uuid())
        .bind(channel.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        sqlx::query("DELETE FROM message_edits WHERE message_id = $1")
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
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .bind(emoji)
            .bind(millis::truncate(OffsetDateTime::now_utc()))
            .execute(&self.pool)
            .await
            .map_err(|e| sql_error::write(e, "reaction", &[]))?
        } else {
            sqlx::query(
                "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
            )
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .bind(emoji)
            .execute(&self.pool)
            .await
            .map_err(sql_error::db)?
        };
        Ok(done.rows_affected() > 0)
    }

    async fn reactions(&self, id: MessageId) -> StoreResult<Vec<(String, Vec<UserId>)>> {
        let rows: Vec<(String, Uuid)> = sqlx::query_as(
            "SELECT emoji, user_id FROM reactions WHERE message_id = $1 \
             ORDER BY created_at, emoji, user_id",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
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
        if query.trim().is_empty() {
            return Ok(Vec::new());
        }
        // websearch_to_tsquery accepts any text (quotes, `-word`, `or`) without syntax errors.
        let rows = sqlx::query(concat!(
            "SELECT ",
            message_columns_m!(),
            ", ts_headline('simple', m.body, q, \
                 'MaxFragments=1, MaxWords=12, MinWords=5, StartSel=\"\", StopSel=\"\"') AS snippet \
             FROM messages m, websearch_to_tsquery('simple', $1) q \
             WHERE m.search @@ q AND NOT m.deleted \
               AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $2) \
             ORDER BY ts_rank(m.search, q) DESC, m.created_at DESC LIMIT $3"
        ))
        .bind(query)
        .bind(user.as_uuid())
        .bind(i64::from(limit.min(MAX_SEARCH_HITS)))
        .fetch_all(&self.pool)
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
