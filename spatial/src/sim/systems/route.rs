//! First step of a tick: take the queued inputs, in arrival order.
//!
//! Room creation, joins and leaves change which entities exist, so they are applied here with
//! exclusive world access (two joins racing for the last seat are resolved in arrival order).
//! Moves and teleports are only parked on their avatar for the input system; acknowledgements
//! are applied to the client's snapshot history right away.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bevy_ecs::entity::Entity;
use bevy_ecs::system::{Query, ResMut};
use bevy_ecs::world::World;
use glam::Vec3;

use crate::ids::{AvatarId, ClientId, RoomId};
use crate::input::AvatarInput;
use crate::messages::{
    JoinRefusal, JoinedRoom, RoomEvent, RoomNotice, SpatialInput, SpatialOutput,
};
use crate::sim::components::{
    Avatar, Hearing, Interest, MoveClock, Occupants, Outgoing, PendingInput, Position,
    RequestedMove, Room, RoomFrames, RoomGrid, RoomHearing, Roster, Seat, SnapshotState, Stage,
    Velocity, Yaw,
};
use crate::sim::parallel::batching;
use crate::sim::resources::{Directory, Inbox, Outbox, Settings, SimStats, SimTick};
use crate::snapshot::history::AckOutcome;
use crate::telemetry;
use crate::template::RoomTemplate;

/// Drains the inbox (exclusive system).
pub(crate) fn route_inputs(world: &mut World) {
    let mut inputs = std::mem::take(&mut world.resource_mut::<Inbox>().0);
    for input in inputs.drain(..) {
        match input {
            SpatialInput::CreateRoom { room, template } => create_room(world, room, template),
            SpatialInput::CloseRoom { room } => close_room(world, room),
            SpatialInput::Join { client, room } => join(world, client, room),
            SpatialInput::Leave { client } => leave(world, client),
            SpatialInput::Avatar { client, input } => park_input(world, client, input),
            SpatialInput::Ack { client, tick } => acknowledge(world, client, tick),
        }
    }
    // Nothing was queued meanwhile (this system has the world to itself): hand the emptied
    // buffer back so the next tick's inputs reuse its memory.
    world.resource_mut::<Inbox>().0 = inputs;
}

fn ignore(world: &mut World, reason: &'static str) {
    world.resource_mut::<SimStats>().ignored_inputs += 1;
    metrics::counter!(telemetry::IGNORED_INPUTS, "reason" => reason).increment(1);
}

fn avatar_of(world: &World, client: ClientId) -> Option<Entity> {
    world.resource::<Directory>().clients.get(&client).copied()
}

fn create_room(world: &mut World, room: RoomId, template: Arc<RoomTemplate>) {
    let refusal = if world.resource::<Directory>().rooms.contains_key(&room) {
        Some("a room with this id already exists".to_string())
    } else if world.resource::<Directory>().rooms.len() >= world.resource::<Settings>().0.max_rooms
    {
        Some("the simulation is at its room limit".to_string())
    } else {
        template.validate().err().map(|e| e.to_string())
    };
    if let Some(reason) = refusal {
        tracing::debug!(%room, %reason, "room creation refused");
        world
            .resource_mut::<Outbox>()
            .notices
            .push(RoomNotice::CreateRefused { room, reason });
        return;
    }
    let cell = world.resource::<Settings>().0.grid_cell_size;
    let seats = vec![None; template.seats.len()];
    let entity = world
        .spawn((
            Room {
                id: room,
                template,
                next_avatar: 1,
                spawn_cursor: 0,
            },
            Occupants {
                members: Vec::new(),
                seats,
            },
            RoomGrid::new(cell),
            Stage::default(),
            Roster::default(),
            RoomFrames::default(),
            RoomHearing::default(),
        ))
        .id();
    world.resource_mut::<Directory>().rooms.insert(room, entity);
    world
        .resource_mut::<Outbox>()
        .notices
        .push(RoomNotice::Created { room });
}

fn close_room(world: &mut World, room: RoomId) {
    let Some(entity) = world.resource_mut::<Directory>().rooms.remove(&room) else {
        tracing::debug!(%room, "close of an unknown room ignored");
        return;
    };
    let members = world
        .get::<Occupants>(entity)
        .map(|o| o.members.clone())
        .unwrap_or_default();
    for (avatar, client) in members {
        settle_acks(world, avatar);
        world.despawn(avatar);
        world.resource_mut::<Directory>().clients.remove(&client);
        world
            .resource_mut::<Outbox>()
            .send(client, SpatialOutput::Left { room });
    }
    world.despawn(entity);
    world
        .resource_mut::<Outbox>()
        .notices
        .push(RoomNotice::Closed { room });
}

/// Where a newcomer goes: the first free seat if the template seats arrivals, otherwise the
/// next spawn point off-stage (round robin; stage spawn points are for teleports only, unless
/// every spawn point is on a stage).
fn placement(room: &mut Room, occupants: &Occupants) -> (Vec3, f32, Option<u16>) {
    let template = Arc::clone(&room.template);
    if template.auto_seat {
        let free = occupants.seats.iter().position(Option::is_none);
        if let Some(index) = free.and_then(|i| u16::try_from(i).ok()) {
            let seat = &template.seats[usize::from(index)];
            return (seat.position, seat.yaw(), Some(index));
        }
    }
    let arrivals: Vec<usize> = (0..template.spawn_points.len())
        .filter(|&i| {
            !template
                .zone_presence(template.spawn_points[i].position)
                .on_stage
        })
        .collect();
    let pick = if arrivals.is_empty() {
        room.spawn_cursor % template.spawn_points.len()
    } else {
        arrivals[room.spawn_cursor % arrivals.len()]
    };
    room.spawn_cursor = room.spawn_cursor.wrapping_add(1);
    let spawn = &template.spawn_points[pick];
    (spawn.position, spawn.yaw(), None)
}

fn refuse(world: &mut World, client: ClientId, room: RoomId, reason: JoinRefusal) {
    world
        .resource_mut::<Outbox>()
        .send(client, SpatialOutput::JoinRefused { room, reason });
}

fn join(world: &mut World, client: ClientId, room: RoomId) {
    let Some(room_entity) = world.resource::<Directory>().rooms.get(&room).copied() else {
        refuse(world, client, room, JoinRefusal::UnknownRoom);
        return;
    };
    if let Some(existing) = avatar_of(world, client) {
        let same_room = world
            .get::<Avatar>(existing)
            .is_some_and(|a| a.room == room_entity);
        if same_room {
            rejoin(world, existing, room_entity);
            return;
        }
        leave(world, client);
    }
    let tick = world.resource::<SimTick>().0;
    let mut rooms = world.query::<(&mut Room, &Occupants)>();
    let Ok((mut r, occupants)) = rooms.get_mut(world, room_entity) else {
        return;
    };
    if occupants.members.len() >= r.template.capacity as usize {
        refuse(world, client, room, JoinRefusal::RoomFull);
        return;
    }
    let avatar_id = AvatarId(r.next_avatar);
    r.next_avatar = r.next_avatar.saturating_add(1);
    let (position, yaw, seat) = placement(&mut r, occupants);
    let template = Arc::clone(&r.template);
    let avatar = world
        .spawn((
            Avatar {
                id: avatar_id,
                client,
                room: room_entity,
                room_id: room,
                template: Arc::clone(&template),
            },
            (
                Position(position),
                Yaw(yaw),
                Velocity::default(),
                Seat(seat),
            ),
            PendingInput::default(),
            MoveClock { last_move: tick },
            Interest::default(),
            Hearing::default(),
            SnapshotState::default(),
            Outgoing::default(),
        ))
        .id();
    world
        .resource_mut::<Directory>()
        .clients
        .insert(client, avatar);
    let members = {
        let Some(mut occupants) = world.get_mut::<Occupants>(room_entity) else {
            return;
        };
        occupants.members.push((avatar, client));
        if let Some(index) = seat {
            occupants.seats[usize::from(index)] = Some(avatar);
        }
        occupants.members.clone()
    };
    let mut outbox = world.resource_mut::<Outbox>();
    outbox.send(
        client,
        SpatialOutput::Joined(JoinedRoom {
            room,
            avatar: avatar_id,
            template,
            position,
            yaw,
            seat,
            occupants: members.len() as u32,
        }),
    );
    let joined = RoomEvent::Joined {
        room,
        avatar: avatar_id,
        client,
    };
    outbox.broadcast(&members, &joined, Some(client));
    if let Some(seat) = seat {
        let seated = RoomEvent::Seated {
            room,
            avatar: avatar_id,
            seat,
        };
        outbox.broadcast(&members, &seated, Some(client));
    }
}

/// A join to the room the client is already in: answer again and start its streams afresh
/// (a reconnecting client lost its snapshot state and gains).
fn rejoin(world: &mut World, avatar: Entity, room_entity: Entity) {
    let occupants = world
        .get::<Occupants>(room_entity)
        .map_or(0, |o| o.members.len() as u32);
    settle_acks(world, avatar);
    let Ok(mut entity) = world.get_entity_mut(avatar) else {
        return;
    };
    if let Some(mut state) = entity.get_mut::<SnapshotState>() {
        state.history.reset();
    }
    if let Some(mut hearing) = entity.get_mut::<Hearing>() {
        hearing.held.clear();
    }
    let listener = entity.get::<Avatar>().map(|a| a.id);
    if let (Some(listener), Some(mut table)) = (listener, world.get_mut::<RoomHearing>(room_entity))
    {
        table.forget_listener(listener);
    }
    let Ok(entity) = world.get_entity(avatar) else {
        return;
    };
    let (Some(a), Some(p), Some(y), Some(s)) = (
        entity.get::<Avatar>(),
        entity.get::<Position>(),
        entity.get::<Yaw>(),
        entity.get::<Seat>(),
    ) else {
        return;
    };
    let joined = JoinedRoom {
        room: a.room_id,
        avatar: a.id,
        template: Arc::clone(&a.template),
        position: p.0,
        yaw: y.0,
        seat: s.0,
        occupants,
    };
    let client = a.client;
    world
        .resource_mut::<Outbox>()
        .send(client, SpatialOutput::Joined(joined));
}

fn leave(world: &mut World, client: ClientId) {
    let Some(avatar) = world.resource_mut::<Directory>().clients.remove(&client) else {
        ignore(world, "no_avatar");
        return;
    };
    let Some((room_entity, room, avatar_id)) = world
        .get::<Avatar>(avatar)
        .map(|a| (a.room, a.room_id, a.id))
    else {
        return;
    };
    let seat = world.get::<Seat>(avatar).and_then(|s| s.0);
    settle_acks(world, avatar);
    world.despawn(avatar);
    let members = match world.get_mut::<Occupants>(room_entity) {
        Some(mut occupants) => {
            occupants.members.retain(|(entity, _)| *entity != avatar);
            if let Some(slot) = seat.and_then(|s| occupants.seats.get_mut(usize::from(s))) {
                *slot = None;
            }
            occupants.members.clone()
        }
        None => Vec::new(),
    };
    let mut outbox = world.resource_mut::<Outbox>();
    outbox.send(client, SpatialOutput::Left { room });
    outbox.broadcast(
        &members,
        &RoomEvent::Left {
            room,
            avatar: avatar_id,
        },
        None,
    );
}

fn park_input(world: &mut World, client: ClientId, input: AvatarInput) {
    if !park_move(world, client, input) {
        ignore(world, "no_avatar");
    }
}

/// Parks a move or teleport on the client's avatar; false if it has none.
fn park_move(world: &mut World, client: ClientId, input: AvatarInput) -> bool {
    let Some(mut pending) =
        avatar_of(world, client).and_then(|avatar| world.get_mut::<PendingInput>(avatar))
    else {
        return false;
    };
    match input {
        AvatarInput::Move {
            position,
            yaw,
            velocity,
        } => {
            pending.movement = Some(RequestedMove {
                position,
                yaw,
                velocity,
            })
        }
        AvatarInput::Teleport { to } => {
            // A move that arrived before the teleport was meant for the old place; applied
            // after it, it would drag the avatar back. Moves arriving later are kept.
            pending.teleport = Some(to);
            pending.movement = None;
        }
    }
    true
}

fn acknowledge(world: &mut World, client: ClientId, tick: crate::ids::Tick) {
    if !park_ack(world, client, tick) {
        ignore(world, "no_avatar");
    }
}

/// Queues an acknowledgement on the client's avatar; false if it has none.
fn park_ack(world: &mut World, client: ClientId, tick: crate::ids::Tick) -> bool {
    let Some(mut pending) =
        avatar_of(world, client).and_then(|avatar| world.get_mut::<PendingInput>(avatar))
    else {
        return false;
    };
    pending.acks.push(tick);
    true
}

/// Parks a move, teleport or acknowledgement on arrival, when that is exactly what routing it
/// at the next tick would do: nothing is queued ahead of it (so no join, leave or room change
/// of this tick can come first) and the client has an avatar. Anything else is handed back to
/// be queued. This takes the per-input lookups off the tick: the driver parks inputs as they
/// arrive between ticks, and the tick only applies them.
pub(crate) fn park_on_arrival(world: &mut World, input: SpatialInput) -> Option<SpatialInput> {
    if !world.resource::<Inbox>().0.is_empty() {
        return Some(input);
    }
    match input {
        SpatialInput::Avatar { client, input } => {
            (!park_move(world, client, input)).then_some(SpatialInput::Avatar { client, input })
        }
        SpatialInput::Ack { client, tick } => {
            (!park_ack(world, client, tick)).then_some(SpatialInput::Ack { client, tick })
        }
        other => Some(other),
    }
}

/// Applies an avatar's queued acknowledgements now (before its history is reset or it leaves,
/// so they count exactly as if applied on arrival).
fn settle_acks(world: &mut World, avatar: Entity) {
    let Ok(mut entity) = world.get_entity_mut(avatar) else {
        return;
    };
    let acks = entity
        .get_mut::<PendingInput>()
        .map(|mut pending| std::mem::take(&mut pending.acks))
        .unwrap_or_default();
    let unknown = entity.get_mut::<SnapshotState>().map_or(0, |mut state| {
        acks.iter()
            .filter(|tick| state.history.acknowledge(**tick) == AckOutcome::Unknown)
            .count()
    });
    for _ in 0..unknown {
        ignore(world, "unknown_ack");
    }
}

/// Applies every avatar's queued acknowledgements (in arrival order per client), in parallel.
pub(crate) fn apply_acks(
    mut stats: ResMut<SimStats>,
    mut avatars: Query<(&mut PendingInput, &mut SnapshotState)>,
) {
    let unknown = AtomicU64::new(0);
    avatars
        .par_iter_mut()
        .batching_strategy(batching())
        .for_each(|(mut pending, mut state)| {
            if pending.acks.is_empty() {
                return;
            }
            let mut refused = 0;
            for tick in pending.acks.drain(..) {
                if state.history.acknowledge(tick) == AckOutcome::Unknown {
                    refused += 1;
                }
            }
            if refused > 0 {
                unknown.fetch_add(refused, Ordering::Relaxed);
            }
        });
    let unknown = unknown.into_inner();
    if unknown > 0 {
        stats.ignored_inputs += unknown;
        metrics::counter!(telemetry::IGNORED_INPUTS, "reason" => "unknown_ack").increment(unknown);
    }
}
