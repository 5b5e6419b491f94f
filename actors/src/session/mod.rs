//! Sessions: one `SessionActor` per connection, under the `SessionSupervisor`.
//!
//! - [`actor`]: the actor (welcome, resume, routing requests to channels, cleanup).
//! - [`registry`]: the live sessions, and starting/restarting their actors.
//! - [`supervisor`]: restarts a failed session actor within its restart budget.
//! - [`handle`]: what the transport holds: send requests in, read frames out of the outbox.
//!
//! The session layer knows nothing about sockets: a transport authenticates `hello`, opens a
//! session with [`crate::Realtime::open_session`], feeds it decoded [`ClientFrame`]s and writes
//! whatever appears in its [`SessionOutbox`]. WebSocket does that today; WebTransport will too.

pub mod actor;
pub mod handle;
pub mod registry;
pub mod supervisor;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use atrium_core::auth::AccessClaims;
use atrium_core::ids::{ChannelId, OrgId, SessionId, UserId};
use atrium_core::protocol::ClientFrame;
use atrium_core::rbac::Role;

use crate::datagram::DatagramSink;
use crate::outbox::SessionOutbox;
use crate::slot::ActorSlot;

/// Who a session acts for, from a verified access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAuth {
    pub user: UserId,
    pub org: OrgId,
    pub role: Role,
    /// When the access token expires; the transport closes the session with `token_expired`
    /// then unless `auth.refresh` brought a newer token.
    pub expires_at: OffsetDateTime,
}

impl SessionAuth {
    pub fn from_claims(claims: &AccessClaims) -> Self {
        Self {
            user: claims.sub,
            org: claims.org,
            role: claims.role,
            expires_at: OffsetDateTime::from_unix_timestamp(claims.exp)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }
}

/// What `hello` asked for, handed to [`crate::Realtime::open_session`].
#[derive(Clone, Debug)]
pub struct SessionStart {
    pub auth: SessionAuth,
    /// The `rid` of `hello`, echoed by `welcome`.
    pub hello_rid: u32,
    /// Channels to re-subscribe, each with the last seq the client saw.
    pub resume: BTreeMap<ChannelId, i64>,
    /// The client's self-description, for logs.
    pub client: Option<String>,
    /// Announced in `welcome`: how often the client should show signs of life.
    pub heartbeat_ms: u32,
}

/// Messages of the session actor.
pub enum SessionMsg {
    /// A decoded request from the client.
    Frame(ClientFrame),
    /// The transport is gone: unsubscribe everything and stop.
    Close,
    /// Stop this incarnation if it handled no request for `session_hibernate_after` (the actor
    /// schedules this check itself after a request): an idle session keeps its connection,
    /// outbox and subscriptions but no actor, and the next request starts one again.
    Hibernate,
    /// Test hook: panic inside the handler (fault-injection builds only).
    #[cfg(feature = "fault-injection")]
    Crash,
}

/// The part of a session that outlives one incarnation of its actor.
pub struct SessionShared {
    pub id: SessionId,
    pub outbox: Arc<SessionOutbox>,
    pub slot: ActorSlot<SessionMsg>,
    auth: Mutex<SessionAuth>,
    subscriptions: Mutex<HashSet<ChannelId>>,
    /// Taken by the first incarnation, which sends `welcome` and resumes.
    start: Mutex<Option<SessionStart>>,
    closed: AtomicBool,
    /// The transport's datagram side channel, if it has one (WebTransport).
    datagrams: Mutex<Option<Arc<dyn DatagramSink>>>,
}

impl SessionShared {
    pub fn new(id: SessionId, outbox: Arc<SessionOutbox>, start: SessionStart) -> Self {
        Self {
            id,
            outbox,
            slot: ActorSlot::new(),
            auth: Mutex::new(start.auth.clone()),
            subscriptions: Mutex::new(HashSet::new()),
            start: Mutex::new(Some(start)),
            closed: AtomicBool::new(false),
            datagrams: Mutex::new(None),
        }
    }

    pub fn auth(&self) -> SessionAuth {
        self.auth.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_auth(&self, auth: SessionAuth) {
        *self.auth.lock().unwrap_or_else(|p| p.into_inner()) = auth;
    }

    fn subscriptions(&self) -> std::sync::MutexGuard<'_, HashSet<ChannelId>> {
        self.subscriptions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_start(&self) -> Option<SessionStart> {
        self.start.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Marks the session closed; returns whether it was open (cleanup runs once).
    fn mark_closed(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    /// Where snapshot parts may go as datagrams.
    pub fn datagrams(&self) -> Option<Arc<dyn DatagramSink>> {
        self.datagrams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_datagrams(&self, sink: Arc<dyn DatagramSink>) {
        *self.datagrams.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
