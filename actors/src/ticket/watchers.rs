//! `TicketWatchers`: which sessions watch which tickets, and which agents watch their
//! organization's queue.
//!
//! Like the channel subscribers, this table lives in the node's `Context`, not in a ticket
//! actor: actors stop when idle and restart after failures, and a watcher must keep getting
//! pushes across both. Pushes are encoded once per audience (everyone, or agents only) and the
//! same bytes go to every outbox.
//!
//! Internal notes are the one thing a reporter must never see. The rule is applied here, at the
//! last step before an outbox: a frame marked [`Audience::Agents`] is only queued for watchers
//! whose session was an agent when it subscribed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atrium_core::ids::{OrgId, SessionId, TicketId, UserId};
use atrium_core::protocol::ServerFrame;

use crate::outbox::{Delivery, SessionOutbox};
use crate::wire;

/// Most tickets one session may watch at once (the queue counts as one).
pub const MAX_WATCHED_TICKETS: usize = 1_000;

/// One watching session.
#[derive(Clone)]
pub struct Watcher {
    pub session: SessionId,
    pub user: UserId,
    /// Whether the user may see internal notes.
    pub agent: bool,
    pub outbox: Arc<SessionOutbox>,
}

/// Who may receive a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The reporter and agents.
    Everyone,
    /// Agents only (internal notes).
    Agents,
}

#[derive(Default)]
struct State {
    tickets: HashMap<TicketId, HashMap<SessionId, Watcher>>,
    queues: HashMap<OrgId, HashMap<SessionId, Watcher>>,
    /// What each session watches, for cleanup and the per-session limit.
    by_session: HashMap<SessionId, (Vec<TicketId>, Option<OrgId>)>,
}

/// Why a watch was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyWatches;

#[derive(Default)]
pub struct TicketWatchers {
    state: Mutex<State>,
}

impl TicketWatchers {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a watcher of one ticket (idempotent).
    pub fn watch_ticket(&self, ticket: TicketId, watcher: Watcher) -> Result<(), TooManyWatches> {
        let mut state = self.lock();
        let session = watcher.session;
        let entry = state.by_session.entry(session).or_default();
        if !entry.0.contains(&ticket) {
            if entry.0.len() >= MAX_WATCHED_TICKETS {
                return Err(TooManyWatches);
            }
            entry.0.push(ticket);
        }
        state
            .tickets
            .entry(ticket)
            .or_default()
            .insert(session, watcher);
        Ok(())
    }

    /// Adds a watcher of an organization's queue (agents only; the caller checks).
    pub fn watch_queue(&self, org: OrgId, watcher: Watcher) {
        let mut state = self.lock();
        let session = watcher.session;
        state.by_session.entry(session).or_default().1 = Some(org);
        state
            .queues
            .entry(org)
            .or_default()
            .insert(session, watcher);
    }

    pub fn unwatch_ticket(&self, ticket: TicketId, session: SessionId) {
        let mut state = self.lock();
        if let Some(w) = state.tickets.get_mut(&ticket) {
            w.remove(&session);
            if w.is_empty() {
                state.tickets.remove(&ticket);
            }
        }
        if let Some(entry) = state.by_session.get_mut(&session) {
            entry.0.retain(|t| *t != ticket);
        }
    }

    pub fn unwatch_queue(&self, org: OrgId, session: SessionId) {
        let mut state = self.lock();
        if let Some(w) = state.queues.get_mut(&org) {
            w.remove(&session);
            if w.is_empty() {
                state.queues.remove(&org);
            }
        }
        if let Some(entry) = state.by_session.get_mut(&session) {
            entry.1 = None;
        }
    }

    /// Forgets everything a closed session watched.
    pub fn remove_session(&self, session: SessionId) {
        let mut state = self.lock();
        let Some((tickets, queue)) = state.by_session.remove(&session) else {
            return;
        };
        for ticket in tickets {
            if let Some(w) = state.tickets.get_mut(&ticket) {
                w.remove(&session);
                if w.is_empty() {
                    state.tickets.remove(&ticket);
                }
            }
        }
        if let Some(org) = queue
            && let Some(w) = state.queues.get_mut(&org)
        {
            w.remove(&session);
            if w.is_empty() {
                state.queues.remove(&org);
            }
        }
    }

    /// Everyone who should hear about `ticket` of `org`: its watchers and the queue's, once
    /// per session.
    fn audience(&self, org: OrgId, ticket: TicketId, audience: Audience) -> Vec<Watcher> {
        let state = self.lock();
        let mut out: HashMap<SessionId, Watcher> = HashMap::new();
        for w in state
            .tickets
            .get(&ticket)
            .into_iter()
            .chain(state.queues.get(&org))
            .flat_map(|m| m.values())
        {
            if audience == Audience::Agents && !w.agent {
                continue;
            }
            if w.outbox.is_closed() {
                continue;
            }
            out.entry(w.session).or_insert_with(|| w.clone());
        }
        out.into_values().collect()
    }

    /// Encodes `frame` once and queues it for every watcher in `audience`. Returns how many
    /// sessions it went to.
    pub fn push(
        &self,
        org: OrgId,
        ticket: TicketId,
        audience: Audience,
        frame: &ServerFrame,
    ) -> usize {
        let watchers = self.audience(org, ticket, audience);
        if watchers.is_empty() {
            return 0;
        }
        let Some(bytes) = wire::encode(frame) else {
            return 0;
        };
        for w in &watchers {
            w.outbox.push(bytes.clone(), Delivery::Reliable);
        }
        watchers.len()
    }

    /// Number of sessions watching anything.
    pub fn sessions(&self) -> usize {
        self.lock().by_session.len()
    }
}
