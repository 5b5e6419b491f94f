//! `TicketSupervisor`: the parent of every ticket actor, and the owner of the SLA wake-up task.
//!
//! On start it re-arms the SLA timer of every open ticket from the store, so deadlines survive a
//! node restart; deadlines that passed while the node was down fire at once. A ticket actor
//! that fails is restarted (it rebuilds everything from the store) within the per-ticket restart
//! budget; one that keeps failing is given up: its waiting commands are answered and the next
//! command starts a fresh actor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::context::Context;
use crate::restart::RestartHistory;
use crate::ticket::{TicketError, TicketKey, TicketMsg, timers};

pub struct TicketSupervisor;

pub struct TicketSupervisorState {
    ctx: Arc<Context>,
    restarts: HashMap<TicketKey, RestartHistory>,
    wakeup: Option<tokio::task::JoinHandle<()>>,
}

impl Actor for TicketSupervisor {
    type Msg = ();
    type State = TicketSupervisorState;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        ctx: Arc<Context>,
    ) -> Result<TicketSupervisorState, ActorProcessingErr> {
        ctx.tickets.adopt(&ctx, myself.get_cell());
        // Re-arm every open ticket's timer before the wake-up task starts looking at them.
        let armed = ctx.store.armed_sla_deadlines().await?;
        let count = armed.len();
        for a in armed {
            ctx.ticket_timers.arm(
                TicketKey {
                    org: a.org,
                    ticket: a.ticket,
                },
                Some(a.deadline),
            );
        }
        tracing::debug!(count, "ticket SLA timers armed from the store");
        let wakeup = Some(timers::spawn_wakeup(&ctx));
        Ok(TicketSupervisorState {
            ctx,
            restarts: HashMap::new(),
            wakeup,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<()>,
        state: &mut TicketSupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        state.ctx.tickets.orphan();
        if let Some(task) = state.wakeup.take() {
            task.abort();
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        state: &mut TicketSupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, reason) => {
                let Some(shared) = state.ctx.tickets.of_actor(cell.get_id()) else {
                    return Ok(());
                };
                let key = shared.key;
                let budget = state.ctx.config.restart_budget;
                let history = state.restarts.entry(key).or_default();
                if history.allow(budget, Instant::now()) {
                    tracing::warn!(ticket = %key.ticket, restarts = history.recent(), reason = %reason, "ticket actor failed; restarting it");
                    if state.ctx.tickets.restart(&state.ctx, cell.get_id()) {
                        state.ctx.count(|c| c.ticket_restarts += 1);
                        return Ok(());
                    }
                } else {
                    tracing::error!(ticket = %key.ticket, reason = %reason, "ticket actor keeps failing; giving up on it");
                    state.restarts.remove(&key);
                }
                give_up(&state.ctx, cell.get_id());
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                state.ctx.tickets.remove(cell.get_id());
            }
            _ => {}
        }
        Ok(())
    }
}

fn give_up(ctx: &Context, actor: ractor::ActorId) {
    let Some(shared) = ctx.tickets.remove(actor) else {
        return;
    };
    ctx.count(|c| c.tickets_given_up += 1);
    for parked in shared.slot.retire() {
        if let TicketMsg::Command { reply, .. } = parked {
            let _ = reply.send(Err(TicketError::Unavailable(
                "the ticket is unavailable; retry later".into(),
            )));
        }
    }
}
