//! Per room: the roster (every member's pose, zone presence and quantised state, computed once
//! here for the rest of the tick), the spatial grid and the stage list.

use bevy_ecs::system::Query;

use crate::sim::components::{
    Avatar, Member, Occupants, Position, Room, RoomGrid, Roster, Seat, Stage, Yaw,
};
use crate::sim::parallel::batching;
use crate::snapshot::{AvatarState, flags, quantize_position, quantize_yaw};

type RoomItems<'a> = (
    &'a Room,
    &'a Occupants,
    &'a mut Roster,
    &'a mut RoomGrid,
    &'a mut Stage,
);

pub(crate) fn rebuild_grids(
    mut rooms: Query<RoomItems>,
    avatars: Query<(&Avatar, &Position, &Yaw, &Seat)>,
) {
    rooms.par_iter_mut().batching_strategy(batching()).for_each(
        |(room, occupants, mut roster, mut grid, mut stage)| {
            let template = &room.template;
            roster.0.clear();
            // Members are in join order, which is ascending id: the roster comes out sorted.
            for (entity, _) in &occupants.members {
                let Ok((avatar, position, yaw, seat)) = avatars.get(*entity) else {
                    continue;
                };
                let zones = template.zone_presence(position.0);
                let mut bits = 0;
                if zones.on_stage {
                    bits |= flags::ON_STAGE;
                }
                if seat.0.is_some() {
                    bits |= flags::SEATED;
                }
                if zones.private_zone.is_some() {
                    bits |= flags::IN_PRIVATE_ZONE;
                }
                let [x, y, z] = quantize_position(&template.bounds, position.0);
                roster.0.push(Member {
                    position: position.0,
                    yaw: yaw.0,
                    zones,
                    state: AvatarState {
                        id: avatar.id,
                        x,
                        y,
                        z,
                        yaw: quantize_yaw(yaw.0),
                        flags: bits,
                    },
                });
            }
            debug_assert!(roster.0.windows(2).all(|w| w[0].state.id < w[1].state.id));

            let RoomGrid { grid, items } = &mut *grid;
            items.clear();
            stage.0.clear();
            for (index, member) in roster.0.iter().enumerate() {
                let index = index as u32; // a room holds at most MAX_ROOM_CAPACITY avatars
                // On a stage *and* not isolated in a private zone: broadcast and visible to all.
                let broadcasting = member.zones.on_stage && member.zones.private_zone.is_none();
                items.push(((index, broadcasting), member.position));
                if broadcasting {
                    stage.0.push(index);
                }
            }
            grid.rebuild(template.bounds.min, template.bounds.max, items);
        },
    );
}
