//! `SessionActor`: one per connection.
//!
//! Its first incarnation greets the client: it checks the account is still active, sends
//! `welcome` with unread counts, registers with presence and re-subscribes the channels `hello`
//! asked to resume. After that it routes each request to its channel's actor with a
//! [`Requester`] that carries the reply address, so it never waits for a channel (or the
//! database): replies and pushes go straight into the session's outbox. On close it
//! unsubscribes everywhere and tells presence.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use atrium_core::ids::ChannelId;
use atrium_core::protocol::limits::{DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT};
use atrium_core::protocol::{ClientFrame, ErrorCode, ServerFrame};
use atrium_persistence::store::StoreError;

use crate::channel::directory::Undeliverable;
use crate::channel::{ChannelKey, ChannelMsg, ChannelRequest, Requester};
use crate::context::Context;
use crate::presence::PresenceMsg;
use crate::rooms::{RoomInput, RoomsMsg, input};
use crate::session::{SessionMsg, SessionShared, SessionStart};
use crate::wire;

pub struct SessionActor;

pub struct SessionState {
    ctx: Arc<Context>,
    shared: Arc<SessionShared>,
    /// When this incarnation last handled a request.
    last_request: Instant,
    /// A `Hibernate` check is on its way (at most one timer per incarnation).
    check_scheduled: bool,
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionState;
    type Arguments = (Arc<Context>, Arc<SessionShared>);

    async fn pre_start(
        &self,
        _myself: ActorRef<SessionMsg>,
        (ctx, shared): (Arc<Context>, Arc<SessionShared>),
    ) -> Result<SessionState, ActorProcessingErr> {
        Ok(SessionState {
            ctx,
            shared,
            last_request: Instant::now(),
            check_scheduled: false,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<SessionMsg>,
        state: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(start) = state.shared.take_start() {
            if !greet(state, start).await {
                close(state);
                myself.stop(None);
                return Ok(());
            }
            // Greeted: until the client asks for something, the session needs no actor.
            hibernate(&myself, state);
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        state: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SessionMsg::Frame(frame) => {
                state.last_request = Instant::now();
                route(state, frame);
                state.shared.slot.handled();
                if !state.check_scheduled {
                    schedule_check(&myself, state, state.ctx.config.session_hibernate_after);
                }
            }
            SessionMsg::Close => {
                state.shared.slot.handled();
                close(state);
                myself.stop(None);
            }
            SessionMsg::Hibernate => {
                state.check_scheduled = false;
                let after = state.ctx.config.session_hibernate_after;
                let idle = state.last_request.elapsed();
                if idle >= after {
                    // Refused while requests are queued: handling them schedules a new check.
                    hibernate(&myself, state);
                } else {
                    schedule_check(&myself, state, after - idle);
                }
            }
            #[cfg(feature = "fault-injection")]
            SessionMsg::Crash => panic!("fault injection: session {} crashed", state.shared.id),
        }
        Ok(())
    }
}

/// Asks for a `Hibernate` check in `delay`. One timer per incarnation at a time, so a busy
/// session costs one timer per `session_hibernate_after`, not one per request.
fn schedule_check(myself: &ActorRef<SessionMsg>, state: &mut SessionState, delay: Duration) {
    state.check_scheduled = true;
    // Dropping the handle detaches the timer task. If this incarnation stops first, the timer's
    // send fails and nothing happens.
    drop(myself.send_after(delay, || SessionMsg::Hibernate));
}

/// Stops this incarnation if nothing is pending; the session itself lives on.
fn hibernate(myself: &ActorRef<SessionMsg>, state: &SessionState) {
    if state.ctx.sessions.hibernate(&state.shared, myself.get_id()) {
        state.ctx.count(|c| c.sessions_hibernated += 1);
        myself.stop(None);
    }
}

/// Sends `welcome`, joins presence, resumes channels. Returns `false` if the session must end.
async fn greet(state: &SessionState, start: SessionStart) -> bool {
    let ctx = &state.ctx;
    let shared = &state.shared;
    let auth = &start.auth;
    match ctx.store.get_user(auth.user).await {
        Ok(user) if user.active && user.org_id == auth.org => {}
        Ok(_) | Err(StoreError::NotFound) => {
            wire::reply_err(
                &shared.outbox,
                Some(start.hello_rid),
                ErrorCode::Unauthorized,
                "the account is not active",
            );
            shared
                .outbox
                .close(ErrorCode::Unauthorized, "not authorized", false);
            return false;
        }
        Err(error) => {
            tracing::warn!(%error, "session start: user lookup failed");
            shared
                .outbox
                .close(ErrorCode::Internal, "the session could not start", false);
            return false;
        }
    }
    let unread: BTreeMap<ChannelId, u64> = match ctx.store.list_channels_for_user(auth.user).await {
        Ok(views) => views
            .into_iter()
            .filter(|v| v.unread > 0)
            .map(|v| (v.channel.id, v.unread))
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "session start: unread counts failed");
            shared
                .outbox
                .close(ErrorCode::Internal, "the session could not start", false);
            return false;
        }
    };
    wire::reply(
        &shared.outbox,
        &ServerFrame::Welcome {
            rid: start.hello_rid,
            session: shared.id,
            user: auth.user,
            heartbeat_ms: start.heartbeat_ms,
            unread,
        },
    );
    tracing::debug!(session = %shared.id, user = %auth.user, client = ?start.client, "session started");
    ctx.presence.send(
        PresenceMsg::Connected {
            session: shared.id,
            user: auth.user,
            org: auth.org,
            outbox: shared.outbox.clone(),
        },
        false,
    );
    for (channel, last_seq) in start.resume {
        shared.subscriptions().insert(channel);
        dispatch(
            state,
            channel,
            None,
            ChannelRequest::Subscribe {
                after: Some(last_seq),
            },
        );
    }
    true
}

/// Routes one client request.
fn route(state: &SessionState, frame: ClientFrame) {
    let outbox = &state.shared.outbox;
    let rid = Some(frame.rid());
    let (channel, request) = match frame {
        ClientFrame::Hello { rid, .. } => {
            return wire::reply_err(
                outbox,
                Some(rid),
                ErrorCode::Invalid,
                "the session is already authenticated",
            );
        }
        ClientFrame::Ping { rid } => {
            wire::reply(outbox, &ServerFrame::Pong { rid });
            return;
        }
        ClientFrame::AuthRefresh { rid, .. } => {
            // The transport verifies tokens; a refresh reaching the actor was not handled there.
            return wire::reply_err(
                outbox,
                Some(rid),
                ErrorCode::Internal,
                "auth.refresh is not available here",
            );
        }
        ClientFrame::Sub { ch, .. } => {
            state.shared.subscriptions().insert(ch);
            (ch, ChannelRequest::Subscribe { after: None })
        }
        ClientFrame::Unsub { ch, .. } => {
            state.shared.subscriptions().remove(&ch);
            (ch, ChannelRequest::Unsubscribe)
        }
        ClientFrame::MsgSend {
            ch,
            body,
            reply_to,
            nonce,
            ..
        } => (
            ch,
            ChannelRequest::Send {
                body,
                reply_to,
                nonce,
            },
        ),
        ClientFrame::MsgEdit { ch, id, body, .. } => (ch, ChannelRequest::Edit { id, body }),
        ClientFrame::MsgDelete { ch, id, .. } => (ch, ChannelRequest::Delete { id }),
        ClientFrame::React {
            ch, id, emoji, on, ..
        } => (ch, ChannelRequest::React { id, emoji, on }),
        ClientFrame::History {
            ch,
            before_seq,
            limit,
            ..
        } => (
            ch,
            ChannelRequest::History {
                before_seq,
                limit: limit
                    .unwrap_or(DEFAULT_HISTORY_LIMIT)
                    .clamp(1, MAX_HISTORY_LIMIT),
            },
        ),
        ClientFrame::Typing { ch, on, .. } => (ch, ChannelRequest::Typing { on }),
        ClientFrame::Read { ch, seq, .. } => (ch, ChannelRequest::Read { seq }),
        ClientFrame::RoomJoin { rid, room } => {
            return to_rooms(
                state,
                rid,
                RoomsMsg::Join {
                    session: state.shared.clone(),
                    rid,
                    room,
                },
            );
        }
        ClientFrame::RoomLeave { rid } => {
            return to_rooms(
                state,
                rid,
                RoomsMsg::Leave {
                    session: state.shared.clone(),
                    rid,
                },
            );
        }
        ClientFrame::RoomTeleport { rid, to } => {
            match input::submit(
                &state.ctx.rooms,
                state.shared.id,
                RoomInput::Teleport { to },
            ) {
                Ok(()) => {
                    wire::reply(outbox, &ServerFrame::ok(rid));
                }
                Err(refused) => wire::reply_err(outbox, Some(rid), refused.code, refused.message),
            }
            return;
        }
        ClientFrame::Pos {
            rid,
            p,
            yaw,
            v,
            ack,
            ..
        } => {
            let pose = RoomInput::Pose {
                seq: None,
                p,
                yaw,
                v: v.unwrap_or_default(),
                ack,
            };
            if let Err(refused) = input::submit(&state.ctx.rooms, state.shared.id, pose) {
                wire::reply_err(outbox, Some(rid), refused.code, refused.message);
            }
            return;
        }
        ClientFrame::RoomAck { rid, tick } => {
            if let Err(refused) =
                input::submit(&state.ctx.rooms, state.shared.id, RoomInput::Ack { tick })
            {
                wire::reply_err(outbox, Some(rid), refused.code, refused.message);
            }
            return;
        }
        ClientFrame::LlmStart {
            rid,
            conversation,
            content,
            model,
            temperature,
            system,
        } => {
            let request = crate::ai::stream::StartRequest {
                from: requester(state, Some(rid)),
                org: state.shared.auth().org,
                conversation,
                content,
                overrides: crate::ai::prepare::Overrides {
                    model,
                    temperature,
                    system,
                },
            };
            return crate::ai::directory::start_or_refuse(&state.ctx, request);
        }
        ClientFrame::LlmCancel { rid, stream } => {
            let from = requester(state, Some(rid));
            let auth = state.shared.auth();
            if !state
                .ctx
                .ai
                .streams
                .cancel(auth.org, auth.user, stream, from.clone())
            {
                from.reply_err(ErrorCode::NotFound, "no such running generation");
            }
            return;
        }
        ClientFrame::TicketSub { rid, id } => return ticket_sub(state, rid, id),
        ClientFrame::TicketUnsub { rid, id } => {
            let auth = state.shared.auth();
            tickets(state).unwatch(ticket_user(&auth), state.shared.id, id);
            wire::reply(outbox, &ServerFrame::ok(rid));
            return;
        }
    };
    dispatch(state, channel, rid, request);
}

/// The reply address of a request from this session.
fn requester(state: &SessionState, rid: Option<u32>) -> Requester {
    let auth = state.shared.auth();
    Requester {
        session: state.shared.id,
        user: auth.user,
        role: auth.role,
        outbox: state.shared.outbox.clone(),
        rid,
    }
}

fn tickets(state: &SessionState) -> crate::ticket::Tickets {
    crate::ticket::Tickets {
        ctx: state.ctx.clone(),
    }
}

fn ticket_user(auth: &crate::session::SessionAuth) -> crate::ticket::service::TicketUser {
    crate::ticket::service::TicketUser {
        id: auth.user,
        org: auth.org,
        role: auth.role,
    }
}

/// `ticket.sub`: checks access against the store beside the actor (the session never waits for
/// the database) and answers when the watch is in place.
fn ticket_sub(state: &SessionState, rid: u32, id: Option<atrium_core::ids::TicketId>) {
    let tickets = tickets(state);
    let user = ticket_user(&state.shared.auth());
    let session = state.shared.id;
    let outbox = state.shared.outbox.clone();
    tokio::spawn(async move {
        match tickets.watch(user, session, outbox.clone(), id).await {
            Ok(()) => {
                wire::reply(&outbox, &ServerFrame::ok(rid));
            }
            Err(e) => wire::reply_err(&outbox, Some(rid), e.code(), &e.to_string()),
        }
    });
}

/// Hands a request to its channel's actor (starting it unless the request is an unsubscribe).
fn dispatch(state: &SessionState, channel: ChannelId, rid: Option<u32>, request: ChannelRequest) {
    let auth = state.shared.auth();
    let start = !matches!(request, ChannelRequest::Unsubscribe);
    let from = Requester {
        session: state.shared.id,
        user: auth.user,
        role: auth.role,
        outbox: state.shared.outbox.clone(),
        rid,
    };
    let key = ChannelKey {
        org: auth.org,
        channel,
    };
    let message = ChannelMsg::Request { from, request };
    match state.ctx.channels.dispatch(&state.ctx, key, message, start) {
        Ok(()) => {}
        Err(Undeliverable::NotRunning(message)) => {
            // Not running means not subscribed: unsubscribing is already done.
            if let ChannelMsg::Request { from, .. } = *message {
                from.reply_ok();
            }
        }
        Err(Undeliverable::Unavailable(message)) => {
            if let ChannelMsg::Request { from, .. } = *message {
                from.reply_err(
                    ErrorCode::ShuttingDown,
                    "the server is not accepting channel requests",
                );
            }
        }
    }
}

/// Hands a room request to the rooms actor.
fn to_rooms(state: &SessionState, rid: u32, message: RoomsMsg) {
    if !state.ctx.config.rooms.enabled {
        wire::reply_err(
            &state.shared.outbox,
            Some(rid),
            ErrorCode::Internal,
            "virtual rooms are not enabled on this node",
        );
        return;
    }
    match state.ctx.rooms.slot.send(message, false) {
        crate::slot::Sent::Delivered | crate::slot::Sent::Parked => {}
        crate::slot::Sent::Refused(_) | crate::slot::Sent::Lost => wire::reply_err(
            &state.shared.outbox,
            Some(rid),
            ErrorCode::ShuttingDown,
            "the server is not accepting room requests",
        ),
    }
}

/// Unsubscribes everywhere and leaves presence (once).
pub fn close(state: &SessionState) {
    cleanup(&state.ctx, &state.shared);
}

/// Cleanup shared with the supervisor (which runs it when it gives up on a session).
pub fn cleanup(ctx: &Arc<Context>, shared: &Arc<SessionShared>) {
    if !shared.mark_closed() {
        return;
    }
    ctx.count(|c| c.sessions_closed += 1);
    ctx.ticket_watchers.remove_session(shared.id);
    let auth = shared.auth();
    let channels: Vec<ChannelId> = shared.subscriptions().drain().collect();
    for channel in channels {
        let from = Requester {
            session: shared.id,
            user: auth.user,
            role: auth.role,
            outbox: shared.outbox.clone(),
            rid: None,
        };
        let _ = ctx.channels.dispatch(
            ctx,
            ChannelKey {
                org: auth.org,
                channel,
            },
            ChannelMsg::Request {
                from,
                request: ChannelRequest::Unsubscribe,
            },
            false,
        );
    }
    ctx.presence.send(
        PresenceMsg::Disconnected {
            session: shared.id,
            user: auth.user,
        },
        false,
    );
    if ctx.rooms.registry.client_of(shared.id).is_some() {
        let _ = ctx
            .rooms
            .slot
            .send(RoomsMsg::Disconnected { session: shared.id }, false);
    }
}
