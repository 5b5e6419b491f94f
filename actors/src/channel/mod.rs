//! Channels: one `ChannelActor` per active channel, under the `ChannelSupervisor`.
//!
//! - [`actor`]: the actor (membership, seq order, fan-out, typing, receipts, replay).
//! - [`directory`]: finds or lazily starts a channel's actor and routes requests to it.
//! - [`supervisor`]: restarts a failed channel actor within its restart budget.
//! - [`pipeline`]: the per-channel commit pipeline in front of the group-commit writer.
//! - [`work`]: store round trips run beside the actor (edits, history, replay, …).
//! - [`subscribers`], [`ring`], [`sequencer`], [`mentions`]: the pure parts.

pub mod actor;
pub mod directory;
pub mod mentions;
pub mod pipeline;
pub mod ring;
pub mod sequencer;
pub mod subscribers;
pub mod supervisor;
pub mod work;

use std::sync::{Arc, Mutex};

use atrium_core::ids::{ChannelId, MessageId, OrgId, SessionId, UserId};
use atrium_core::model::Message;
use atrium_core::protocol::ErrorCode;

use crate::outbox::SessionOutbox;
use crate::slot::ActorSlot;
use crate::wire;
use subscribers::Subscribers;

/// A channel as seen from one organization. Channel actors are keyed by the requester's
/// organization as well as the channel id, so a request naming another tenant's channel reaches
/// an actor that finds no such channel (and answers `forbidden`): tenants never share an actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelKey {
    pub org: OrgId,
    pub channel: ChannelId,
}

/// Who sent a request, and where its reply goes.
#[derive(Clone, Debug)]
pub struct Requester {
    pub session: SessionId,
    pub user: UserId,
    /// The user's organization role (from the access token), for permission checks.
    pub role: atrium_core::rbac::Role,
    pub outbox: Arc<SessionOutbox>,
    /// The request id to echo; `None` for requests the server makes on the client's behalf
    /// (resume subscriptions from `hello`), whose failures are pushed as rid-less `err`s.
    pub rid: Option<u32>,
}

impl Requester {
    pub fn reply_err(&self, code: ErrorCode, message: &str) {
        wire::reply_err(&self.outbox, self.rid, code, message);
    }

    pub fn reply_ok(&self) {
        if let Some(rid) = self.rid {
            wire::reply(&self.outbox, &atrium_core::protocol::ServerFrame::ok(rid));
        }
    }
}

/// What a session asks of a channel.
#[derive(Clone, Debug)]
pub enum ChannelRequest {
    /// Start pushes; with `after`, first replay every message with a greater seq.
    Subscribe {
        after: Option<i64>,
    },
    Unsubscribe,
    Send {
        body: String,
        reply_to: Option<MessageId>,
        nonce: Option<String>,
    },
    Edit {
        id: MessageId,
        body: String,
    },
    Delete {
        id: MessageId,
    },
    React {
        id: MessageId,
        emoji: String,
        on: bool,
    },
    History {
        before_seq: Option<i64>,
        limit: u32,
    },
    Typing {
        on: bool,
    },
    Read {
        seq: i64,
    },
}

/// A change that a background store round trip produced, for the actor to publish.
#[derive(Debug)]
pub enum Outcome {
    Edited(Message),
    Deleted(Message),
    Reaction {
        id: MessageId,
        emoji: String,
        user: UserId,
        on: bool,
    },
    Read {
        user: UserId,
        seq: i64,
    },
    /// Messages fetched to fill a gap in the published seqs.
    Missing(Vec<Message>),
}

/// Messages of the channel actor.
pub enum ChannelMsg {
    /// A session's request (counted as pending until handled).
    Request {
        from: Requester,
        request: ChannelRequest,
    },
    /// A message committed through this channel's pipeline.
    Committed(Message),
    /// The result of work done beside the actor.
    Applied(Outcome),
    /// A replay task has pushed everything up to `upto` to `session`.
    ReplayDone { session: SessionId, upto: i64 },
    /// Check whether a seq gap is still open and fetch it.
    CheckGap,
    /// A typing indicator may have expired.
    TypingExpired { user: UserId, generation: u64 },
    /// Periodic: stop when idle.
    IdleTick,
    /// Memberships changed elsewhere (HTTP API): reload them.
    ReloadMembers,
    /// Test hook: panic inside the handler (fault-injection builds only).
    #[cfg(feature = "fault-injection")]
    Crash,
}

/// The part of a channel that outlives one incarnation of its actor: who is subscribed and what
/// they have been sent. A restarted actor rebuilds everything else from the store.
pub struct ChannelShared {
    pub key: ChannelKey,
    pub slot: ActorSlot<ChannelMsg>,
    pub subscribers: Mutex<Subscribers>,
    /// The last seq pushed to subscribers (-1 until the first incarnation loaded the channel).
    pub published: std::sync::atomic::AtomicI64,
}

impl ChannelShared {
    pub fn new(key: ChannelKey, replay_buffer: usize) -> Self {
        Self {
            key,
            slot: ActorSlot::new(),
            subscribers: Mutex::new(Subscribers::new(replay_buffer)),
            published: std::sync::atomic::AtomicI64::new(-1),
        }
    }

    pub fn subscribers(&self) -> std::sync::MutexGuard<'_, Subscribers> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }
}
