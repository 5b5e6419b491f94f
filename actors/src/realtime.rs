//! `Realtime`: the handle the engine and the transports use.
//!
//! ```ignore
//! let writer = MessageWriter::spawn(store.clone(), WriterConfig::default());
//! let realtime = Realtime::start(store, Arc::new(writer), RealtimeConfig::default()).await?;
//! // per connection, after `hello` was authenticated:
//! let session = realtime.open_session(start)?;
//! session.request(frame)?;                  // decoded client frames in
//! session.outbox().next_batch(&mut buf, n); // encoded server frames out
//! // at exit:
//! realtime.shutdown().await;
//! ```

use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorRef};

use atrium_core::ids::{ChannelId, OrgId, RoomId, SessionId};
use atrium_core::protocol::ErrorCode;
use atrium_persistence::store::Store;

use crate::channel::directory::ChannelDirectory;
use crate::channel::{ChannelKey, ChannelMsg};
use crate::committer::MessageCommitter;
use crate::config::RealtimeConfig;
use crate::context::{Context, Lifecycle};
use crate::outbox::SessionOutbox;
use crate::presence::{PresenceMsg, UserPresence};
use crate::rooms::{Occupant, RoomsContext, RoomsMsg};
use crate::root::RootSupervisor;
use crate::session::handle::SessionHandle;
use crate::session::registry::SessionRegistry;
use crate::session::{SessionShared, SessionStart};
use crate::slot::ActorSlot;
use crate::ticket::Tickets;
use crate::ticket::directory::TicketDirectory;
use crate::ticket::timers::SlaTimers;
use crate::ticket::watchers::TicketWatchers;

/// How long a presence query may take before it counts as failed.
const PRESENCE_QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for the actor tree to stop.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    #[error("the realtime core could not start: {0}")]
    Start(String),
    /// Shutting down, or the supervision tree gave up.
    #[error("the realtime core is not running")]
    Unavailable,
}

/// Counters for metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealtimeStats {
    pub sessions: usize,
    /// Channels with a live actor.
    pub channels: usize,
}

/// A cheap, cloneable handle to a node's realtime core.
#[derive(Clone)]
pub struct Realtime {
    ctx: Arc<Context>,
    root: ActorRef<()>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Realtime {
    /// Starts the supervision tree. `committer` is normally the store's `MessageWriter`.
    pub async fn start(
        store: Arc<dyn Store>,
        committer: Arc<dyn MessageCommitter>,
        config: RealtimeConfig,
    ) -> Result<Self, RealtimeError> {
        let ai = Arc::new(crate::ai::LlmHub::new(store.clone()));
        if let Err(error) = ai.reload().await {
            tracing::warn!(%error, "LLM catalog not loaded from the store; the local bot only");
        }
        let ctx = Arc::new(Context {
            ai,
            store,
            committer,
            config,
            presence: ActorSlot::new(),
            channels: ChannelDirectory::default(),
            sessions: SessionRegistry::default(),
            rooms: RoomsContext::default(),
            lifecycle: tokio::sync::watch::Sender::new(Lifecycle::default()),
            tickets: TicketDirectory::default(),
            ticket_timers: SlaTimers::default(),
            ticket_watchers: TicketWatchers::default(),
            ticket_assign_locks: Default::default(),
        });
        let (root, _) = RootSupervisor::spawn(None, RootSupervisor, ctx.clone())
            .await
            .map_err(|e| RealtimeError::Start(e.to_string()))?;
        Ok(Self { ctx, root })
    }

    pub fn config(&self) -> &RealtimeConfig {
        &self.ctx.config
    }

    /// The LLM hub: configure it with the node's `[llm]` section, reload it after the models
    /// or providers changed, read its catalog.
    pub fn ai(&self) -> &Arc<crate::ai::LlmHub> {
        &self.ctx.ai
    }

    /// Opens a session for an authenticated connection. The session greets the client
    /// (`welcome`, or an error and `bye` if the account is inactive) through its outbox.
    pub fn open_session(&self, start: SessionStart) -> Result<SessionHandle, RealtimeError> {
        let outbox = Arc::new(SessionOutbox::new(self.ctx.config.outbox));
        let shared = Arc::new(SessionShared::new(SessionId::new(), outbox, start));
        if !self.ctx.sessions.start(&self.ctx, shared.clone()) {
            return Err(RealtimeError::Unavailable);
        }
        Ok(SessionHandle {
            ctx: self.ctx.clone(),
            shared,
        })
    }

    /// The online users of an organization (including those in their reconnect grace period).
    pub async fn online(&self, org: OrgId) -> Result<Vec<UserPresence>, RealtimeError> {
        let presence = self
            .ctx
            .presence
            .current()
            .ok_or(RealtimeError::Unavailable)?;
        match presence
            .call(
                |reply| PresenceMsg::Online { org, reply },
                Some(PRESENCE_QUERY_TIMEOUT),
            )
            .await
        {
            Ok(ractor::rpc::CallResult::Success(users)) => Ok(users),
            _ => Err(RealtimeError::Unavailable),
        }
    }

    /// Tells a running channel that its memberships changed (a member was added, removed or
    /// had their role changed through the HTTP API): it reloads them and unsubscribes sessions
    /// of users who are no longer members. A channel without a running actor loads fresh data
    /// when it next starts, so nothing needs doing then.
    pub fn members_changed(&self, org: OrgId, channel: ChannelId) {
        let _ = self.ctx.channels.dispatch(
            &self.ctx,
            ChannelKey { org, channel },
            ChannelMsg::ReloadMembers,
            false,
        );
    }

    /// The templates rooms are built from (what `GET /api/v1/rooms/templates` lists).
    pub fn room_templates(&self) -> Arc<atrium_spatial::TemplateCatalog> {
        self.ctx.config.rooms.catalog.clone()
    }

    /// Who is in a room of `org` right now; `None` when it is not open on this node (or is
    /// another organization's).
    pub fn room_occupants(&self, org: OrgId, room: RoomId) -> Option<Vec<Occupant>> {
        self.ctx.rooms.registry.occupants(org, room)
    }

    /// Closes an open room (it was deleted): its occupants get `room.event {kind: "closed",
    /// reason: "deleted"}`. Nothing happens for a room that is not open.
    pub fn close_room(&self, org: OrgId, room: RoomId) {
        let _ = self.ctx.rooms.slot.send(
            RoomsMsg::Close {
                org,
                room,
                reason: atrium_core::protocol::RoomClosedReason::Deleted,
            },
            false,
        );
    }

    /// Avatars in rooms on this node (placed, joining or away).
    pub fn room_avatars(&self) -> usize {
        self.ctx.rooms.registry.avatars()
    }

    /// The ticket subsystem of this node (create, read, change and watch tickets).
    pub fn tickets(&self) -> Tickets {
        Tickets {
            ctx: self.ctx.clone(),
        }
    }

    pub fn stats(&self) -> RealtimeStats {
        RealtimeStats {
            sessions: self.ctx.sessions.len(),
            channels: self.ctx.channels.len(),
        }
    }

    /// Supervision counters (restarts, retirements), observable as they change.
    pub fn lifecycle(&self) -> tokio::sync::watch::Receiver<Lifecycle> {
        self.ctx.lifecycle.subscribe()
    }

    /// The outbox of a live session (for stats and tests).
    pub fn session_outbox(&self, id: SessionId) -> Option<Arc<SessionOutbox>> {
        self.ctx.sessions.get(id).map(|s| s.outbox.clone())
    }

    /// Closes every session with `bye {code: shutting_down}` (after what is already queued for
    /// it) and stops the actor tree. In-flight commits finish in the message writer, which the
    /// engine shuts down after this.
    pub async fn shutdown(&self) {
        for session in self.ctx.sessions.all() {
            session.outbox.close(
                ErrorCode::ShuttingDown,
                "the server is shutting down; reconnect and resume",
                false,
            );
        }
        if let Err(error) = self
            .root
            .stop_and_wait(Some("shutdown".into()), Some(SHUTDOWN_TIMEOUT))
            .await
        {
            tracing::warn!(%error, "realtime core did not stop cleanly");
        }
    }

    /// Test hook: makes a running channel's actor panic. Returns whether it was running.
    #[cfg(feature = "fault-injection")]
    pub fn crash_channel(&self, org: OrgId, channel: ChannelId) -> bool {
        self.ctx
            .channels
            .dispatch(
                &self.ctx,
                ChannelKey { org, channel },
                ChannelMsg::Crash,
                false,
            )
            .is_ok()
    }

    /// Test hook: the next AI generation started on this node panics right after pushing its
    /// delta number `seq`.
    #[cfg(feature = "fault-injection")]
    pub fn crash_next_stream_after_delta(&self, seq: u32) {
        self.ctx.ai.streams.crash_next_after_delta(seq);
    }

    /// Test hook: the actor id of a running channel, to observe restarts.
    #[cfg(feature = "fault-injection")]
    pub fn channel_actor(&self, org: OrgId, channel: ChannelId) -> Option<ractor::ActorId> {
        self.ctx
            .channels
            .get(ChannelKey { org, channel })?
            .slot
            .current()
            .map(|a| a.get_id())
    }
}
