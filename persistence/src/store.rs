//! The store traits: what the rest of Atrium may ask of the database.
//!
//! One trait per aggregate, one implementation per back end (`sqlite.rs`, `postgres.rs`). The
//! same conformance suite (`tests/store_suite.rs`) runs against both. Every method that takes an
//! id of a tenant-owned record is scoped by the caller's organization where a caller can name it,
//! so an id from another organization reads as "not found", never as another tenant's data.

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ids::{ChannelId, MessageId, OrgId, TokenFamilyId, UserId};
use atrium_core::model::{
    AuditEntry, Channel, ChannelMember, MemberRole, Message, MessageEdit, NewMessage, Organization,
    RefreshToken, User,
};
use atrium_core::rbac::Role;

pub use crate::room_store::{RoomStore, RoomUpdate};

/// Errors of the store layer. `Clone`, so the group-commit writer can hand one batch failure to
/// every caller of that batch.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or belongs to another organization).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names what clashed (e.g. `username`).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The database could not be reached or failed.
    #[error("database error: {0}")]
    Database(String),
    /// A stored value could not be turned back into a domain value.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Offset pagination with a hard upper bound on `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

impl Page {
    /// The largest page any list call returns.
    pub const MAX_LIMIT: u32 = 200;

    pub fn new(limit: u32, offset: u32) -> Self {
        Self {
            limit: limit.clamp(1, Self::MAX_LIMIT),
            offset,
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new(50, 0)
    }
}

/// A page of results with the total count of matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, org: &Organization) -> StoreResult<()>;
    async fn get_org(&self, id: OrgId) -> StoreResult<Organization>;
    async fn get_org_by_slug(&self, slug: &str) -> StoreResult<Organization>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict("username")` or `Conflict("email")` (both unique, case-insensitively).
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    /// Looks a user up by username or e-mail, case-insensitively.
    async fn find_user_by_login(&self, login: &str) -> StoreResult<User>;
    /// Users of `org` whose username is one of `usernames` (case-insensitive).
    async fn find_users_by_usernames(
        &self,
        org: OrgId,
        usernames: &[String],
    ) -> StoreResult<Vec<User>>;
    async fn list_users(&self, org: OrgId, page: Page) -> StoreResult<Paged<User>>;
    async fn count_users(&self) -> StoreResult<u64>;
    async fn set_user_active(&self, org: OrgId, id: UserId, active: bool) -> StoreResult<User>;
    async fn set_user_role(&self, org: OrgId, id: UserId, role: Role) -> StoreResult<User>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    /// Reads a token. `revoked` is true when any token of its family is revoked: revocation is
    /// per family, so a successor inserted after a concurrent revocation is dead too.
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<RefreshToken>;
    /// Marks the token rotated. Returns `false` if it was already rotated or revoked, itself or
    /// through its family (a race between two refreshes with the same token is reuse too).
    async fn mark_refresh_rotated(&self, token_hash: &str, at: OffsetDateTime)
    -> StoreResult<bool>;
    /// Revokes every token of a family (reuse detected, or logout).
    async fn revoke_token_family(&self, family: TokenFamilyId) -> StoreResult<u64>;
}

/// Server settings that must survive restarts and be shared by every node (e.g. the JWT secret).
#[async_trait]
pub trait SettingStore: Send + Sync {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` unless the key exists; returns the value that is stored afterwards (so two
    /// nodes starting at once agree on one secret).
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> StoreResult<String>;
}

/// A channel as one member sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelView {
    pub channel: Channel,
    pub member: ChannelMember,
    /// Messages after `member.last_read_seq` that are not deleted and not sent by the member.
    pub unread: u64,
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Creates the channel and adds `creator` as `Owner` in one transaction.
    async fn create_channel(&self, channel: &Channel) -> StoreResult<()>;
    /// A channel of `org` (NotFound for another organization's channel).
    async fn get_channel(&self, org: OrgId, id: ChannelId) -> StoreResult<Channel>;
    /// The channels `user` is a member of, with unread counts, newest activity first.
    async fn list_channels_for_user(&self, user: UserId) -> StoreResult<Vec<ChannelView>>;
    /// Adds a member; a member already present keeps their role (idempotent).
    async fn add_member(
        &self,
        channel: ChannelId,
        user: UserId,
        role: MemberRole,
    ) -> StoreResult<ChannelMember>;
    /// Returns whether a membership was removed.
    async fn remove_member(&self, channel: ChannelId, user: UserId) -> StoreResult<bool>;
    async fn get_member(&self, channel: ChannelId, user: UserId) -> StoreResult<ChannelMember>;
    async fn list_members(&self, channel: ChannelId) -> StoreResult<Vec<ChannelMember>>;
    /// The direct channel between two users of `org`, if it exists.
    async fn find_direct_channel(
        &self,
        org: OrgId,
        a: UserId,
        b: UserId,
    ) -> StoreResult<Option<Channel>>;
    /// Raises the member's last-read seq (never lowers it); returns the stored value.
    async fn mark_read(&self, channel: ChannelId, user: UserId, seq: i64) -> StoreResult<i64>;
}

/// The result of committing one message.
#[derive(Clone, Debug, PartialEq)]
pub enum Committed {
    /// Newly stored with a fresh seq.
    New(Message),
    /// The sender already used this nonce: the original message, nothing stored.
    Duplicate(Message),
}

impl Committed {
    pub fn message(&self) -> &Message {
        match self {
            Committed::New(m) | Committed::Duplicate(m) => m,
        }
    }
}

/// The most messages one `history` or `messages_after` call returns; larger limits are clamped.
pub const MAX_MESSAGES_PER_READ: u32 = 1000;

/// The most hits one `search_messages` call returns; larger limits are clamped.
pub const MAX_SEARCH_HITS: u32 = 100;

/// A search hit.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub message: Message,
    /// A short excerpt around the match.
    pub snippet: String,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Commits a batch in ONE transaction, assigning each channel's next seqs in order.
    /// Results are in input order. One bad message (e.g. unknown channel) fails only itself.
    async fn insert_messages(
        &self,
        batch: &[NewMessage],
    ) -> StoreResult<Vec<StoreResult<Committed>>>;
    async fn get_message(&self, channel: ChannelId, id: MessageId) -> StoreResult<Message>;
    /// Up to `limit` messages with seq < `before_seq` (or the newest), returned oldest first.
    async fn history(
        &self,
        channel: ChannelId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Up to `limit` messages with seq > `after_seq`, oldest first (resume replay).
    async fn messages_after(
        &self,
        channel: ChannelId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Replaces the body, records the previous one in the edit history, sets `edited_at`.
    async fn edit_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        editor: UserId,
        body: &str,
        mentions: &[UserId],
        at: OffsetDateTime,
    ) -> StoreResult<Message>;
    async fn message_edits(&self, id: MessageId) -> StoreResult<Vec<MessageEdit>>;
    /// Soft delete: the row stays (seq stays), the body is cleared, `deleted` is set.
    async fn delete_message(&self, channel: ChannelId, id: MessageId) -> StoreResult<Message>;
    /// Adds or removes a reaction; returns whether anything changed.
    async fn set_reaction(
        &self,
        id: MessageId,
        user: UserId,
        emoji: &str,
        on: bool,
    ) -> StoreResult<bool>;
    /// (emoji, users) for one message.
    async fn reactions(&self, id: MessageId) -> StoreResult<Vec<(String, Vec<UserId>)>>;
    /// Full-text search over non-deleted messages in channels `user` is a member of.
    async fn search_messages(
        &self,
        user: UserId,
        query: &str,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>>;
}

/// Filters for the audit log.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<UserId>,
    /// Exact action, or a prefix when it ends in `.*` (e.g. `auth.*`).
    pub action: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry; `entry.id` is ignored and the stored id returned.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<i64>;
    /// Newest first.
    async fn list_audit(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: Page,
    ) -> StoreResult<Paged<AuditEntry>>;
}

/// Everything a node needs from its database.
#[async_trait]
pub trait Store:
    OrgStore
    + UserStore
    + TokenStore
    + SettingStore
    + ChannelStore
    + MessageStore
    + AuditStore
    + crate::ai_store::AiHubStore
    + crate::ai_store::AiAdminStore
    + crate::ticket_store::TicketStore
    + RoomStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the pool after in-flight work.
    async fn close(&self);
}
