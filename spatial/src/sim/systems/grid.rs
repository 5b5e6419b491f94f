//! Rebuilds each room's roster, spatial hash grid and stage list, and every avatar's zone
//! presence and quantised state (computed once here, copied into every snapshot showing it).

use bevy_ecs::system::Query;

use crate::sim::components::{Avatar, Member, Position, RoomGrid, Roster, Seat, Stage, Yaw, Zones};
use crate::snapshot::{AvatarState, flags, quantize_position, quantize_yaw};

pub(crate) fn rebuild_grids(
    mut rooms: Query<(&mut RoomGrid, &mut Stage, &mut Roster)>,
    mut avatars: Query<(&Avatar, &Position, &Yaw, &Seat, &mut Zones)>,
) {
    for (_, _, mut roster) in &mut rooms {
        roster.0.clear();
    }
    for (avatar, position, yaw, seat, mut zones) in &mut avatars {
        zones.0 = avatar.template.zone_presence(position.0);
        let mut bits = 0;
        if zones.0.on_stage {
            bits |= flags::ON_STAGE;
        }
        if seat.0.is_some() {
            bits |= flags::SEATED;
        }
        if zones.0.private_zone.is_some() {
            bits |= flags::IN_PRIVATE_ZONE;
        }
        let [x, y, z] = quantize_position(&avatar.template.bounds, position.0);
        if let Ok((_, _, mut roster)) = rooms.get_mut(avatar.room) {
            roster.0.push(Member {
                position: position.0,
                yaw: yaw.0,
                zones: zones.0,
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
    }
    for (mut grid, mut stage, mut roster) in &mut rooms {
        // Query order is spawn order, nearly sorted already: cheap to sort.
        roster.0.sort_unstable_by_key(|m| m.state.id);
        grid.0.clear();
        stage.0.clear();
        for (index, member) in roster.0.iter().enumerate() {
            let index = index as u32; // a room holds at most MAX_ROOM_CAPACITY avatars
            // On a stage *and* not isolated in a private zone: broadcast and visible to all.
            let broadcasting = member.zones.on_stage && member.zones.private_zone.is_none();
            grid.0.insert((index, broadcasting), member.position);
            if broadcasting {
                stage.0.push(index);
            }
        }
    }
}
