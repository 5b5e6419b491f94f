//! Rebuilds each room's spatial hash grid and stage list, and every avatar's zone presence.

use bevy_ecs::entity::Entity;
use bevy_ecs::system::Query;

use crate::sim::components::{Avatar, Position, RoomGrid, Stage, Zones};

pub(crate) fn rebuild_grids(
    mut rooms: Query<(&mut RoomGrid, &mut Stage)>,
    mut avatars: Query<(Entity, &Avatar, &Position, &mut Zones)>,
) {
    for (mut grid, mut stage) in &mut rooms {
        grid.0.clear();
        stage.0.clear();
    }
    for (entity, avatar, position, mut zones) in &mut avatars {
        zones.0 = avatar.template.zone_presence(position.0);
        // On a stage *and* not isolated in a private zone: broadcast and visible to all.
        let broadcasting = zones.0.on_stage && zones.0.private_zone.is_none();
        if let Ok((mut grid, mut stage)) = rooms.get_mut(avatar.room) {
            grid.0.insert((entity, broadcasting), position.0);
            if broadcasting {
                stage.0.push((entity, position.0));
            }
        }
    }
}
