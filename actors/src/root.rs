//! `RootSupervisor`: the top of the actor tree.
//!
//! ```text
//! RootSupervisor
//! ├── PresenceActor
//! ├── ChannelSupervisor ── ChannelActor (one per active channel)
//! ├── SessionSupervisor ── SessionActor (one per connection)
//! ├── LlmSupervisor     ── LlmStreamActor (one per generation)
//! ├── TicketSupervisor  ── TicketActor (one per ticket in use; owns the SLA wake-up task)
//! └── RoomsActor         (owns the SpatialDriver: the room simulation on its own thread)
//! ```
//!
//! It restarts a failed child within the restart budget. The routing tables live in the shared
//! [`Context`], not in the children, so a restarted `ChannelSupervisor` or `SessionSupervisor`
//! re-spawns the actors that died with its predecessor (ractor stops a supervisor's children
//! with it) and their subscribers and connections carry on. If a child keeps failing the node's
//! realtime core is broken: the root stops, which closes every session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, SpawnErr, SupervisionEvent};

use crate::ai::supervisor::LlmSupervisor;
use crate::channel::supervisor::ChannelSupervisor;
use crate::context::Context;
use crate::presence::PresenceActor;
use crate::restart::RestartHistory;
use crate::rooms::actor::RoomsActor;
use crate::session::supervisor::SessionSupervisor;
use crate::ticket::supervisor::TicketSupervisor;

/// The root's direct children.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Child {
    Presence,
    Channels,
    Sessions,
    Llm,
    /// The rooms actor and its simulation (when rooms are enabled).
    Rooms,
    Tickets,
}

pub struct RootSupervisor;

pub struct RootState {
    ctx: Arc<Context>,
    children: HashMap<ActorId, Child>,
    restarts: HashMap<Child, RestartHistory>,
}

async fn spawn_child(
    ctx: &Arc<Context>,
    child: Child,
    root: ActorCell,
) -> Result<ActorCell, SpawnErr> {
    Ok(match child {
        Child::Presence => PresenceActor::spawn_linked(None, PresenceActor, ctx.clone(), root)
            .await?
            .0
            .get_cell(),
        Child::Channels => {
            ChannelSupervisor::spawn_linked(None, ChannelSupervisor, ctx.clone(), root)
                .await?
                .0
                .get_cell()
        }
        Child::Sessions => {
            SessionSupervisor::spawn_linked(None, SessionSupervisor, ctx.clone(), root)
                .await?
                .0
                .get_cell()
        }
        Child::Llm => LlmSupervisor::spawn_linked(None, LlmSupervisor, ctx.clone(), root)
            .await?
            .0
            .get_cell(),
        Child::Tickets => TicketSupervisor::spawn_linked(None, TicketSupervisor, ctx.clone(), root)
            .await?
            .0
            .get_cell(),
        Child::Rooms => RoomsActor::spawn_linked(None, RoomsActor, ctx.clone(), root)
            .await?
            .0
            .get_cell(),
    })
}

impl Actor for RootSupervisor {
    type Msg = ();
    type State = RootState;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        ctx: Arc<Context>,
    ) -> Result<RootState, ActorProcessingErr> {
        let mut children = HashMap::new();
        // Presence first: sessions register with it as they start.
        let mut wanted = vec![
            Child::Presence,
            Child::Channels,
            Child::Sessions,
            Child::Llm,
            Child::Tickets,
        ];
        if ctx.config.rooms.enabled {
            wanted.push(Child::Rooms);
        }
        for child in wanted {
            let cell = spawn_child(&ctx, child, myself.get_cell()).await?;
            children.insert(cell.get_id(), child);
        }
        Ok(RootState {
            ctx,
            children,
            restarts: HashMap::new(),
        })
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<()>,
        event: SupervisionEvent,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisionEvent::ActorFailed(cell, reason) = event else {
            return Ok(());
        };
        let Some(child) = state.children.remove(&cell.get_id()) else {
            return Ok(());
        };
        let budget = state.ctx.config.restart_budget;
        if state
            .restarts
            .entry(child)
            .or_default()
            .allow(budget, Instant::now())
        {
            tracing::warn!(?child, reason = %reason, "realtime child failed; restarting it");
            match spawn_child(&state.ctx, child, myself.get_cell()).await {
                Ok(cell) => {
                    state.children.insert(cell.get_id(), child);
                    return Ok(());
                }
                Err(error) => {
                    tracing::error!(?child, %error, "could not restart realtime child");
                }
            }
        } else {
            tracing::error!(?child, reason = %reason, "realtime child keeps failing");
        }
        tracing::error!("stopping the realtime core");
        myself.stop(Some(format!("{child:?} could not be kept running")));
        Ok(())
    }
}
