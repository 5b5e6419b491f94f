//! `LlmSupervisor`: the parent of every stream actor.
//!
//! A generation is not restarted: its provider request cannot be resumed, and re-sending it
//! would bill twice and could show text twice. When a stream actor fails (a panic, caught by
//! ractor), the supervisor logs the reason, tells the user's sessions with
//! `llm.error {code: internal}` and forgets the stream; the conversation keeps every message
//! stored before the failure.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use atrium_core::protocol::ServerFrame;

use super::delivery::Audience;
use super::stream::INTERNAL;
use crate::context::Context;

pub struct LlmSupervisor;

impl Actor for LlmSupervisor {
    type Msg = ();
    type State = Arc<Context>;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        ctx: Arc<Context>,
    ) -> Result<Arc<Context>, ActorProcessingErr> {
        ctx.ai.streams.adopt(myself.get_cell());
        Ok(ctx)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<()>,
        ctx: &mut Arc<Context>,
    ) -> Result<(), ActorProcessingErr> {
        ctx.ai.streams.orphan();
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        ctx: &mut Arc<Context>,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, reason) => {
                let Some(shared) = ctx.ai.streams.of_actor(cell.get_id()) else {
                    return Ok(());
                };
                tracing::error!(stream = %shared.id, reason = %reason, "stream actor failed; ending the generation");
                ctx.ai.streams.remove(shared.id);
                let audience = Audience {
                    org: shared.org,
                    user: shared.user,
                    channel: None,
                };
                audience.push(
                    ctx,
                    &ServerFrame::LlmError {
                        stream: shared.id,
                        code: INTERNAL.to_owned(),
                        message: "the generation failed on the server".to_owned(),
                    },
                );
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                if let Some(shared) = ctx.ai.streams.of_actor(cell.get_id()) {
                    ctx.ai.streams.remove(shared.id);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
