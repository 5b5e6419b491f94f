//! `Context`: what every actor of one realtime node shares.
//!
//! The store, the commit path and the configuration, plus the three routing tables that outlive
//! any single actor: the channel directory, the session registry and the presence slot. Actors
//! get an `Arc<Context>` as their argument; restarting an actor never loses these tables, which
//! is what lets a restarted child pick up where its predecessor stopped.

use std::collections::HashMap;
use std::sync::Arc;

use atrium_core::ids::OrgId;

use atrium_persistence::store::Store;

use crate::ai::LlmHub;
use crate::channel::directory::ChannelDirectory;
use crate::committer::MessageCommitter;
use crate::config::RealtimeConfig;
use crate::presence::PresenceMsg;
use crate::rooms::RoomsContext;
use crate::session::registry::SessionRegistry;
use crate::slot::ActorSlot;
use crate::ticket::directory::TicketDirectory;
use crate::ticket::timers::SlaTimers;
use crate::ticket::watchers::TicketWatchers;

/// Counters of supervision events, observable as they change (metrics, tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// Channel actors restarted after a failure.
    pub channel_restarts: u64,
    /// Channel actors given up on after exhausting their restart budget.
    pub channels_given_up: u64,
    /// Channel actors that stopped because they were idle.
    pub channels_retired: u64,
    /// Session actors restarted after a failure.
    pub session_restarts: u64,
    /// Sessions that ended (for any reason).
    pub sessions_closed: u64,
    /// Times a session actor stopped because its session was idle (the session lives on).
    pub sessions_hibernated: u64,
    /// Ticket actors restarted after a failure.
    pub ticket_restarts: u64,
    /// Ticket actors given up on after exhausting their restart budget.
    pub tickets_given_up: u64,
    /// Ticket actors that stopped because they were idle.
    pub tickets_retired: u64,
    /// SLA breaches recorded by this node.
    pub sla_breaches: u64,
}

pub struct Context {
    pub store: Arc<dyn Store>,
    pub committer: Arc<dyn MessageCommitter>,
    pub config: RealtimeConfig,
    pub presence: ActorSlot<PresenceMsg>,
    pub channels: ChannelDirectory,
    pub sessions: SessionRegistry,
    /// The rooms actor and who is in which room.
    pub rooms: RoomsContext,
    pub lifecycle: tokio::sync::watch::Sender<Lifecycle>,
    /// Providers, models and the live generations (`llm.*`).
    pub ai: Arc<LlmHub>,
    /// Ticket actors, armed SLA deadlines and ticket watchers (see `ticket/`).
    pub tickets: TicketDirectory,
    pub ticket_timers: SlaTimers,
    pub ticket_watchers: TicketWatchers,
    /// One auto-assignment at a time per organization (see `ticket::service`).
    pub ticket_assign_locks: std::sync::Mutex<HashMap<OrgId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Context {
    /// The lock that serialises auto-assignment in `org`.
    pub fn ticket_assign_lock(&self, org: OrgId) -> Arc<tokio::sync::Mutex<()>> {
        self.ticket_assign_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(org)
            .or_default()
            .clone()
    }

    pub fn count(&self, change: impl FnOnce(&mut Lifecycle)) {
        self.lifecycle.send_modify(change);
    }
}
