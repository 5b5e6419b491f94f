//! The column lists every query selects, shared by both back ends.
//!
//! sqlx only takes SQL it can see is static, so the lists are macros that expand to literals and
//! queries are assembled with `concat!`. Both schemas use the same column names; the row mappers
//! in `sqlite/rows.rs` and `postgres/rows.rs` read exactly these.

macro_rules! org_columns {
    () => {
        "id, slug, name, created_at"
    };
}

macro_rules! user_columns {
    () => {
        "id, org_id, username, email, password_hash, role, active, created_at"
    };
}

macro_rules! token_columns {
    () => {
        "token_hash, user_id, family_id, expires_at, rotated_at, revoked, created_at"
    };
}

macro_rules! channel_columns {
    () => {
        "id, org_id, name, kind, created_by, created_at, last_seq"
    };
}

macro_rules! member_columns {
    () => {
        "channel_id, user_id, role, last_read_seq, joined_at"
    };
}

macro_rules! message_columns {
    () => {
        "id, channel_id, seq, sender_id, body, reply_to, mentions, nonce, created_at, edited_at, deleted"
    };
}

/// `message_columns!` qualified with the alias `m`, for joins with tables that share names.
macro_rules! message_columns_m {
    () => {
        "m.id, m.channel_id, m.seq, m.sender_id, m.body, m.reply_to, m.mentions, m.nonce, \
         m.created_at, m.edited_at, m.deleted"
    };
}

macro_rules! audit_columns {
    () => {
        "id, org_id, actor_id, action, target, detail, at"
    };
}

macro_rules! room_columns {
    () => {
        "id, org_id, name, template, template_data, channel_id, capacity, created_by, created_at, \
         updated_at"
    };
}

pub(crate) use {
    audit_columns, channel_columns, member_columns, message_columns, message_columns_m,
    org_columns, room_columns, token_columns, user_columns,
};
