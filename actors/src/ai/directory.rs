//! `StreamDirectory`: the generations running on this node.
//!
//! `llm.start` spawns an `LlmStreamActor` here, linked to the `LlmSupervisor`, under the
//! directory lock (ractor's instant spawn: the actor prepares itself in `post_start`, so the
//! session actor that routed the request never waits). The directory also enforces how many
//! generations one user may run at once, and routes `llm.cancel` to the right actor, only for the
//! user who started it: another user's (or tenant's) stream id reads as unknown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ractor::{ActorCell, ActorId, ActorRef, ActorRuntime};

use atrium_core::ids::{OrgId, StreamId, UserId};

use super::stream::{LlmStreamActor, StartRequest, StreamMsg, StreamShared};
use atrium_core::protocol::ErrorCode;

use crate::channel::Requester;
use crate::context::Context;

/// Starts a generation for a session's `llm.start`, or answers why not.
pub fn start_or_refuse(ctx: &Arc<Context>, request: StartRequest) {
    let from = request.from.clone();
    let limit = ctx.ai.settings().max_per_user;
    match ctx.ai.streams.start(ctx, request, limit) {
        Ok(_) => {}
        Err(StartRefused::TooMany { limit }) => from.reply_err(
            ErrorCode::RateLimited,
            &format!("at most {limit} generations may run at once; wait for one to finish"),
        ),
        Err(StartRefused::Unavailable) => from.reply_err(
            ErrorCode::ShuttingDown,
            "the server is not accepting generations",
        ),
    }
}

/// Why a generation could not start.
#[derive(Debug, PartialEq, Eq)]
pub enum StartRefused {
    /// The user already runs the most generations allowed at once.
    TooMany { limit: usize },
    /// The supervisor is not running (shutting down).
    Unavailable,
}

struct Entry {
    shared: Arc<StreamShared>,
    actor: ActorRef<StreamMsg>,
}

#[derive(Default)]
struct State {
    supervisor: Option<ActorCell>,
    live: HashMap<StreamId, Entry>,
    by_actor: HashMap<ActorId, StreamId>,
    per_user: HashMap<UserId, usize>,
    /// Test hook: the next generation started panics after this delta.
    #[cfg(feature = "fault-injection")]
    crash_after_delta: Option<u32>,
}

#[derive(Default)]
pub struct StreamDirectory {
    state: Mutex<State>,
}

impl StreamDirectory {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spawns the generation's actor, which answers the request itself.
    pub fn start(
        &self,
        ctx: &Arc<Context>,
        request: StartRequest,
        max_per_user: usize,
    ) -> Result<StreamId, StartRefused> {
        let mut state = self.lock();
        let Some(supervisor) = state.supervisor.clone() else {
            return Err(StartRefused::Unavailable);
        };
        let user = request.from.user;
        let running = state.per_user.get(&user).copied().unwrap_or(0);
        if running >= max_per_user {
            return Err(StartRefused::TooMany {
                limit: max_per_user,
            });
        }
        let shared = StreamShared::new(StreamId::new(), request.org, user, request.from.clone());
        #[cfg(feature = "fault-injection")]
        let shared = shared.crashing_after_delta(state.crash_after_delta.take());
        let shared = Arc::new(shared);
        let id = shared.id;
        match ActorRuntime::<LlmStreamActor>::spawn_linked_instant(
            None,
            LlmStreamActor,
            (ctx.clone(), shared.clone(), request),
            supervisor,
        ) {
            Ok((actor, _starting)) => {
                state.by_actor.insert(actor.get_id(), id);
                *state.per_user.entry(user).or_default() += 1;
                state.live.insert(id, Entry { shared, actor });
                Ok(id)
            }
            Err(error) => {
                tracing::error!(%error, "could not spawn a stream actor");
                Err(StartRefused::Unavailable)
            }
        }
    }

    /// Asks a generation of `user` in `org` to stop; `false` if there is no such stream (never
    /// started, already over, or someone else's).
    pub fn cancel(&self, org: OrgId, user: UserId, stream: StreamId, from: Requester) -> bool {
        let state = self.lock();
        match state.live.get(&stream) {
            Some(entry) if entry.shared.user == user && entry.shared.org == org => {
                entry.actor.cast(StreamMsg::Cancel(from)).is_ok()
            }
            _ => false,
        }
    }

    /// Forgets a finished (or failed) generation; returns it if it was still listed.
    pub fn remove(&self, stream: StreamId) -> Option<Arc<StreamShared>> {
        let mut state = self.lock();
        let entry = state.live.remove(&stream)?;
        state.by_actor.remove(&entry.actor.get_id());
        if let Some(n) = state.per_user.get_mut(&entry.shared.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.per_user.remove(&entry.shared.user);
            }
        }
        Some(entry.shared)
    }

    /// The generation whose actor is `actor`.
    pub fn of_actor(&self, actor: ActorId) -> Option<Arc<StreamShared>> {
        let state = self.lock();
        let id = state.by_actor.get(&actor)?;
        state.live.get(id).map(|e| e.shared.clone())
    }

    /// Called by a (re)started `LlmSupervisor`: new generations are linked to it.
    pub fn adopt(&self, supervisor: ActorCell) {
        self.lock().supervisor = Some(supervisor);
    }

    /// Forgets the supervisor (it is stopping): no new generations start.
    pub fn orphan(&self) {
        self.lock().supervisor = None;
    }

    /// Test hook: the next generation started panics right after pushing delta `seq`.
    #[cfg(feature = "fault-injection")]
    pub fn crash_next_after_delta(&self, seq: u32) {
        self.lock().crash_after_delta = Some(seq);
    }

    /// Generations running right now.
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
