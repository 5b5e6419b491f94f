//! `LlmSupervisor`: the parent of every stream actor.
//!
//! A generation is not restarted: its provider request cannot be resumed, and re-sending it
//! would bill twice and could show text twice. When a stream actor fails (a panic, caught by
//! ractor), the supervisor logs the reason and ends the generation the way any other failure
//! ends: the text already shown is stored as a partial answer, usage is recorded with outcome
//! `failed` and code `internal`, the provider request is dropped, and the user's sessions get
//! `llm.error {code: internal}`. The stream is then forgotten.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use atrium_core::protocol::ServerFrame;

use super::delivery::Audience;
use super::stream::{CRASHED_MESSAGE, INTERNAL, conclude_after_crash};
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
                // Storing the partial answer and the usage takes a few writes: not on the
                // supervisor's own loop, which other failures may be waiting on.
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    if !conclude_after_crash(&ctx, &shared).await {
                        // Failed while preparing: there is no answer to keep.
                        let audience = Audience {
                            org: shared.org,
                            user: shared.user,
                            channel: None,
                        };
                        audience.push(
                            &ctx,
                            &ServerFrame::LlmError {
                                stream: shared.id,
                                code: INTERNAL.to_owned(),
                                message: CRASHED_MESSAGE.to_owned(),
                            },
                        );
                    }
                });
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
