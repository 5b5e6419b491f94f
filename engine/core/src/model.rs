//! Domain records shared by the store, the actors and the HTTP API.
//!
//! These are plain data: no I/O, no database types. The store maps rows to them; the gateway
//! turns them into JSON (a password hash never leaves the server: it is skipped when serialising).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{ChannelId, MessageId, OrgId, RoomId, TokenFamilyId, UserId};
use crate::rbac::Role;

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    /// Unique, URL-safe name (`default` for the organization new users join).
    pub slug: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: String,
    pub email: String,
    /// argon2id PHC string. Never serialised.
    #[serde(skip_serializing, default)]
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a channel is for. Direct channels have exactly two members and are found, not named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Group,
    Project,
    /// Every member of the organization may join.
    Org,
    Direct,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Group => "group",
            ChannelKind::Project => "project",
            ChannelKind::Org => "org",
            ChannelKind::Direct => "direct",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "group" => ChannelKind::Group,
            "project" => ChannelKind::Project,
            "org" => ChannelKind::Org,
            "direct" => ChannelKind::Direct,
            _ => return None,
        })
    }
}

/// A channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub org_id: OrgId,
    pub name: String,
    pub kind: ChannelKind,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Highest `seq` committed in this channel (0 when empty).
    pub last_seq: i64,
}

/// A member's role inside one channel (independent of the organization role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Created the channel; may manage members.
    Owner,
    Admin,
    Moderator,
    Member,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Admin => "admin",
            MemberRole::Moderator => "moderator",
            MemberRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "owner" => MemberRole::Owner,
            "admin" => MemberRole::Admin,
            "moderator" => MemberRole::Moderator,
            "member" => MemberRole::Member,
            _ => return None,
        })
    }

    /// Owners, admins and moderators may delete other people's messages.
    pub fn can_moderate(self) -> bool {
        !matches!(self, MemberRole::Member)
    }
}

/// One user's membership of one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMember {
    pub channel_id: ChannelId,
    pub user_id: UserId,
    pub role: MemberRole,
    /// The highest seq this member has read (0 = nothing).
    pub last_read_seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

/// A committed chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// Position in the channel, 1-based, gap-free, unique per channel.
    pub seq: i64,
    pub sender_id: UserId,
    pub body: String,
    pub reply_to: Option<MessageId>,
    /// Users named with `@username` in the body (resolved inside the organization).
    pub mentions: Vec<UserId>,
    /// Client idempotency key, unique per sender.
    pub nonce: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    pub deleted: bool,
}

/// A message to be committed; the store assigns `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub sender_id: UserId,
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub mentions: Vec<UserId>,
    pub nonce: Option<String>,
    pub created_at: OffsetDateTime,
}

/// One earlier version of an edited message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdit {
    pub message_id: MessageId,
    pub editor_id: UserId,
    pub previous_body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub edited_at: OffsetDateTime,
}

/// A stored refresh token (only its SHA-256 hash is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub user_id: UserId,
    pub family_id: TokenFamilyId,
    pub expires_at: OffsetDateTime,
    /// Set once the token was exchanged for a new pair; a second use is reuse.
    pub rotated_at: Option<OffsetDateTime>,
    pub revoked: bool,
    pub created_at: OffsetDateTime,
}

/// One audit-log entry: who did what to which target. Never message contents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub org_id: OrgId,
    pub actor_id: Option<UserId>,
    /// Dotted verb, e.g. `auth.login`, `channel.create`, `user.deactivate`.
    pub action: String,
    /// What was acted on (an id or a name), if anything.
    pub target: Option<String>,
    /// Structured detail (before/after values, reasons). No secrets, no message bodies.
    pub detail: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The template name of a room whose whole template is its own `template_data`.
pub const CUSTOM_ROOM_TEMPLATE: &str = "custom";

/// A virtual room: a named place of an organization, simulated from a template.
///
/// `template` names a template of the node's catalog (`theater`, `gallery`, …, or one loaded from
/// the templates directory); `template_data` is then an optional JSON merge patch over it (a new
/// title, other audio settings). With `template = "custom"`, `template_data` is the complete
/// template. The resolved template is validated by the simulation before a room opens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub org_id: OrgId,
    pub name: String,
    pub template: String,
    pub template_data: Option<serde_json::Value>,
    /// The chat channel for text chat in the room, if linked.
    pub channel_id: Option<ChannelId>,
    /// Most avatars at once (replaces the template's capacity).
    pub capacity: u32,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
