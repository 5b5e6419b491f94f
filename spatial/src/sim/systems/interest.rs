//! Interest management: who each client sees.
//!
//! A client sees itself, everyone on a stage, and everyone within the area-of-interest radius,
//! at most `max_visible` avatars in that priority order (nearest first among the rest). The
//! result is kept in roster order (ascending avatar id) for the audio and snapshot steps.

use bevy_ecs::system::{Query, Res};

use crate::sim::components::{Avatar, Interest, Position, RoomGrid, Roster, Stage, Visible};
use crate::sim::resources::Settings;

const RANK_SELF: u64 = 0;
const RANK_STAGE: u64 = 1;
const RANK_NEAR: u64 = 2;

fn priority(rank: u64, distance_sq: f32) -> u64 {
    (rank << 32) | u64::from(distance_sq.max(0.0).to_bits())
}

pub(crate) fn update_interest(
    settings: Res<Settings>,
    rooms: Query<(&RoomGrid, &Stage, &Roster)>,
    mut viewers: Query<(&Avatar, &Position, &mut Interest)>,
) {
    let radius = settings.0.aoi_radius;
    let max_visible = settings.0.max_visible;
    for (avatar, position, mut interest) in &mut viewers {
        let visible = &mut interest.visible;
        visible.clear();
        let Ok((grid, stage, roster)) = rooms.get(avatar.room) else {
            continue;
        };
        let me = roster
            .0
            .binary_search_by_key(&avatar.id, |m| m.state.id)
            .ok()
            .map(|i| i as u32);
        if let Some(me) = me {
            visible.push(Visible {
                member: me,
                priority: priority(RANK_SELF, 0.0),
            });
        }
        for &member in &stage.0 {
            if Some(member) != me {
                let at = roster.0[member as usize].position;
                visible.push(Visible {
                    member,
                    priority: priority(RANK_STAGE, at.distance_squared(position.0)),
                });
            }
        }
        // Stage members are already in; the grid adds everyone else nearby.
        grid.0
            .for_each_within(position.0, radius, |(member, on_stage), _, distance_sq| {
                if Some(member) != me && !on_stage {
                    visible.push(Visible {
                        member,
                        priority: priority(RANK_NEAR, distance_sq),
                    });
                }
            });
        if visible.len() > max_visible {
            visible.select_nth_unstable_by_key(max_visible - 1, |v| v.priority);
            visible.truncate(max_visible);
        }
        visible.sort_unstable_by_key(|v| v.member);
    }
}
