//! PostgreSQL rows to domain records. Native uuid, timestamptz, boolean, uuid[] and jsonb.

use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use atrium_core::model::{
    AuditEntry, Channel, ChannelKind, ChannelMember, MemberRole, Message, MessageEdit,
    Organization, RefreshToken, Room, User,
};
use atrium_core::rbac::Role;

use crate::sql_error::corrupt;
use crate::store::StoreResult;

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

pub(super) fn org(row: &PgRow) -> StoreResult<Organization> {
    Ok(Organization {
        id: get::<Uuid>(row, "id")?.into(),
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn user(row: &PgRow) -> StoreResult<User> {
    let role: String = get(row, "role")?;
    Ok(User {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        username: get(row, "username")?,
        email: get(row, "email")?,
        password_hash: get(row, "password_hash")?,
        role: role.parse::<Role>().map_err(|e| corrupt("role", e))?,
        active: get(row, "active")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn token(row: &PgRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: get(row, "token_hash")?,
        user_id: get::<Uuid>(row, "user_id")?.into(),
        family_id: get::<Uuid>(row, "family_id")?.into(),
        expires_at: get(row, "expires_at")?,
        rotated_at: get(row, "rotated_at")?,
        revoked: get(row, "revoked")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn channel(row: &PgRow) -> StoreResult<Channel> {
    let kind: String = get(row, "kind")?;
    Ok(Channel {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        name: get(row, "name")?,
        kind: ChannelKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        created_by: get::<Uuid>(row, "created_by")?.into(),
        created_at: get(row, "created_at")?,
        last_seq: get(row, "last_seq")?,
    })
}

pub(super) fn member(row: &PgRow) -> StoreResult<ChannelMember> {
    let role: String = get(row, "role")?;
    Ok(ChannelMember {
        channel_id: get::<Uuid>(row, "channel_id")?.into(),
        user_id: get::<Uuid>(row, "user_id")?.into(),
        role: MemberRole::parse(&role).ok_or_else(|| corrupt("member role", &role))?,
        last_read_seq: get(row, "last_read_seq")?,
        joined_at: get(row, "joined_at")?,
    })
}

pub(super) fn message(row: &PgRow) -> StoreResult<Message> {
    let mentions: Vec<Uuid> = get(row, "mentions")?;
    Ok(Message {
        id: get::<Uuid>(row, "id")?.into(),
        channel_id: get::<Uuid>(row, "channel_id")?.into(),
        seq: get(row, "seq")?,
        sender_id: get::<Uuid>(row, "sender_id")?.into(),
        body: get(row, "body")?,
        reply_to: get::<Option<Uuid>>(row, "reply_to")?.map(Into::into),
        mentions: mentions.into_iter().map(Into::into).collect(),
        nonce: get(row, "nonce")?,
        created_at: get(row, "created_at")?,
        edited_at: get(row, "edited_at")?,
        deleted: get(row, "deleted")?,
    })
}

pub(super) fn edit(row: &PgRow) -> StoreResult<MessageEdit> {
    Ok(MessageEdit {
        message_id: get::<Uuid>(row, "message_id")?.into(),
        editor_id: get::<Uuid>(row, "editor_id")?.into(),
        previous_body: get(row, "previous_body")?,
        edited_at: get(row, "edited_at")?,
    })
}

pub(super) fn audit(row: &PgRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: get(row, "id")?,
        org_id: get::<Uuid>(row, "org_id")?.into(),
        actor_id: get::<Option<Uuid>>(row, "actor_id")?.map(Into::into),
        action: get(row, "action")?,
        target: get(row, "target")?,
        detail: get(row, "detail")?,
        at: get(row, "at")?,
    })
}

pub(super) fn room(row: &PgRow) -> StoreResult<Room> {
    let capacity: i32 = get(row, "capacity")?;
    Ok(Room {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        name: get(row, "name")?,
        template: get(row, "template")?,
        template_data: get(row, "template_data")?,
        channel_id: get::<Option<Uuid>>(row, "channel_id")?.map(Into::into),
        capacity: u32::try_from(capacity).map_err(|e| corrupt("capacity", e))?,
        created_by: get::<Uuid>(row, "created_by")?.into(),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}
