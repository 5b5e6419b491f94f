//! Small factories for the records the cases need.

use std::sync::Arc;

use time::OffsetDateTime;

use atrium_core::ids::{ChannelId, MessageId, OrgId, UserId};
use atrium_core::model::{Channel, ChannelKind, Message, NewMessage, Organization, User};
use atrium_core::rbac::Role;
use atrium_persistence::store::{Committed, Store};

/// A timestamp with sub-millisecond digits, to prove the store keeps milliseconds exactly.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `t` cut to the millisecond, as the store returns it.
pub fn ms(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_millisecond(t.millisecond()).unwrap()
}

pub async fn org(store: &Arc<dyn Store>, slug: &str) -> Organization {
    let org = Organization {
        id: OrgId::new(),
        slug: slug.to_owned(),
        name: format!("Org {slug}"),
        created_at: now(),
    };
    store.create_org(&org).await.expect("create org");
    org
}

pub fn user_record(org: OrgId, username: &str) -> User {
    User {
        id: UserId::new(),
        org_id: org,
        username: username.to_owned(),
        email: format!("{username}@example.org"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        role: Role::User,
        active: true,
        created_at: now(),
    }
}

pub async fn user(store: &Arc<dyn Store>, org: OrgId, username: &str) -> User {
    let user = user_record(org, username);
    store.create_user(&user).await.expect("create user");
    user
}

pub fn channel_record(org: OrgId, creator: UserId, kind: ChannelKind, name: &str) -> Channel {
    Channel {
        id: ChannelId::new(),
        org_id: org,
        name: name.to_owned(),
        kind,
        created_by: creator,
        created_at: now(),
        last_seq: 0,
    }
}

pub async fn channel(store: &Arc<dyn Store>, org: OrgId, creator: UserId, name: &str) -> Channel {
    let channel = channel_record(org, creator, ChannelKind::Group, name);
    store
        .create_channel(&channel)
        .await
        .expect("create channel");
    channel
}

pub fn new_message(channel: ChannelId, sender: UserId, body: &str) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        channel_id: channel,
        sender_id: sender,
        body: body.to_owned(),
        reply_to: None,
        mentions: Vec::new(),
        nonce: None,
        created_at: now(),
    }
}

/// Commits one message and expects it to be new.
pub async fn send(
    store: &Arc<dyn Store>,
    channel: ChannelId,
    sender: UserId,
    body: &str,
) -> Message {
    commit_one(store, new_message(channel, sender, body)).await
}

pub async fn commit_one(store: &Arc<dyn Store>, msg: NewMessage) -> Message {
    let mut results = store.insert_messages(&[msg]).await.expect("batch commits");
    match results.pop().expect("one result").expect("message commits") {
        Committed::New(m) => m,
        Committed::Duplicate(m) => panic!("unexpected duplicate {m:?}"),
    }
}
