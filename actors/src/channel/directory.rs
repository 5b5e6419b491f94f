//! `ChannelDirectory`: which channels have a live actor, and how a request reaches it.
//!
//! Channel actors start lazily: the first request for a channel spawns its actor (linked to the
//! `ChannelSupervisor`) and later requests find it here. Spawning happens under the directory
//! lock with ractor's instant spawn, so two sessions asking for the same cold channel at once get
//! the same actor, and requests sent before the actor finished loading simply wait in its
//! mailbox.
//!
//! An idle actor retires itself through [`ChannelDirectory::retire`], which removes the entry
//! only if nothing is pending for it (checked under the same locks dispatch takes), so a request
//! is never stranded in a stopping mailbox: it either reached the old actor before retirement was
//! decided, or it finds the entry gone and starts a new actor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ractor::{ActorCell, ActorId, ActorRuntime};

use crate::channel::actor::ChannelActor;
use crate::channel::{ChannelKey, ChannelMsg, ChannelShared};
use crate::context::Context;
use crate::slot::Sent;

#[derive(Default)]
struct State {
    /// The `ChannelSupervisor` new actors are linked to.
    supervisor: Option<ActorCell>,
    entries: HashMap<ChannelKey, Arc<ChannelShared>>,
    by_actor: HashMap<ActorId, ChannelKey>,
}

/// Why a message could not be routed.
pub enum Undeliverable {
    /// The channel has no running actor and the message does not start one.
    NotRunning(Box<ChannelMsg>),
    /// The channel supervisor is not running (shutting down) or refused the message.
    Unavailable(Box<ChannelMsg>),
}

#[derive(Default)]
pub struct ChannelDirectory {
    state: Mutex<State>,
}

impl ChannelDirectory {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes `message` to the channel's actor, starting it first when `start` is set.
    /// Requests count as pending until the actor handled them.
    pub fn dispatch(
        &self,
        ctx: &Arc<Context>,
        key: ChannelKey,
        mut message: ChannelMsg,
        start: bool,
    ) -> Result<(), Undeliverable> {
        // Two rounds at most: a slot retired between lookup and send means its entry is already
        // gone, and the second lookup starts a fresh actor.
        for _ in 0..2 {
            let shared = {
                let mut state = self.lock();
                match state.entries.get(&key) {
                    Some(shared) => shared.clone(),
                    None if !start => return Err(Undeliverable::NotRunning(Box::new(message))),
                    None => {
                        let Some(shared) = self.start_locked(ctx, &mut state, key) else {
                            return Err(Undeliverable::Unavailable(Box::new(message)));
                        };
                        shared
                    }
                }
            };
            let counted = matches!(message, ChannelMsg::Request { .. });
            match shared.slot.send(message, counted) {
                Sent::Delivered | Sent::Parked | Sent::Lost => return Ok(()),
                Sent::Refused(back) => {
                    if !shared.slot.is_retired() {
                        // Parking space exhausted: the channel is not coming back soon.
                        return Err(Undeliverable::Unavailable(Box::new(back)));
                    }
                    message = back;
                }
            }
        }
        Err(Undeliverable::Unavailable(Box::new(message)))
    }

    /// The shared state of a running channel, if any.
    pub fn get(&self, key: ChannelKey) -> Option<Arc<ChannelShared>> {
        self.lock().entries.get(&key).cloned()
    }

    fn start_locked(
        &self,
        ctx: &Arc<Context>,
        state: &mut State,
        key: ChannelKey,
    ) -> Option<Arc<ChannelShared>> {
        let shared = Arc::new(ChannelShared::new(key, ctx.config.replay_buffer));
        self.spawn_locked(ctx, state, &shared)?;
        state.entries.insert(key, shared.clone());
        Some(shared)
    }

    /// Spawns an incarnation for `shared` and installs it in its slot.
    fn spawn_locked(
        &self,
        ctx: &Arc<Context>,
        state: &mut State,
        shared: &Arc<ChannelShared>,
    ) -> Option<()> {
        let supervisor = state.supervisor.clone()?;
        match ActorRuntime::<ChannelActor>::spawn_linked_instant(
            None,
            ChannelActor,
            (ctx.clone(), shared.clone()),
            supervisor,
        ) {
            Ok((actor, _starting)) => {
                state.by_actor.insert(actor.get_id(), shared.key);
                shared.slot.install(actor);
                Some(())
            }
            Err(error) => {
                tracing::error!(channel = %shared.key.channel, %error, "could not spawn a channel actor");
                None
            }
        }
    }

    /// Called by a (re)started `ChannelSupervisor`: links new actors to it, and restarts every
    /// channel whose actor died with the previous supervisor.
    pub fn adopt(&self, ctx: &Arc<Context>, supervisor: ActorCell) {
        let mut state = self.lock();
        state.supervisor = Some(supervisor);
        state.by_actor.clear();
        let all: Vec<Arc<ChannelShared>> = state.entries.values().cloned().collect();
        for shared in all {
            if self.spawn_locked(ctx, &mut state, &shared).is_none() {
                state.entries.remove(&shared.key);
                shared.slot.retire();
            }
        }
    }

    /// Forgets the supervisor (it is stopping): no new channel actors start.
    pub fn orphan(&self) {
        self.lock().supervisor = None;
    }

    /// The channel whose current actor is `actor`.
    pub fn of_actor(&self, actor: ActorId) -> Option<Arc<ChannelShared>> {
        let state = self.lock();
        let key = state.by_actor.get(&actor)?;
        state.entries.get(key).cloned()
    }

    /// Restarts the channel whose actor `failed` died; returns whether a new one runs.
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

    /// Removes the channel whose actor `stopped` has stopped; returns its shared state if the
    /// entry still belonged to that actor (it did not retire through [`Self::retire`]).
    pub fn remove(&self, stopped: ActorId) -> Option<Arc<ChannelShared>> {
        let mut state = self.lock();
        let key = state.by_actor.remove(&stopped)?;
        let shared = state.entries.remove(&key)?;
        Some(shared)
    }

    /// Retires `shared`'s channel if `idle()` still holds with nothing pending; the caller (the
    /// actor) then drains and stops.
    pub fn retire(
        &self,
        shared: &Arc<ChannelShared>,
        actor: ActorId,
        idle: impl FnOnce() -> bool,
    ) -> bool {
        let mut state = self.lock();
        if !shared.slot.retire_if(|pending| pending == 0 && idle()) {
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

    /// Number of channels with a live actor.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
