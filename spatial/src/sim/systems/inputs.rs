//! Applies each avatar's parked inputs: teleport first, then the latest move, each validated.

use bevy_ecs::entity::Entity;
use bevy_ecs::system::{Query, Res, ResMut};
use glam::Vec3;

use crate::input::{
    CorrectionReason, MoveLimits, Pose, TeleportTarget, resolve_teleport, validate_move,
};
use crate::messages::{Correction, RoomEvent, SpatialOutput};
use crate::sim::components::{
    Avatar, MoveClock, Occupants, PendingInput, Position, Seat, Velocity, Yaw,
};
use crate::sim::resources::{Outbox, Settings, SimStats, SimTick};
use crate::telemetry;

type AvatarItems<'a> = (
    Entity,
    &'a Avatar,
    &'a mut PendingInput,
    &'a mut Position,
    &'a mut Yaw,
    &'a mut Velocity,
    &'a mut Seat,
    &'a mut MoveClock,
);

/// Seat changes to announce once the avatar loop is done.
struct SeatChange {
    room: Entity,
    event: RoomEvent,
}

pub(crate) fn apply_inputs(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<SimStats>,
    mut rooms: Query<&mut Occupants>,
    mut avatars: Query<AvatarItems>,
) {
    let config = &settings.0;
    let limits = MoveLimits {
        max_speed: config.max_speed,
        tick_seconds: config.tick_seconds(),
        tolerance: config.move_tolerance,
        max_budget_ticks: config.max_move_budget_ticks,
    };
    let mut seat_changes = Vec::new();
    for (entity, avatar, mut pending, mut position, mut yaw, mut velocity, mut seat, mut clock) in
        &mut avatars
    {
        let (teleport, movement) = (pending.teleport.take(), pending.movement.take());
        if teleport.is_none() && movement.is_none() {
            continue;
        }
        // The room's seats matter only for teleports and seated avatars: most moves skip the
        // lookup.
        if (teleport.is_some() || seat.0.is_some()) && !rooms.contains(avatar.room) {
            continue;
        }
        let template = &avatar.template;
        let mut reasons = Vec::new();
        let stand_up =
            |seat: &mut Seat, occupants: &mut Occupants, changes: &mut Vec<SeatChange>| {
                if let Some(index) = seat.0.take() {
                    if let Some(slot) = occupants.seats.get_mut(usize::from(index)) {
                        *slot = None;
                    }
                    changes.push(SeatChange {
                        room: avatar.room,
                        event: RoomEvent::Stood {
                            room: avatar.room_id,
                            avatar: avatar.id,
                            seat: index,
                        },
                    });
                }
            };

        if let (Some(to), Ok(mut occupants)) = (teleport, rooms.get_mut(avatar.room)) {
            match resolve_teleport(template, to, config.teleport_snap_radius) {
                None => reasons.push(CorrectionReason::TeleportRefused),
                Some(TeleportTarget::Seat(index)) => {
                    let slot = occupants.seats.get(usize::from(index)).copied().flatten();
                    if slot.is_some_and(|holder| holder != entity) {
                        reasons.push(CorrectionReason::SeatTaken);
                    } else {
                        if seat.0 != Some(index) {
                            stand_up(&mut seat, &mut occupants, &mut seat_changes);
                            if let Some(slot) = occupants.seats.get_mut(usize::from(index)) {
                                *slot = Some(entity);
                            }
                            seat.0 = Some(index);
                            seat_changes.push(SeatChange {
                                room: avatar.room,
                                event: RoomEvent::Seated {
                                    room: avatar.room_id,
                                    avatar: avatar.id,
                                    seat: index,
                                },
                            });
                        }
                        // Teleporting to one's own seat settles back onto it.
                        let place = &template.seats[usize::from(index)];
                        position.0 = place.position;
                        yaw.0 = place.yaw();
                        velocity.0 = Vec3::ZERO;
                    }
                }
                Some(TeleportTarget::Spawn(index)) => {
                    stand_up(&mut seat, &mut occupants, &mut seat_changes);
                    let place = &template.spawn_points[usize::from(index)];
                    position.0 = place.position;
                    yaw.0 = place.yaw();
                    velocity.0 = Vec3::ZERO;
                }
            }
            // A teleport restarts the walking budget from the new spot.
            clock.last_move = tick.0;
        }

        if let Some(requested) = movement {
            let outcome = validate_move(
                Pose {
                    position: position.0,
                    yaw: yaw.0,
                },
                tick.0.saturating_sub(clock.last_move),
                Pose {
                    position: requested.position,
                    yaw: requested.yaw,
                },
                requested.velocity,
                template,
                &limits,
            );
            position.0 = outcome.position;
            yaw.0 = outcome.yaw;
            velocity.0 = outcome.velocity;
            reasons.extend(outcome.corrections);
            clock.last_move = tick.0;
            let seat_position = seat
                .0
                .and_then(|index| template.seats.get(usize::from(index)))
                .map(|place| place.position);
            if seat_position.is_some_and(|p| p.distance(position.0) > config.seat_release_distance)
                && let Ok(mut occupants) = rooms.get_mut(avatar.room)
            {
                stand_up(&mut seat, &mut occupants, &mut seat_changes);
            }
        }

        if !reasons.is_empty() {
            for reason in &reasons {
                metrics::counter!(telemetry::CORRECTIONS, "reason" => reason.as_str()).increment(1);
            }
            stats.corrections += reasons.len() as u64;
            outbox.send(
                avatar.client,
                SpatialOutput::Correction(Correction {
                    tick: tick.0,
                    reasons,
                    position: position.0,
                    yaw: yaw.0,
                    velocity: velocity.0,
                }),
            );
        }
    }
    for change in seat_changes {
        if let Ok(occupants) = rooms.get(change.room) {
            outbox.broadcast(&occupants.members, &change.event, None);
        }
    }
}
