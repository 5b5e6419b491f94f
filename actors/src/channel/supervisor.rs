//! `ChannelSupervisor`: the parent of every channel actor.
//!
//! It does not route anything (the [`ChannelDirectory`](super::directory::ChannelDirectory)
//! does); it reacts to its children's deaths. A channel actor that failed (returned an error or
//! panicked) is restarted with the same shared state, so its subscribers stay subscribed, within
//! the per-channel restart budget; the reason is logged. A channel that keeps failing is given
//! up: its parked requests are answered `internal` and its subscribers are told with a rid-less
//! `err`, and the next request for it starts from scratch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use atrium_core::protocol::ErrorCode;

use crate::channel::{ChannelKey, ChannelMsg};
use crate::context::Context;
use crate::restart::RestartHistory;
use crate::wire;

pub struct ChannelSupervisor;

pub struct SupervisorState {
    ctx: Arc<Context>,
    restarts: HashMap<ChannelKey, RestartHistory>,
}

impl Actor for ChannelSupervisor {
    /// The supervisor takes no messages of its own: it only handles supervision events.
    type Msg = ();
    type State = SupervisorState;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        ctx: Arc<Context>,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        ctx.channels.adopt(&ctx, myself.get_cell());
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
        state.ctx.channels.orphan();
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
                let Some(shared) = state.ctx.channels.of_actor(cell.get_id()) else {
                    return Ok(());
                };
                let key = shared.key;
                let budget = state.ctx.config.restart_budget;
                let history = state.restarts.entry(key).or_default();
                if history.allow(budget, Instant::now()) {
                    tracing::warn!(
                        channel = %key.channel,
                        restarts = history.recent(),
                        reason = %reason,
                        "channel actor failed; restarting it"
                    );
                    if state.ctx.channels.restart(&state.ctx, cell.get_id()) {
                        state.ctx.count(|c| c.channel_restarts += 1);
                    } else {
                        give_up(&state.ctx, cell.get_id());
                    }
                } else {
                    tracing::error!(
                        channel = %key.channel,
                        max_restarts = budget.max_restarts,
                        window_secs = budget.window.as_secs(),
                        reason = %reason,
                        "channel actor keeps failing; giving up on it"
                    );
                    state.restarts.remove(&key);
                    give_up(&state.ctx, cell.get_id());
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                // Retired channels already left the directory; this catches actors stopped some
                // other way (killed during shutdown).
                state.ctx.channels.remove(cell.get_id());
            }
            _ => {}
        }
        Ok(())
    }
}

/// Drops a channel that cannot be restarted, answering everyone who was waiting on it.
fn give_up(ctx: &Context, actor: ractor::ActorId) {
    let Some(shared) = ctx.channels.remove(actor) else {
        return;
    };
    ctx.count(|c| c.channels_given_up += 1);
    for parked in shared.slot.retire() {
        if let ChannelMsg::Request { from, .. } = parked {
            from.reply_err(
                ErrorCode::Internal,
                "the channel is unavailable; retry later",
            );
        }
    }
    let message = format!(
        "channel {} failed and was unsubscribed; subscribe again",
        shared.key.channel
    );
    let subscribers = std::mem::replace(
        &mut *shared.subscribers(),
        crate::channel::subscribers::Subscribers::new(0),
    );
    for subscriber in subscribers.iter() {
        wire::reply_err(&subscriber.outbox, None, ErrorCode::Internal, &message);
    }
}
