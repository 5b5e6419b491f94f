//! Channels, their members, direct channels and message history.
//!
//! Who may do what:
//! - see or read a channel: its members; anyone in the organization for `org` channels; holders of
//!   `channels.manage` (moderators, admins) for every channel of their organization;
//! - add or remove members: the channel's owners and admins (with `channels.members.manage_own`)
//!   and holders of `channels.manage`; anyone may join an `org` channel or leave any channel.
//!
//! A channel of another organization always reads as "not found".

use atrium_core::ids::{ChannelId, OrgId, UserId};
use atrium_core::model::{Channel, ChannelKind, ChannelMember, MemberRole, Message};
use atrium_persistence::store::{ChannelView, Store, StoreError};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, AuditEvent, actions};
use super::clock;
use super::error::OrNotFound;
use super::users::user_in_org;
use super::{Caller, ServiceError, ServiceResult};

/// Longest channel name, in characters.
pub const CHANNEL_NAME_MAX: usize = 80;
/// Messages per history page when the client does not say.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// Most messages per history page.
pub const MAX_HISTORY_LIMIT: u32 = 200;

/// The caller's channels with unread counts.
pub async fn list_mine(store: &dyn Store, caller: &Caller) -> ServiceResult<Vec<ChannelView>> {
    caller.require("channels.read")?;
    Ok(store.list_channels_for_user(caller.id()).await?)
}

/// Creates a group, project or org channel with the caller as owner.
pub async fn create(
    store: &dyn Store,
    caller: &Caller,
    name: &str,
    kind: ChannelKind,
) -> ServiceResult<Channel> {
    caller.require("channels.create")?;
    if kind == ChannelKind::Direct {
        return Err(ServiceError::Invalid(
            "kind: direct channels are opened with POST /api/v1/channels/direct".into(),
        ));
    }
    let name = validate_channel_name(name)?;
    let channel = Channel {
        id: ChannelId::new(),
        org_id: caller.org(),
        name,
        kind,
        created_by: caller.id(),
        created_at: clock::now(),
        last_seq: 0,
    };
    store.create_channel(&channel).await?;
    audit_channel_created(store, caller, &channel).await;
    Ok(channel)
}

/// Trims and checks a channel name: 1–80 characters, no control characters.
pub fn validate_channel_name(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 {
        return Err(ServiceError::Invalid("name: must not be empty".into()));
    }
    if len > CHANNEL_NAME_MAX {
        return Err(ServiceError::Invalid(format!(
            "name: must be at most {CHANNEL_NAME_MAX} characters long (got {len})"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(
            "name: must not contain control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A channel the caller may see, with its members.
pub async fn get(
    store: &dyn Store,
    caller: &Caller,
    id: ChannelId,
) -> ServiceResult<(Channel, Vec<ChannelMember>)> {
    caller.require("channels.read")?;
    let channel = channel_in_org(store, caller, id).await?;
    ensure_visible(store, caller, &channel).await?;
    let members = store.list_members(id).await?;
    Ok((channel, members))
}

/// Adds `user` to the channel (idempotent: an existing member keeps their role).
pub async fn add_member(
    store: &dyn Store,
    caller: &Caller,
    id: ChannelId,
    user: UserId,
) -> ServiceResult<ChannelMember> {
    let channel = channel_in_org(store, caller, id).await?;
    if channel.kind == ChannelKind::Direct {
        return Err(ServiceError::Invalid(
            "members of a direct channel cannot change".into(),
        ));
    }
    let self_join = user == caller.id() && channel.kind == ChannelKind::Org;
    if !self_join && !may_manage_members(store, caller, &channel).await? {
        return Err(ServiceError::Forbidden(
            "only the channel's owners and admins can add members".into(),
        ));
    }
    let target = user_in_org(store, caller.org(), user).await?;
    let member = store
        .add_member(id, target.id, MemberRole::Member)
        .await
        .or_not_found("channel")?;
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action: actions::MEMBER_ADD,
            target: Some(id.to_string()),
            detail: json!({ "user_id": target.id }),
        },
    )
    .await;
    Ok(member)
}

/// Removes `user` from the channel. Anyone may remove themself (leave).
pub async fn remove_member(
    store: &dyn Store,
    caller: &Caller,
    id: ChannelId,
    user: UserId,
) -> ServiceResult<()> {
    let channel = channel_in_org(store, caller, id).await?;
    if channel.kind == ChannelKind::Direct {
        return Err(ServiceError::Invalid(
            "members of a direct channel cannot change".into(),
        ));
    }
    if user != caller.id() && !may_manage_members(store, caller, &channel).await? {
        return Err(ServiceError::Forbidden(
            "only the channel's owners and admins can remove other members".into(),
        ));
    }
    if !store.remove_member(id, user).await? {
        return Err(ServiceError::NotFound(
            "that user is not a member of this channel".into(),
        ));
    }
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action: actions::MEMBER_REMOVE,
            target: Some(id.to_string()),
            detail: json!({ "user_id": user }),
        },
    )
    .await;
    Ok(())
}

/// The direct channel between the caller and `other`, created if needed. The flag says whether
/// it was created now.
pub async fn open_direct(
    store: &dyn Store,
    caller: &Caller,
    other: UserId,
) -> ServiceResult<(Channel, bool)> {
    caller.require("messages.write")?;
    if other == caller.id() {
        return Err(ServiceError::Invalid(
            "user_id: a direct channel needs another user".into(),
        ));
    }
    let other = user_in_org(store, caller.org(), other).await?;
    if let Some(existing) = store
        .find_direct_channel(caller.org(), caller.id(), other.id)
        .await?
    {
        return Ok((existing, false));
    }
    let mut names = [caller.user.username.as_str(), other.username.as_str()];
    names.sort_unstable();
    let channel = Channel {
        id: direct_channel_id(caller.org(), caller.id(), other.id),
        org_id: caller.org(),
        name: names.join(", "),
        kind: ChannelKind::Direct,
        created_by: caller.id(),
        created_at: clock::now(),
        last_seq: 0,
    };
    match store.create_channel(&channel).await {
        Ok(()) => {}
        // Another request created the same pair's channel a moment ago: the id is derived from
        // the pair, so the insert clashed instead of making a second channel. Use theirs.
        Err(StoreError::Conflict(_)) => {
            let existing = store.get_channel(caller.org(), channel.id).await?;
            store
                .add_member(existing.id, other.id, MemberRole::Member)
                .await?;
            return Ok((existing, false));
        }
        Err(e) => return Err(e.into()),
    }
    store
        .add_member(channel.id, other.id, MemberRole::Member)
        .await?;
    audit_channel_created(store, caller, &channel).await;
    Ok((channel, true))
}

/// The one id a direct channel between two users of an organization can have (a name-based
/// UUID of the org and the ordered pair), so concurrent find-or-create calls, even on different
/// nodes, cannot make two channels for the same pair.
pub fn direct_channel_id(org: OrgId, a: UserId, b: UserId) -> ChannelId {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let name = format!("atrium.direct:{org}:{low}:{high}");
    ChannelId(Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()))
}

/// A page of history, oldest first: up to `limit` messages before `before_seq` (or the newest).
pub async fn history(
    store: &dyn Store,
    caller: &Caller,
    id: ChannelId,
    before_seq: Option<i64>,
    limit: Option<u32>,
) -> ServiceResult<Vec<Message>> {
    caller.require("messages.read")?;
    let limit = limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
    if !(1..=MAX_HISTORY_LIMIT).contains(&limit) {
        return Err(ServiceError::Invalid(format!(
            "limit: must be between 1 and {MAX_HISTORY_LIMIT}"
        )));
    }
    if before_seq.is_some_and(|s| s < 1) {
        return Err(ServiceError::Invalid(
            "before_seq: must be at least 1".into(),
        ));
    }
    let channel = channel_in_org(store, caller, id).await?;
    ensure_visible(store, caller, &channel).await?;
    Ok(store.history(id, before_seq, limit).await?)
}

async fn channel_in_org(
    store: &dyn Store,
    caller: &Caller,
    id: ChannelId,
) -> ServiceResult<Channel> {
    store
        .get_channel(caller.org(), id)
        .await
        .or_not_found("channel")
}

async fn membership(
    store: &dyn Store,
    channel: ChannelId,
    user: UserId,
) -> ServiceResult<Option<ChannelMember>> {
    match store.get_member(channel, user).await {
        Ok(m) => Ok(Some(m)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn ensure_visible(
    store: &dyn Store,
    caller: &Caller,
    channel: &Channel,
) -> ServiceResult<()> {
    if channel.kind == ChannelKind::Org || caller.can("channels.manage") {
        return Ok(());
    }
    match membership(store, channel.id, caller.id()).await? {
        Some(_) => Ok(()),
        None => Err(ServiceError::Forbidden(
            "you are not a member of this channel".into(),
        )),
    }
}

async fn may_manage_members(
    store: &dyn Store,
    caller: &Caller,
    channel: &Channel,
) -> ServiceResult<bool> {
    if caller.can("channels.manage") {
        return Ok(true);
    }
    if !caller.can("channels.members.manage_own") {
        return Ok(false);
    }
    Ok(membership(store, channel.id, caller.id())
        .await?
        .is_some_and(|m| matches!(m.role, MemberRole::Owner | MemberRole::Admin)))
}

async fn audit_channel_created(store: &dyn Store, caller: &Caller, channel: &Channel) {
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action: actions::CHANNEL_CREATE,
            target: Some(channel.id.to_string()),
            detail: json!({ "name": channel.name, "kind": channel.kind }),
        },
    )
    .await;
}
