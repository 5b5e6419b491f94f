//! SQLite rows to domain records, and the column lists the queries select.
//!
//! Ids are 16-byte blobs, times unix milliseconds, booleans 0/1, mentions a concatenation of
//! 16-byte ids. Anything that does not decode is reported as `Corrupt`, never unwrapped.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

use atrium_core::ids::UserId;
use atrium_core::model::{
    AuditEntry, Channel, ChannelKind, ChannelMember, MemberRole, Message, MessageEdit,
    Organization, RefreshToken, Room, User,
};
use atrium_core::rbac::Role;

use crate::millis;
use crate::sql_error::corrupt;
use crate::store::StoreResult;

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

fn time(row: &SqliteRow, column: &str) -> StoreResult<OffsetDateTime> {
    millis::from_millis(get(row, column)?)
}

fn opt_time(row: &SqliteRow, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    get::<Option<i64>>(row, column)?
        .map(millis::from_millis)
        .transpose()
}

pub(super) fn org(row: &SqliteRow) -> StoreResult<Organization> {
    Ok(Organization {
        id: get::<Uuid>(row, "id")?.into(),
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn user(row: &SqliteRow) -> StoreResult<User> {
    let role: String = get(row, "role")?;
    Ok(User {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        username: get(row, "username")?,
        email: get(row, "email")?,
        password_hash: get(row, "password_hash")?,
        role: role.parse::<Role>().map_err(|e| corrupt("role", e))?,
        active: get(row, "active")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn token(row: &SqliteRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: get(row, "token_hash")?,
        user_id: get::<Uuid>(row, "user_id")?.into(),
        family_id: get::<Uuid>(row, "family_id")?.into(),
        expires_at: time(row, "expires_at")?,
        rotated_at: opt_time(row, "rotated_at")?,
        revoked: get(row, "revoked")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn channel(row: &SqliteRow) -> StoreResult<Channel> {
    let kind: String = get(row, "kind")?;
    Ok(Channel {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        name: get(row, "name")?,
        kind: ChannelKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        created_by: get::<Uuid>(row, "created_by")?.into(),
        created_at: time(row, "created_at")?,
        last_seq: get(row, "last_seq")?,
    })
}

pub(super) fn member(row: &SqliteRow) -> StoreResult<ChannelMember> {
    let role: String = get(row, "role")?;
    Ok(ChannelMember {
        channel_id: get::<Uuid>(row, "channel_id")?.into(),
        user_id: get::<Uuid>(row, "user_id")?.into(),
        role: MemberRole::parse(&role).ok_or_else(|| corrupt("member role", &role))?,
        last_read_seq: get(row, "last_read_seq")?,
        joined_at: time(row, "joined_at")?,
    })
}

pub(super) fn message(row: &SqliteRow) -> StoreResult<Message> {
    let mentions: Vec<u8> = get(row, "mentions")?;
    Ok(Message {
        id: get::<Uuid>(row, "id")?.into(),
        channel_id: get::<Uuid>(row, "channel_id")?.into(),
        seq: get(row, "seq")?,
        sender_id: get::<Uuid>(row, "sender_id")?.into(),
        body: get(row, "body")?,
        reply_to: get::<Option<Uuid>>(row, "reply_to")?.map(Into::into),
        mentions: decode_mentions(&mentions)?,
        nonce: get(row, "nonce")?,
        created_at: time(row, "created_at")?,
        edited_at: opt_time(row, "edited_at")?,
        deleted: get(row, "deleted")?,
    })
}

pub(super) fn edit(row: &SqliteRow) -> StoreResult<MessageEdit> {
    Ok(MessageEdit {
        message_id: get::<Uuid>(row, "message_id")?.into(),
        editor_id: get::<Uuid>(row, "editor_id")?.into(),
        previous_body: get(row, "previous_body")?,
        edited_at: time(row, "edited_at")?,
    })
}

pub(super) fn audit(row: &SqliteRow) -> StoreResult<AuditEntry> {
    let detail: String = get(row, "detail")?;
    Ok(AuditEntry {
        id: get(row, "id")?,
        org_id: get::<Uuid>(row, "org_id")?.into(),
        actor_id: get::<Option<Uuid>>(row, "actor_id")?.map(Into::into),
        action: get(row, "action")?,
        target: get(row, "target")?,
        detail: serde_json::from_str(&detail).map_err(|e| corrupt("audit detail", e))?,
        at: time(row, "at")?,
    })
}

/// Mentions as one blob: the 16 bytes of each id, back to back.
pub(super) fn encode_mentions(mentions: &[UserId]) -> Vec<u8> {
    mentions
        .iter()
        .flat_map(|m| *m.as_uuid().as_bytes())
        .collect()
}

fn decode_mentions(blob: &[u8]) -> StoreResult<Vec<UserId>> {
    let chunks = blob.chunks_exact(16);
    if !chunks.remainder().is_empty() {
        return Err(corrupt("mentions", format!("{} bytes", blob.len())));
    }
    Ok(chunks
        .map(|c| {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(c);
            UserId::from(Uuid::from_bytes(bytes))
        })
        .collect())
}

pub(super) fn room(row: &SqliteRow) -> StoreResult<Room> {
    let data: Option<String> = get(row, "template_data")?;
    let capacity: i64 = get(row, "capacity")?;
    Ok(Room {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        name: get(row, "name")?,
        template: get(row, "template")?,
        template_data: data
            .map(|text| serde_json::from_str(&text).map_err(|e| corrupt("template_data", e)))
            .transpose()?,
        channel_id: get::<Option<Uuid>>(row, "channel_id")?.map(Into::into),
        capacity: u32::try_from(capacity).map_err(|e| corrupt("capacity", e))?,
        created_by: get::<Uuid>(row, "created_by")?.into(),
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}
