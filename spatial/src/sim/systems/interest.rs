//! Interest management: who each client sees.
//!
//! A client sees itself, everyone on a stage, and everyone within the area-of-interest radius,
//! at most `max_visible` avatars in that priority order (nearest first among the rest).

use bevy_ecs::entity::Entity;
use bevy_ecs::system::{Query, Res};

use crate::sim::components::{Avatar, Interest, Position, RoomGrid, Stage, Visible};
use crate::sim::resources::Settings;

const RANK_SELF: u8 = 0;
const RANK_STAGE: u8 = 1;
const RANK_NEAR: u8 = 2;

pub(crate) fn update_interest(
    settings: Res<Settings>,
    rooms: Query<(&RoomGrid, &Stage)>,
    mut viewers: Query<(Entity, &Avatar, &Position, &mut Interest)>,
) {
    let radius = settings.0.aoi_radius;
    let max_visible = settings.0.max_visible;
    for (entity, avatar, position, mut interest) in &mut viewers {
        let visible = &mut interest.visible;
        visible.clear();
        visible.push(Visible {
            entity,
            rank: RANK_SELF,
            distance_sq: 0.0,
        });
        let Ok((grid, stage)) = rooms.get(avatar.room) else {
            continue;
        };
        for &(other, at) in &stage.0 {
            if other != entity {
                visible.push(Visible {
                    entity: other,
                    rank: RANK_STAGE,
                    distance_sq: at.distance_squared(position.0),
                });
            }
        }
        // Stage avatars are already in; the grid adds everyone else nearby.
        grid.0
            .for_each_within(position.0, radius, |(other, on_stage), _, distance_sq| {
                if other != entity && !on_stage {
                    visible.push(Visible {
                        entity: other,
                        rank: RANK_NEAR,
                        distance_sq,
                    });
                }
            });
        if visible.len() > max_visible {
            let key = |v: &Visible| (v.rank, v.distance_sq);
            visible.select_nth_unstable_by(max_visible - 1, |a, b| {
                key(a)
                    .partial_cmp(&key(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            visible.truncate(max_visible);
        }
    }
}
