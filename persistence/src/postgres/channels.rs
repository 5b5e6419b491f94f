//! Channels and memberships on PostgreSQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ids::{ChannelId, OrgId, UserId};
use atrium_core::model::{Channel, ChannelMember, MemberRole};

use super::{PgStore, rows};
use crate::columns::{channel_columns, member_columns};
use crate::store::{ChannelStore, ChannelView, StoreError, StoreResult};
use crate::{millis, sql_error};

#[async_trait]
impl ChannelStore for PgStore {
    async fn create_channel(&self, channel: &Channel) -> StoreResult<()> {
        let created_at = millis::truncate(channel.created_at);
        let mut tx = self.pool.begin().await.map_err(sql_error::db)?;
        // The creator must belong to the channel's organization, or nothing is inserted.
        let inserted = sqlx::query(concat!(
            "INSERT INTO channels (",
            channel_columns!(),
            ") SELECT $1, $2, $3, $4, $5, $6, 0 FROM users WHERE id = $5 AND org_id = $2"
        ))
        .bind(channel.id.as_uuid())
        .bind(channel.org_id.as_uuid())
        .bind(&channel.name)
        .bind(channel.kind.as_str())
        .bind(channel.created_by.as_uuid())
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "channel", &[]))?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(concat!(
            "INSERT INTO channel_members (",
            member_columns!(),
            ") VALUES ($1, $2, $3, 0, $4)"
        ))
        .bind(channel.id.as_uuid())
        .bind(channel.created_by.as_uuid())
        .bind(MemberRole::Owner.as_str())
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "channel member", &[]))?;
        tx.commit().await.map_err(sql_error::db)
    }

    async fn get_channel(&self, org: OrgId, id: ChannelId) -> StoreResult<Channel> {
        let row = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels WHERE id = $1 AND org_id = $2"
        ))
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(sql_error::db)?;
        rows::channel(&row)
    }

    async fn list_channels_for_user(&self, user: UserId) -> StoreResult<Vec<ChannelView>> {
        // Column names of `channels` and `channel_members` do not overlap, so the shared lists
        // can be selected unqualified from the join.
        let rows = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            ", ",
            member_columns!(),
            ", (SELECT COUNT(*) FROM messages x WHERE x.channel_id = c.id \
                 AND x.seq > m.last_read_seq AND NOT x.deleted AND x.sender_id <> m.user_id) AS unread, \
               COALESCE((SELECT x.created_at FROM messages x WHERE x.channel_id = c.id \
                 ORDER BY x.seq DESC LIMIT 1), c.created_at) AS activity \
             FROM channel_members m JOIN channels c ON c.id = m.channel_id \
             WHERE m.user_id = $1 ORDER BY activity DESC, c.id"
        ))
        .bind(user.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(sql_error::db)?;
        rows.iter()
            .map(|row| {
                let unread: i64 = sqlx::Row::try_get(row, "unread")
                    .map_err(|e| sql_error::corrupt("unread", e))?;
                Ok(ChannelView {
                    channel: rows::channel(row)?,
                    member: rows::member(row)?,
                    unread: u64::try_from(unread).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn add_member(
        &self,
        channel: ChannelId,
        user: UserId,
        role: MemberRole,
    ) -> StoreResult<ChannelMember> {
        // Only a user of the channel's organization can join; a newcomer starts with everything
        // already in the channel marked read, so joining does not flood their unread count.
        sqlx::query(concat!(
            "INSERT INTO channel_members (",
            member_columns!(),
            ") SELECT c.id, u.id, $1, c.last_seq, $2 FROM channels c \
             JOIN users u ON u.org_id = c.org_id WHERE c.id = $3 AND u.id = $4 \
             ON CONFLICT (channel_id, user_id) DO NOTHING"
        ))
        .bind(role.as_str())
        .bind(millis::truncate(OffsetDateTime::now_utc()))
        .bind(channel.as_uuid())
        .bind(user.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(|e| sql_error::write(e, "channel member", &[]))?;
        self.get_member(channel, user).await
    }

    async fn remove_member(&self, channel: ChannelId, user: UserId) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
                .bind(channel.as_uuid())
                .bind(user.as_uuid())
                .execute(&self.pool)
                .await
                .map_err(sql_error::db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_member(&self, channel: ChannelId, user: UserId) -> StoreResult<ChannelMember> {
        let row = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM channel_members WHERE channel_id = $1 AND user_id = $2"
        ))
        .bind(channel.as_uuid())
        .bind(user.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(sql_error::db)?;
        rows::member(&row)
    }

    async fn list_members(&self, channel: ChannelId) -> StoreResult<Vec<ChannelMember>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM channel_members WHERE channel_id = $1 ORDER BY joined_at, user_id"
        ))
        .bind(channel.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(rows::member).collect()
    }

    async fn find_direct_channel(
        &self,
        org: OrgId,
        a: UserId,
        b: UserId,
    ) -> StoreResult<Option<Channel>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels WHERE org_id = $1 AND kind = 'direct' \
             AND id IN (SELECT channel_id FROM channel_members WHERE user_id = $2) \
             AND id IN (SELECT channel_id FROM channel_members WHERE user_id = $3) \
             ORDER BY created_at, id LIMIT 1"
        ))
        .bind(org.as_uuid())
        .bind(a.as_uuid())
        .bind(b.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(sql_error::db)?;
        row.as_ref().map(rows::channel).transpose()
    }

    async fn mark_read(&self, channel: ChannelId, user: UserId, seq: i64) -> StoreResult<i64> {
        // Never lowers, and never runs ahead of what the channel holds (a client claiming to have
        // read seq 10^9 would otherwise hide every future message from its unread count).
        sqlx::query_scalar(
            "UPDATE channel_members SET last_read_seq = GREATEST(last_read_seq, \
                 LEAST($1, (SELECT last_seq FROM channels WHERE id = channel_members.channel_id))) \
             WHERE channel_id = $2 AND user_id = $3 RETURNING last_read_seq",
        )
        .bind(seq)
        .bind(channel.as_uuid())
        .bind(user.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(sql_error::db)
    }
}
