//! `SessionRegistry`: the live sessions of this node.
//!
//! Session actors are spawned here, linked to the `SessionSupervisor`, under the registry lock,
//! so the supervisor can always map a failed actor back to its session. The registry is also how
//! presence rebuilds itself after a restart and how shutdown reaches every connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ractor::{ActorCell, ActorId, ActorRuntime};

use atrium_core::ids::{SessionId, UserId};

use crate::context::Context;
use crate::session::SessionShared;
use crate::session::actor::SessionActor;

#[derive(Default)]
struct State {
    supervisor: Option<ActorCell>,
    sessions: HashMap<SessionId, Arc<SessionShared>>,
    by_actor: HashMap<ActorId, SessionId>,
    /// The sessions of each user (what `llm.*` pushes reach).
    by_user: HashMap<UserId, Vec<SessionId>>,
}

impl State {
    fn forget(&mut self, id: SessionId) -> Option<Arc<SessionShared>> {
        let shared = self.sessions.remove(&id)?;
        let user = shared.auth().user;
        if let Some(ids) = self.by_user.get_mut(&user) {
            ids.retain(|s| *s != id);
            if ids.is_empty() {
                self.by_user.remove(&user);
            }
        }
        Some(shared)
    }
}

#[derive(Default)]
pub struct SessionRegistry {
    state: Mutex<State>,
}

impl SessionRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new session and starts its actor. `false` if the supervisor is not running.
    pub fn start(&self, ctx: &Arc<Context>, shared: Arc<SessionShared>) -> bool {
        let mut state = self.lock();
        if !Self::spawn_locked(ctx, &mut state, &shared) {
            return false;
        }
        state
            .by_user
            .entry(shared.auth().user)
            .or_default()
            .push(shared.id);
        state.sessions.insert(shared.id, shared);
        true
    }

    fn spawn_locked(ctx: &Arc<Context>, state: &mut State, shared: &Arc<SessionShared>) -> bool {
        let Some(supervisor) = state.supervisor.clone() else {
            return false;
        };
        match ActorRuntime::<SessionActor>::spawn_linked_instant(
            None,
            SessionActor,
            (ctx.clone(), shared.clone()),
            supervisor,
        ) {
            Ok((actor, _starting)) => {
                state.by_actor.insert(actor.get_id(), shared.id);
                shared.slot.install(actor);
                true
            }
            Err(error) => {
                tracing::error!(session = %shared.id, %error, "could not spawn a session actor");
                false
            }
        }
    }

    /// Called by a (re)started `SessionSupervisor`: restarts the actors that died with the
    /// previous one (hibernating sessions stay asleep).
    pub fn adopt(&self, ctx: &Arc<Context>, supervisor: ActorCell) {
        let mut state = self.lock();
        state.supervisor = Some(supervisor);
        state.by_actor.clear();
        let all: Vec<Arc<SessionShared>> = state.sessions.values().cloned().collect();
        for shared in all {
            if shared.slot.is_vacant() {
                continue;
            }
            if !Self::spawn_locked(ctx, &mut state, &shared) {
                state.forget(shared.id);
            }
        }
    }

    /// Lets the session's actor `actor` stop while the session lives on, if nothing is pending
    /// for it. Returns whether it may stop.
    pub fn hibernate(&self, shared: &Arc<SessionShared>, actor: ActorId) -> bool {
        let mut state = self.lock();
        if !shared.slot.vacate_if_idle() {
            return false;
        }
        state.by_actor.remove(&actor);
        true
    }

    /// Starts an incarnation for a hibernating session that has something to do (a message is
    /// parked in its slot). Does nothing if one runs, or a restart is under way.
    pub fn wake(&self, ctx: &Arc<Context>, shared: &Arc<SessionShared>) {
        let mut state = self.lock();
        if shared.slot.is_vacant()
            && !shared.slot.is_retired()
            && state.sessions.contains_key(&shared.id)
        {
            Self::spawn_locked(ctx, &mut state, shared);
        }
    }

    /// Forgets the supervisor (it is stopping): no new sessions start.
    pub fn orphan(&self) {
        self.lock().supervisor = None;
    }

    pub fn of_actor(&self, actor: ActorId) -> Option<Arc<SessionShared>> {
        let state = self.lock();
        let id = state.by_actor.get(&actor)?;
        state.sessions.get(id).cloned()
    }

    /// Restarts the session whose actor `failed` died; returns whether a new one runs.
    pub fn restart(&self, ctx: &Arc<Context>, failed: ActorId) -> bool {
        let mut state = self.lock();
        let Some(id) = state.by_actor.remove(&failed) else {
            return false;
        };
        let Some(shared) = state.sessions.get(&id).cloned() else {
            return false;
        };
        Self::spawn_locked(ctx, &mut state, &shared)
    }

    /// Forgets the session whose actor `stopped`; returns it.
    pub fn remove(&self, stopped: ActorId) -> Option<Arc<SessionShared>> {
        let mut state = self.lock();
        let id = state.by_actor.remove(&stopped)?;
        state.forget(id)
    }

    /// The outboxes of `user`'s open sessions.
    pub fn outboxes_of(&self, user: UserId) -> Vec<Arc<crate::outbox::SessionOutbox>> {
        let state = self.lock();
        state
            .by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| state.sessions.get(id))
            .filter(|s| !s.is_closed())
            .map(|s| s.outbox.clone())
            .collect()
    }

    /// Every live session.
    pub fn all(&self) -> Vec<Arc<SessionShared>> {
        self.lock().sessions.values().cloned().collect()
    }

    pub fn get(&self, id: SessionId) -> Option<Arc<SessionShared>> {
        self.lock().sessions.get(&id).cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
