//! JSON shapes shared by several resources, and the documentation-only enums that describe the
//! domain enums in the OpenAPI document.

use atrium_core::ids::{ChannelId, MessageId, OrgId, UserId};
use atrium_core::model::{Channel, ChannelKind, ChannelMember, MemberRole, Message, User};
use atrium_core::rbac::Role;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use atrium_persistence::store::Page;

/// An organization role, as it appears in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum RoleName {
    Admin,
    Moderator,
    User,
    Guest,
}

/// A channel kind, as it appears in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum ChannelKindName {
    Group,
    Project,
    Org,
    Direct,
}

/// A member's role inside a channel, as it appears in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum MemberRoleName {
    Owner,
    Admin,
    Moderator,
    Member,
}

/// A user account (never with its password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "alice@example.com")]
    pub email: String,
    #[schema(value_type = RoleName)]
    pub role: Role,
    #[schema(value_type = uuid::Uuid)]
    pub organization_id: OrgId,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            role: u.role,
            organization_id: u.org_id,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

/// A channel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelInfo {
    #[schema(value_type = uuid::Uuid)]
    pub id: ChannelId,
    #[schema(value_type = uuid::Uuid)]
    pub organization_id: OrgId,
    #[schema(example = "design")]
    pub name: String,
    #[schema(value_type = ChannelKindName)]
    pub kind: ChannelKind,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The highest message sequence number in the channel (0 when empty).
    pub last_seq: i64,
}

impl From<Channel> for ChannelInfo {
    fn from(c: Channel) -> Self {
        Self {
            id: c.id,
            organization_id: c.org_id,
            name: c.name,
            kind: c.kind,
            created_by: c.created_by,
            created_at: c.created_at,
            last_seq: c.last_seq,
        }
    }
}

/// One member of a channel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberInfo {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    #[schema(value_type = MemberRoleName)]
    pub role: MemberRole,
    /// The highest seq this member has read.
    pub last_read_seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

impl From<ChannelMember> for MemberInfo {
    fn from(m: ChannelMember) -> Self {
        Self {
            user_id: m.user_id,
            role: m.role,
            last_read_seq: m.last_read_seq,
            joined_at: m.joined_at,
        }
    }
}

/// A chat message. A deleted message keeps its place (`seq`) with an empty body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageInfo {
    #[schema(value_type = uuid::Uuid)]
    pub id: MessageId,
    #[schema(value_type = uuid::Uuid)]
    pub channel_id: ChannelId,
    pub seq: i64,
    #[schema(value_type = uuid::Uuid)]
    pub sender_id: UserId,
    pub body: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub reply_to: Option<MessageId>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub mentions: Vec<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    pub deleted: bool,
}

impl From<Message> for MessageInfo {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            channel_id: m.channel_id,
            seq: m.seq,
            sender_id: m.sender_id,
            body: m.body,
            reply_to: m.reply_to,
            mentions: m.mentions,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
        }
    }
}

/// Offset pagination for list routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<u32>,
    /// Items to skip (default 0).
    pub offset: Option<u32>,
}

impl Pagination {
    /// The store page, or `400 invalid` for a limit outside 1–200.
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(Page::default().limit);
        if !(1..=Page::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(format!(
                "limit: must be between 1 and {}",
                Page::MAX_LIMIT
            )));
        }
        Ok(Page::new(limit, self.offset.unwrap_or(0)))
    }
}
