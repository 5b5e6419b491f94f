//! `TicketDirectory`: which tickets have a live actor, and how a message reaches it.
//!
//! The same scheme as the channel directory: the first message for a ticket spawns its actor
//! (linked to the `TicketSupervisor`) with ractor's instant spawn under the directory lock, so
//! concurrent callers get one actor; an idle actor retires only when nothing is pending for it,
//! so a command is never stranded in a stopping mailbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ractor::{ActorCell, ActorId, ActorRuntime};

use crate::context::Context;
use crate::slot::{ActorSlot, Sent};
use crate::ticket::actor::TicketActor;
use crate::ticket::{TicketKey, TicketMsg, TicketShared};

#[derive(Default)]
struct State {
    supervisor: Option<ActorCell>,
    entries: HashMap<TicketKey, Arc<TicketShared>>,
    by_actor: HashMap<ActorId, TicketKey>,
}

/// The message could not be routed (the supervisor is not running: shutting down).
pub struct Unavailable(pub Box<TicketMsg>);

#[derive(Default)]
pub struct TicketDirectory {
    state: Mutex<State>,
}

impl TicketDirectory {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes `message` to the ticket's actor, starting it if needed.
    pub fn dispatch(
        &self,
        ctx: &Arc<Context>,
        key: TicketKey,
        mut message: TicketMsg,
    ) -> Result<(), Unavailable> {
        for _ in 0..2 {
            let shared = {
                let mut state = self.lock();
                match state.entries.get(&key) {
                    Some(shared) => shared.clone(),
                    None => {
                        let shared = Arc::new(TicketShared {
                            key,
                            slot: ActorSlot::new(),
                        });
                        if self.spawn_locked(ctx, &mut state, &shared).is_none() {
                            return Err(Unavailable(Box::new(message)));
                        }
                        state.entries.insert(key, shared.clone());
                        shared
                    }
                }
            };
            let counted = matches!(message, TicketMsg::Command { .. });
            match shared.slot.send(message, counted) {
                Sent::Delivered | Sent::Parked | Sent::Lost => return Ok(()),
                Sent::Refused(back) => {
                    if !shared.slot.is_retired() {
                        return Err(Unavailable(Box::new(back)));
                    }
                    message = back;
                }
            }
        }
        Err(Unavailable(Box::new(message)))
    }

    fn spawn_locked(
        &self,
        ctx: &Arc<Context>,
        state: &mut State,
        shared: &Arc<TicketShared>,
    ) -> Option<()> {
        let supervisor = state.supervisor.clone()?;
        match ActorRuntime::<TicketActor>::spawn_linked_instant(
            None,
            TicketActor,
            (ctx.clone(), shared.clone()),
            supervisor,
        ) {
            Ok((actor, _starting)) => {
                state.by_actor.insert(actor.get_id(), shared.key);
                shared.slot.install(actor);
                Some(())
            }
            Err(error) => {
                tracing::error!(ticket = %shared.key.ticket, %error, "could not spawn a ticket actor");
                None
            }
        }
    }

    /// Called by a (re)started supervisor: links new actors to it and restarts the tickets
    /// whose actors died with its predecessor.
    pub fn adopt(&self, ctx: &Arc<Context>, supervisor: ActorCell) {
        let mut state = self.lock();
        state.supervisor = Some(supervisor);
        state.by_actor.clear();
        let all: Vec<Arc<TicketShared>> = state.entries.values().cloned().collect();
        for shared in all {
            if self.spawn_locked(ctx, &mut state, &shared).is_none() {
                state.entries.remove(&shared.key);
                shared.slot.retire();
            }
        }
    }

    pub fn orphan(&self) {
        self.lock().supervisor = None;
    }

    pub fn of_actor(&self, actor: ActorId) -> Option<Arc<TicketShared>> {
        let state = self.lock();
        let key = state.by_actor.get(&actor)?;
        state.entries.get(key).cloned()
    }

    /// Restarts the ticket whose actor `failed` died; returns whether a new one runs.
    pub fn restart(&self, ctx: &Arc<Context>, failed: ActorId) -> bool {
        let mut state = self.lock();
        let Some(key) = state.by_actor.remove(&failed) else {
            return false;
        };
        let Some(shared) = state.entries.get(&key).cloned() else {
            return false;
        };
        self.spawn_locked(ctx, &mut state, &shared).is_some()
    }

    /// Removes the ticket whose actor stopped; returns its shared state if it was still listed.
    pub fn remove(&self, stopped: ActorId) -> Option<Arc<TicketShared>> {
        let mut state = self.lock();
        let key = state.by_actor.remove(&stopped)?;
        state.entries.remove(&key)
    }

    /// Retires the ticket's actor if nothing is pending for it.
    pub fn retire(&self, shared: &Arc<TicketShared>, actor: ActorId) -> bool {
        let mut state = self.lock();
        if !shared.slot.retire_if(|pending| pending == 0) {
            return false;
        }
        state.by_actor.remove(&actor);
        if state
            .entries
            .get(&shared.key)
            .is_some_and(|s| Arc::ptr_eq(s, shared))
        {
            state.entries.remove(&shared.key);
        }
        true
    }

    /// The running actor of a ticket (tests observe restarts with it).
    pub fn actor_of(&self, key: TicketKey) -> Option<ActorId> {
        self.lock()
            .entries
            .get(&key)
            .and_then(|s| s.slot.current())
            .map(|a| a.get_id())
    }

    /// Number of tickets with a live actor.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A ticket's deadline came: wake its actor (starting it).
pub(crate) fn deadline_due(ctx: &Arc<Context>, key: TicketKey) {
    if ctx.tickets.dispatch(ctx, key, TicketMsg::Deadline).is_err() {
        tracing::debug!(ticket = %key.ticket, "deadline not delivered: tickets are shutting down");
    }
}
