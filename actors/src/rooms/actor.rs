//! `RoomsActor`: owns the node's `SpatialDriver` and connects it to sessions.
//!
//! - **Joins** are prepared off the actor (a task reads the room row, scoped to the caller's
//!   organization, resolves its template and makes the caller a member of the room's chat
//!   channel), then the actor opens the room in the simulation if it is not open yet (rooms are
//!   created lazily, on first join) and submits the join. The `ok` goes out when the
//!   simulation placed the avatar, with the first full snapshot of the same tick.
//! - **Outputs** of each tick arrive as one message (the driver's sink casts them; past
//!   `max_output_backlog` waiting batches, snapshots are shed so the simulation never blocks and
//!   memory stays bounded). Each output is encoded once and queued in its session's outbox;
//!   snapshot parts go as datagrams when the session has a datagram sink and they fit.
//! - **Disconnects** start the grace period: the avatar stays, outputs for it are dropped, and a
//!   `room.join` of the same user within the grace takes it over again (same avatar, same seat).
//!   After the grace the avatar leaves; a room whose last occupant left is closed.
//! - **Restarts**: a failure (or the simulation thread dying) restarts this actor under the
//!   root's budget with a fresh simulation; everyone who was in a room is told
//!   (`room.event {kind: "closed", reason: "restarted"}`) and may join again at once.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ractor::{Actor, ActorProcessingErr, ActorRef};

use atrium_core::ids::{OrgId, RoomId, SessionId};
use atrium_core::model::MemberRole;
use atrium_core::protocol::datagram::SNAP_OVERHEAD;
use atrium_core::protocol::{
    Datagram, ErrorCode, OkResult, RoomClosedReason, RoomEventKind, RoomInfo, RoomJoined,
    ServerFrame, SnapshotData,
};
use atrium_persistence::store::StoreError;
use atrium_spatial::snapshot::Delivery as SnapshotDelivery;
use atrium_spatial::{
    ClientId, FnSink, JoinRefusal, JoinedRoom, RoomEvent, RoomNotice, RoomSnapshot, RoomTemplate,
    SinkClosed, SpatialDriver, SpatialHandle, SpatialOutput, TickOutputs,
};

use crate::context::Context;
use crate::outbox::{Delivery, SessionOutbox};
use crate::rooms::registry::{LiveRoom, Seat, Tables};
use crate::rooms::{JOIN_PERMISSION, layout, sim_room, telemetry, templates};
use crate::session::SessionShared;
use crate::wire;

pub enum RoomsMsg {
    /// `room.join` from a session.
    Join {
        session: Arc<SessionShared>,
        rid: u32,
        room: RoomId,
    },
    /// The join's room was read and its template resolved (or not).
    Prepared {
        session: Arc<SessionShared>,
        rid: u32,
        result: Result<PreparedRoom, (ErrorCode, String)>,
    },
    /// `room.leave` from a session.
    Leave {
        session: Arc<SessionShared>,
        rid: u32,
    },
    /// A session closed: its avatar (if any) starts its grace period.
    Disconnected { session: SessionId },
    /// A grace period ended.
    GraceOver { client: ClientId, generation: u64 },
    /// One tick of simulation outputs.
    Outputs(TickOutputs),
    /// Close a room (deleted over HTTP); its occupants are told why.
    Close {
        org: OrgId,
        room: RoomId,
        reason: RoomClosedReason,
    },
    /// The simulation thread ended while this actor still runs (it panicked).
    DriverStopped,
}

/// A room ready to open: whose it is, what it runs, how it is described.
pub struct PreparedRoom {
    org: OrgId,
    template: Arc<RoomTemplate>,
    info: Arc<RoomInfo>,
}

pub struct RoomsActor;

pub struct RoomsState {
    ctx: Arc<Context>,
    driver: Option<SpatialDriver>,
    handle: SpatialHandle,
    backlog: Arc<AtomicUsize>,
    /// Rooms being closed on purpose, with the reason their occupants get.
    closing: HashMap<RoomId, RoomClosedReason>,
}

/// The driver's sink: forwards each tick to the actor, shedding snapshots past the backlog
/// bound. Dropped when the simulation thread ends, which tells the actor if it was not asked to.
struct Forwarder {
    actor: ActorRef<RoomsMsg>,
    backlog: Arc<AtomicUsize>,
    max_backlog: usize,
}

impl Forwarder {
    fn forward(&self, mut outputs: TickOutputs) -> Result<(), SinkClosed> {
        if self.backlog.load(Ordering::Acquire) >= self.max_backlog {
            let before = outputs.outputs.len();
            outputs.outputs.retain(|a| !a.output.is_droppable());
            metrics::counter!(telemetry::SNAPSHOTS_SHED)
                .increment((before - outputs.outputs.len()) as u64);
        }
        if outputs.outputs.is_empty() && outputs.notices.is_empty() {
            return Ok(());
        }
        self.backlog.fetch_add(1, Ordering::AcqRel);
        self.actor
            .cast(RoomsMsg::Outputs(outputs))
            .map_err(|_| SinkClosed)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        // After a deliberate stop the actor is gone and this cast goes nowhere.
        let _ = self.actor.cast(RoomsMsg::DriverStopped);
    }
}

impl Actor for RoomsActor {
    type Msg = RoomsMsg;
    type State = RoomsState;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        myself: ActorRef<RoomsMsg>,
        ctx: Arc<Context>,
    ) -> Result<RoomsState, ActorProcessingErr> {
        reset_after_restart(&ctx);
        let config = &ctx.config.rooms;
        let backlog = Arc::new(AtomicUsize::new(0));
        let forwarder = Forwarder {
            actor: myself.clone(),
            backlog: backlog.clone(),
            max_backlog: config.max_output_backlog.max(1),
        };
        let driver = SpatialDriver::start(
            config.spatial.clone(),
            FnSink(move |outputs| forwarder.forward(outputs)),
        )?;
        let handle = driver.handle();
        ctx.rooms.registry.set_handle(Some(handle.clone()));
        Ok(RoomsState {
            ctx,
            driver: Some(driver),
            handle,
            backlog,
            closing: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<RoomsMsg>,
        state: &mut RoomsState,
    ) -> Result<(), ActorProcessingErr> {
        state.ctx.rooms.slot.install(myself);
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<RoomsMsg>,
        state: &mut RoomsState,
    ) -> Result<(), ActorProcessingErr> {
        state.ctx.rooms.registry.set_handle(None);
        if let Some(driver) = state.driver.take() {
            // Joining the thread takes up to one tick: not on the runtime's workers.
            tokio::task::spawn_blocking(move || driver.stop());
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<RoomsMsg>,
        message: RoomsMsg,
        state: &mut RoomsState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RoomsMsg::Join { session, rid, room } => {
                let auth = session.auth();
                if !auth.role.can(JOIN_PERMISSION) {
                    wire::reply_err(
                        &session.outbox,
                        Some(rid),
                        ErrorCode::Forbidden,
                        "your role may not enter rooms",
                    );
                    return Ok(());
                }
                let ctx = state.ctx.clone();
                tokio::spawn(async move {
                    let result = prepare(&ctx, auth.org, auth.user, room).await;
                    let _ = myself.cast(RoomsMsg::Prepared {
                        session,
                        rid,
                        result,
                    });
                });
            }
            RoomsMsg::Prepared {
                session,
                rid,
                result,
            } => match result {
                Ok(prepared) => state.join(&session, rid, prepared),
                Err((code, message)) => {
                    wire::reply_err(&session.outbox, Some(rid), code, &message);
                }
            },
            RoomsMsg::Leave { session, rid } => state.leave(&session, rid),
            RoomsMsg::Disconnected { session } => state.disconnected(&myself, session),
            RoomsMsg::GraceOver { client, generation } => state.grace_over(client, generation),
            RoomsMsg::Outputs(outputs) => {
                state.backlog.fetch_sub(1, Ordering::AcqRel);
                state.route(outputs);
            }
            RoomsMsg::Close { org, room, reason } => state.close(org, room, reason),
            RoomsMsg::DriverStopped => {
                return Err("the spatial simulation thread stopped".into());
            }
        }
        Ok(())
    }
}

/// A fresh simulation knows no avatars: tell everyone who was in a room (the previous
/// incarnation's, if this is a restart) and forget them.
fn reset_after_restart(ctx: &Context) {
    let mut tables = ctx.rooms.registry.lock();
    for (_, seat) in tables.seats.drain() {
        let Some(session) = &seat.session else {
            continue;
        };
        match seat.pending_join {
            Some(rid) => wire::reply_err(
                &session.outbox,
                Some(rid),
                ErrorCode::Internal,
                "the room simulation restarted; join again",
            ),
            None => push_closed(&session.outbox, seat.room, RoomClosedReason::Restarted),
        }
    }
    tables.by_session.clear();
    tables.rooms.clear();
}

/// Reads the room (scoped to the caller's organization), resolves its template, and makes the
/// caller a member of the room's chat channel.
async fn prepare(
    ctx: &Context,
    org: OrgId,
    user: atrium_core::ids::UserId,
    room: RoomId,
) -> Result<PreparedRoom, (ErrorCode, String)> {
    let row = match ctx.store.get_room(org, room).await {
        Ok(row) => row,
        Err(StoreError::NotFound) => {
            return Err((ErrorCode::NotFound, "no such room".into()));
        }
        Err(error) => {
            tracing::warn!(%error, %room, "room lookup failed");
            return Err((ErrorCode::Internal, "the room could not be loaded".into()));
        }
    };
    let template = templates::resolve_room(&ctx.config.rooms.catalog, &row).map_err(|error| {
        tracing::warn!(%error, %room, "room template unusable");
        (
            ErrorCode::Internal,
            format!("the room's template is unusable: {error}"),
        )
    })?;
    if let Some(channel) = row.channel_id
        && let Err(error) = ctx
            .store
            .add_member(channel, user, MemberRole::Member)
            .await
    {
        // The room works without its chat; the client learns the channel and may retry `sub`.
        tracing::warn!(%error, %room, %channel, "could not add a room occupant to its chat");
    }
    let info = Arc::new(layout::room_info(&row, &template));
    Ok(PreparedRoom {
        org,
        template: Arc::new(template),
        info,
    })
}

impl RoomsState {
    fn join(&mut self, session: &Arc<SessionShared>, rid: u32, prepared: PreparedRoom) {
        if session.is_closed() {
            return;
        }
        let user = session.auth().user;
        let client = ClientId::from(user);
        let room = prepared.info.id;
        let ctx = self.ctx.clone();
        let mut tables = ctx.rooms.registry.lock();
        match tables.rooms.get(&room) {
            Some(live) if live.org != prepared.org => {
                wire::reply_err(
                    &session.outbox,
                    Some(rid),
                    ErrorCode::NotFound,
                    "no such room",
                );
                return;
            }
            Some(_) => {}
            None => {
                if let Err(error) = self
                    .handle
                    .create_room(sim_room(room), prepared.template.clone())
                {
                    tracing::warn!(%error, %room, "could not open a room");
                    wire::reply_err(
                        &session.outbox,
                        Some(rid),
                        ErrorCode::Internal,
                        "the room could not be opened",
                    );
                    return;
                }
                self.closing.remove(&room);
                tables.rooms.insert(
                    room,
                    LiveRoom {
                        org: prepared.org,
                        info: prepared.info.clone(),
                        clients: BTreeMap::new(),
                    },
                );
            }
        }
        let mut previous_room = None;
        match tables.seats.get_mut(&client) {
            Some(seat) => {
                if let Some(old) = seat.session.take()
                    && old.id != session.id
                {
                    // Another session of this user drove the avatar: it hands over.
                    match seat.pending_join.take() {
                        Some(old_rid) => wire::reply_err(
                            &old.outbox,
                            Some(old_rid),
                            ErrorCode::Conflict,
                            "you joined from another session",
                        ),
                        None => push_closed(&old.outbox, seat.room, RoomClosedReason::Moved),
                    }
                }
                if seat.room != room {
                    previous_room = Some(seat.room);
                    seat.room = room;
                    seat.avatar = None;
                    seat.seat = None;
                }
                seat.session = Some(session.clone());
                seat.pending_join = Some(rid);
                seat.away_generation += 1;
                seat.last_pos_seq = None;
            }
            None => {
                tables.seats.insert(
                    client,
                    Seat {
                        user,
                        org: prepared.org,
                        room,
                        session: Some(session.clone()),
                        pending_join: Some(rid),
                        avatar: None,
                        seat: None,
                        away_generation: 0,
                        last_pos_seq: None,
                    },
                );
            }
        }
        tables.by_session.retain(|_, c| *c != client);
        tables.by_session.insert(session.id, client);
        if let Some(previous) = previous_room
            && let Some(live) = tables.rooms.get_mut(&previous)
        {
            live.clients.remove(&client);
        }
        if self.handle.join(client, sim_room(room)).is_err() {
            tables.remove(client);
            wire::reply_err(
                &session.outbox,
                Some(rid),
                ErrorCode::Internal,
                "the room simulation is overloaded; try again",
            );
        }
        if let Some(previous) = previous_room {
            self.close_if_empty(&mut tables, previous);
        }
        self.close_if_empty(&mut tables, room);
    }

    fn leave(&mut self, session: &Arc<SessionShared>, rid: u32) {
        let ctx = self.ctx.clone();
        let mut tables = ctx.rooms.registry.lock();
        let Some(client) = tables.by_session.get(&session.id).copied() else {
            wire::reply_err(
                &session.outbox,
                Some(rid),
                ErrorCode::NotInRoom,
                "you are not in a room",
            );
            return;
        };
        let seat = tables.remove(client);
        let _ = self.handle.leave(client);
        wire::reply(&session.outbox, &ServerFrame::ok(rid));
        if let Some(seat) = seat {
            self.close_if_empty(&mut tables, seat.room);
        }
    }

    fn disconnected(&mut self, myself: &ActorRef<RoomsMsg>, session: SessionId) {
        let mut tables = self.ctx.rooms.registry.lock();
        let Some(client) = tables.by_session.remove(&session) else {
            return;
        };
        let Some(seat) = tables.seats.get_mut(&client) else {
            return;
        };
        if seat.session.as_ref().is_none_or(|s| s.id != session) {
            return;
        }
        seat.session = None;
        seat.pending_join = None;
        seat.away_generation += 1;
        let generation = seat.away_generation;
        myself.send_after(self.ctx.config.rooms.grace, move || RoomsMsg::GraceOver {
            client,
            generation,
        });
    }

    fn grace_over(&mut self, client: ClientId, generation: u64) {
        let ctx = self.ctx.clone();
        let mut tables = ctx.rooms.registry.lock();
        let expired = tables
            .seats
            .get(&client)
            .is_some_and(|s| s.session.is_none() && s.away_generation == generation);
        if !expired {
            return;
        }
        if let Some(seat) = tables.remove(client) {
            let _ = self.handle.leave(client);
            self.close_if_empty(&mut tables, seat.room);
        }
    }

    fn close(&mut self, org: OrgId, room: RoomId, reason: RoomClosedReason) {
        let ctx = self.ctx.clone();
        let mut tables = ctx.rooms.registry.lock();
        if tables.rooms.get(&room).is_none_or(|live| live.org != org) {
            return;
        }
        tables.rooms.remove(&room);
        // Away avatars have nobody to tell; the simulation's `Left` reaches the others.
        let away: Vec<ClientId> = tables
            .clients_in(room)
            .filter(|(_, seat)| seat.session.is_none())
            .map(|(client, _)| *client)
            .collect();
        for client in away {
            tables.remove(client);
        }
        self.closing.insert(room, reason);
        let _ = self.handle.close_room(sim_room(room));
    }

    /// Closes `room` in the simulation when nobody (placed, joining or away) is left in it.
    fn close_if_empty(&self, tables: &mut Tables, room: RoomId) {
        if tables.clients_in(room).next().is_some() {
            return;
        }
        if tables.rooms.remove(&room).is_some() {
            let _ = self.handle.close_room(sim_room(room));
        }
    }

    /// Delivers one tick's outputs.
    fn route(&mut self, outputs: TickOutputs) {
        let tick = outputs.tick;
        let ctx = self.ctx.clone();
        let mut tables = ctx.rooms.registry.lock();
        // Joins answered this tick: the `ok` goes first, with the snapshot of this tick; what
        // else the tick had for the newcomer follows it.
        let mut joining: Vec<(ClientId, JoinReply)> = Vec::new();
        let mut emptied = Vec::new();
        for addressed in outputs.outputs {
            let client = addressed.client;
            if let Some((_, reply)) = joining.iter_mut().find(|(c, _)| *c == client) {
                match addressed.output {
                    SpatialOutput::Snapshot(snapshot) if reply.snapshot.is_none() => {
                        reply.snapshot = Some(snapshot);
                    }
                    other => reply.after.push(other),
                }
                continue;
            }
            match addressed.output {
                SpatialOutput::Joined(joined) => {
                    let room = core_room(joined.room);
                    let Some(seat) = tables.seats.get_mut(&client).filter(|s| s.room == room)
                    else {
                        // Left (or moved on) before the simulation placed it.
                        continue;
                    };
                    seat.avatar = Some(joined.avatar);
                    seat.seat = joined.seat;
                    let rid = seat.pending_join.take();
                    if let Some(live) = tables.rooms.get_mut(&room) {
                        live.clients.insert(client, joined.avatar);
                    }
                    if let Some(rid) = rid {
                        joining.push((
                            client,
                            JoinReply {
                                rid,
                                joined,
                                snapshot: None,
                                after: Vec::new(),
                            },
                        ));
                    }
                }
                other => {
                    if let Some(room) = self.deliver(&mut tables, client, other) {
                        emptied.push(room);
                    }
                }
            }
        }
        for (client, reply) in joining {
            let Some(session) = tables.seats.get(&client).and_then(|s| s.session.clone()) else {
                continue;
            };
            let room = core_room(reply.joined.room);
            let Some(info) = tables.rooms.get(&room).map(|live| live.info.clone()) else {
                continue;
            };
            let snapshot = reply
                .snapshot
                .map(|s| {
                    s.snapshot
                        .parts
                        .iter()
                        .map(|p| SnapshotData(p.to_vec()))
                        .collect()
                })
                .unwrap_or_default();
            wire::reply(
                &session.outbox,
                &ServerFrame::Ok {
                    rid: reply.rid,
                    result: OkResult::RoomJoined(Box::new(joined_result(
                        &info,
                        &reply.joined,
                        tick,
                        snapshot,
                    ))),
                },
            );
            for output in reply.after {
                if let Some(room) = self.deliver(&mut tables, client, output) {
                    emptied.push(room);
                }
            }
        }
        for notice in outputs.notices {
            match notice {
                RoomNotice::Created { .. } => {}
                RoomNotice::CreateRefused { room, reason } => {
                    tracing::warn!(room = %room, %reason, "the simulation refused to open a room");
                    tables.rooms.remove(&core_room(room));
                }
                RoomNotice::Closed { room } => {
                    self.closing.remove(&core_room(room));
                }
            }
        }
        for room in emptied {
            self.close_if_empty(&mut tables, room);
        }
        metrics::gauge!(telemetry::OCCUPANTS).set(tables.seats.len() as f64);
    }

    /// Delivers one output to its client's session; returns a room that may now be empty.
    fn deliver(
        &self,
        tables: &mut Tables,
        client: ClientId,
        output: SpatialOutput,
    ) -> Option<RoomId> {
        let seat = tables.seats.get_mut(&client)?;
        let session = seat.session.clone();
        match output {
            SpatialOutput::Joined(_) => None,
            SpatialOutput::JoinRefused { room, reason } => {
                let room = core_room(room);
                if seat.room != room {
                    return None;
                }
                if let (Some(session), Some(rid)) = (&session, seat.pending_join) {
                    let (code, message) = match reason {
                        JoinRefusal::RoomFull => (ErrorCode::RoomFull, "the room is full"),
                        JoinRefusal::UnknownRoom => {
                            (ErrorCode::NotFound, "the room is not open; try again")
                        }
                    };
                    wire::reply_err(&session.outbox, Some(rid), code, message);
                }
                tables.remove(client);
                Some(room)
            }
            SpatialOutput::Left { room } => {
                let room = core_room(room);
                if seat.room != room {
                    // Moved on to another room: the old one lets go.
                    return None;
                }
                if let Some(session) = &session {
                    let reason = self
                        .closing
                        .get(&room)
                        .copied()
                        .unwrap_or(RoomClosedReason::Deleted);
                    push_closed(&session.outbox, room, reason);
                }
                tables.remove(client);
                Some(room)
            }
            SpatialOutput::Snapshot(snapshot) => {
                if let Some(session) = &session {
                    send_snapshot(session, &snapshot);
                }
                None
            }
            SpatialOutput::Gains(update) => {
                if let Some(session) = &session {
                    wire::reply(
                        &session.outbox,
                        &ServerFrame::RoomGains {
                            room: core_room(update.room),
                            tick: update.tick,
                            gains: update.gains.iter().map(|g| (g.avatar.0, g.gain)).collect(),
                        },
                    );
                }
                None
            }
            SpatialOutput::Event(event) => {
                let frame = event_frame(&event, seat);
                if let (Some(session), Some(frame)) = (&session, frame) {
                    wire::reply(&session.outbox, &frame);
                }
                None
            }
            SpatialOutput::Correction(correction) => {
                if let Some(session) = &session {
                    wire::reply(
                        &session.outbox,
                        &ServerFrame::RoomCorrection {
                            room: seat.room,
                            tick: correction.tick,
                            reasons: correction
                                .reasons
                                .iter()
                                .map(|r| r.as_str().to_owned())
                                .collect(),
                            p: correction.position.to_array(),
                            yaw: correction.yaw,
                            v: correction.velocity.to_array(),
                        },
                    );
                }
                None
            }
        }
    }
}

struct JoinReply {
    rid: u32,
    joined: JoinedRoom,
    snapshot: Option<RoomSnapshot>,
    after: Vec<SpatialOutput>,
}

fn joined_result(
    info: &RoomInfo,
    joined: &JoinedRoom,
    tick: u64,
    snapshot: Vec<SnapshotData>,
) -> RoomJoined {
    RoomJoined {
        room: info.clone(),
        avatar: joined.avatar.0,
        tick,
        p: joined.position.to_array(),
        yaw: joined.yaw,
        seat: joined.seat,
        occupants: joined.occupants,
        snapshot,
    }
}

/// The `room.event` for one simulation event, as `seat`'s client receives it (its own seat
/// changes are recorded on the way).
fn event_frame(event: &RoomEvent, seat: &mut Seat) -> Option<ServerFrame> {
    let room = seat.room;
    let frame = |kind, avatar: u32, user, seat_no| ServerFrame::RoomEvent {
        room,
        kind,
        avatar: Some(avatar),
        user,
        seat: seat_no,
        reason: None,
    };
    Some(match event {
        RoomEvent::Joined { avatar, client, .. } => frame(
            RoomEventKind::Joined,
            avatar.0,
            Some(atrium_core::ids::UserId::from(client.0)),
            None,
        ),
        RoomEvent::Left { avatar, .. } => frame(RoomEventKind::Left, avatar.0, None, None),
        RoomEvent::Seated {
            avatar, seat: no, ..
        } => {
            if seat.avatar == Some(*avatar) {
                seat.seat = Some(*no);
            }
            frame(RoomEventKind::Seated, avatar.0, None, Some(*no))
        }
        RoomEvent::Stood {
            avatar, seat: no, ..
        } => {
            if seat.avatar == Some(*avatar) {
                seat.seat = None;
            }
            frame(RoomEventKind::Stood, avatar.0, None, Some(*no))
        }
    })
}

/// Tells a session it is no longer in `room`.
pub(crate) fn push_closed(outbox: &SessionOutbox, room: RoomId, reason: RoomClosedReason) {
    wire::reply(
        outbox,
        &ServerFrame::RoomEvent {
            room,
            kind: RoomEventKind::Closed,
            avatar: None,
            user: None,
            seat: None,
            reason: Some(reason),
        },
    );
}

/// Snapshot parts go as datagrams when the session has a datagram sink and the part fits;
/// otherwise as droppable `room.snapshot` frames, a newer part replacing a queued one of the
/// same index.
fn send_snapshot(session: &SessionShared, snapshot: &RoomSnapshot) {
    let encoded = &snapshot.snapshot;
    let sink = session.datagrams();
    for (index, part) in encoded.parts.iter().enumerate() {
        if encoded.delivery == SnapshotDelivery::Datagrams
            && let Some(sink) = &sink
            && sink
                .max_datagram_size()
                .is_some_and(|max| part.len() + SNAP_OVERHEAD <= max)
            && sink.send_datagram(Datagram::encode_snap(part))
        {
            metrics::counter!(telemetry::SNAPSHOT_PARTS, "via" => "datagram").increment(1);
            continue;
        }
        let Some(frame) = wire::encode(&ServerFrame::RoomSnapshot {
            data: SnapshotData(part.to_vec()),
        }) else {
            continue;
        };
        metrics::counter!(telemetry::SNAPSHOT_PARTS, "via" => "frame").increment(1);
        session.outbox.push(
            frame,
            Delivery::Droppable {
                key: snapshot_key(index),
            },
        );
    }
}

fn snapshot_key(part: usize) -> u64 {
    let mut hasher = DefaultHasher::new();
    ("room.snapshot", part).hash(&mut hasher);
    hasher.finish()
}

fn core_room(room: atrium_spatial::RoomId) -> RoomId {
    RoomId::from(room.0)
}
