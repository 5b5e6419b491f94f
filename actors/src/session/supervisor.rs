//! `SessionSupervisor`: the parent of every session actor.
//!
//! A failed session actor is restarted with the same shared state (connection, outbox,
//! subscriptions stay as they were; only the request being handled is lost), within the
//! per-session restart budget, and the reason is logged. A session that keeps failing is closed
//! with `bye {code: internal}`; its client reconnects and resumes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use atrium_core::ids::SessionId;
use atrium_core::protocol::ErrorCode;

use crate::context::Context;
use crate::restart::RestartHistory;
use crate::session::actor::cleanup;

pub struct SessionSupervisor;

pub struct SupervisorState {
    ctx: Arc<Context>,
    restarts: HashMap<SessionId, RestartHistory>,
}

impl Actor for SessionSupervisor {
    type Msg = ();
    type State = SupervisorState;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        ctx: Arc<Context>,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        ctx.sessions.adopt(&ctx, myself.get_cell());
        Ok(SupervisorState {
            ctx,
            restarts: HashMap::new(),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<()>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        state.ctx.sessions.orphan();
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, reason) => {
                let Some(shared) = state.ctx.sessions.of_actor(cell.get_id()) else {
                    return Ok(());
                };
                let budget = state.ctx.config.restart_budget;
                let history = state.restarts.entry(shared.id).or_default();
                let restarted = history.allow(budget, Instant::now())
                    && state.ctx.sessions.restart(&state.ctx, cell.get_id());
                if restarted {
                    state.ctx.count(|c| c.session_restarts += 1);
                    tracing::warn!(session = %shared.id, reason = %reason, "session actor failed; restarting it");
                } else {
                    tracing::error!(session = %shared.id, reason = %reason, "session actor keeps failing; closing the session");
                    state.restarts.remove(&shared.id);
                    state.ctx.sessions.remove(cell.get_id());
                    shared.slot.retire();
                    cleanup(&state.ctx, &shared);
                    shared.outbox.close(
                        ErrorCode::Internal,
                        "the session failed; reconnect and resume",
                        false,
                    );
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                if let Some(shared) = state.ctx.sessions.remove(cell.get_id()) {
                    state.restarts.remove(&shared.id);
                    // Stopped for a reason other than `Close` (killed at shutdown): make sure the
                    // transport ends too.
                    shared.slot.retire();
                    cleanup(&state.ctx, &shared);
                    shared.outbox.close(
                        ErrorCode::ShuttingDown,
                        "the server is shutting down",
                        false,
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }
}
