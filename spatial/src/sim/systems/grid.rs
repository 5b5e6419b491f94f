//! Per room: the roster (every member's pose, zone presence and quantised state, computed once
//! here for the rest of the tick), the interest matrix or the spatial grid, the stage list, and
//! the snapshot material every client's snapshot is cut from ([`prepare_frames`]).

use bevy_ecs::system::{Query, Res};

use crate::sim::components::{
    Avatar, MATRIX_MEMBERS, Member, Occupants, Position, Room, RoomFrames, RoomGrid, RoomHearing,
    Roster, Seat, SnapshotState, Stage, Yaw,
};
use crate::sim::parallel::batching;
use crate::sim::resources::{Settings, SimTick};
use crate::sim::systems::snapshots::prepare_frames;
use crate::snapshot::{AvatarState, flags, quantize_position, quantize_yaw};

type RoomItems<'a> = (
    &'a Room,
    &'a Occupants,
    &'a mut Roster,
    &'a mut RoomGrid,
    &'a mut Stage,
    &'a mut RoomFrames,
    &'a mut RoomHearing,
);

pub(crate) fn rebuild_grids(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    mut rooms: Query<RoomItems>,
    avatars: Query<(&Avatar, &Position, &Yaw, &Seat)>,
    viewers: Query<&SnapshotState>,
) {
    let radius = settings.0.aoi_radius;
    let max_visible = settings.0.max_visible;
    let (now, window) = (tick.0, settings.0.ack_window);
    rooms.par_iter_mut().batching_strategy(batching()).for_each(
        |(room, occupants, mut roster, mut grid, mut stage, mut frames, mut hearing)| {
            let template = &room.template;
            roster.0.clear();
            hearing.clients.clear();
            // Members are in join order, which is ascending id: the roster comes out sorted.
            for (entity, client) in &occupants.members {
                let Ok((avatar, position, yaw, seat)) = avatars.get(*entity) else {
                    continue;
                };
                hearing.clients.push(*client);
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
            prepare_frames(now, window, occupants, &roster.0, &mut frames, &viewers);

            let RoomGrid {
                grid,
                items,
                matrix,
                words,
                xs,
                zs,
            } = &mut *grid;
            stage.0.clear();
            for (index, member) in roster.0.iter().enumerate() {
                // Broadcasting from a stage: visible to all.
                if member.zones.broadcasts() {
                    stage.0.push(index as u32); // a room holds at most MAX_ROOM_CAPACITY avatars
                }
            }
            let members = roster.0.len();
            if members <= max_visible && members <= MATRIX_MEMBERS {
                // Nobody can be crowded out (everyone in view is at most the whole room), so
                // each interest set is exactly: oneself, the stage and whoever is in range. The
                // grid is not needed.
                interest_matrix(&roster.0, &stage.0, radius, matrix, words, (xs, zs));
            } else {
                matrix.clear();
                *words = 0;
                items.clear();
                items.extend(roster.0.iter().enumerate().map(|(index, member)| {
                    ((index as u32, member.zones.broadcasts()), member.position)
                }));
                grid.rebuild(template.bounds.min, template.bounds.max, items);
            }
        },
    );
}

/// Fills `matrix` (see [`RoomGrid::matrix`]) for `roster`: row `i` has bit `j` set when member
/// `i` sees member `j` — itself, everyone on a stage (`stage`), and everyone within `radius` on
/// the floor plane, tested exactly as [`crate::grid::SpatialGrid::for_each_within`] does.
///
/// Every row is computed in full, eight members at a time from flat coordinate arrays
/// (`xs`, `zs`, scratch), each test a bit (the compiler makes the eight lanes vector
/// compares). That is twice the tests of one per pair, but without a branch per pair; and the
/// matrix comes out symmetric all the same, since `(xj − xi)²` is `(xi − xj)²` exactly.
fn interest_matrix(
    roster: &[Member],
    stage: &[u32],
    radius: f32,
    matrix: &mut Vec<u64>,
    words: &mut usize,
    (xs, zs): (&mut Vec<f32>, &mut Vec<f32>),
) {
    let n = roster.len();
    *words = n.div_ceil(64);
    let w = *words;
    matrix.clear();
    matrix.resize(n * w, 0);
    let radius_sq = radius * radius;
    // Padded to whole lanes far away (never within the radius; the bits past `n` stay clear).
    let padded = n.div_ceil(8) * 8;
    xs.clear();
    zs.clear();
    xs.extend(roster.iter().map(|m| m.position.x));
    zs.extend(roster.iter().map(|m| m.position.z));
    xs.resize(padded, f32::INFINITY);
    zs.resize(padded, f32::INFINITY);
    for (i, viewer) in roster.iter().enumerate() {
        let (xi, zi) = (viewer.position.x, viewer.position.z);
        let row = &mut matrix[i * w..(i + 1) * w];
        for (chunk, (x8, z8)) in xs.chunks_exact(8).zip(zs.chunks_exact(8)).enumerate() {
            let mut bits = 0u64;
            for lane in 0..8 {
                let dx = x8[lane] - xi;
                let dz = z8[lane] - zi;
                bits |= u64::from(dx * dx + dz * dz <= radius_sq) << lane;
            }
            let base = chunk * 8;
            row[base / 64] |= bits << (base % 64);
        }
        // Oneself, whatever the arithmetic says.
        row[i / 64] |= 1 << (i % 64);
    }
    for &member in stage {
        let col = member as usize;
        for row in 0..n {
            matrix[row * w + col / 64] |= 1 << (col % 64);
        }
    }
}

#[cfg(test)]
mod tests {
    use glam::Vec3;
    use proptest::prelude::*;

    use super::*;
    use crate::audio::ZonePresence;
    use crate::grid::SpatialGrid;
    use crate::snapshot::AvatarState;

    fn member(x: f32, z: f32) -> Member {
        Member {
            position: Vec3::new(x, 1.0, z),
            yaw: 0.0,
            zones: ZonePresence::default(),
            state: AvatarState::default(),
        }
    }

    proptest! {
        /// Each row of the matrix is what a viewer's grid query, plus itself and the stage,
        /// selects (the interest step's other path, used in larger rooms).
        #[test]
        fn the_matrix_holds_what_the_grid_query_finds(
            points in proptest::collection::vec((-30.0f32..30.0, -30.0f32..30.0), 1..90),
            on_stage in proptest::collection::vec(any::<bool>(), 90),
            radius in 0.5f32..25.0,
        ) {
            let roster: Vec<Member> = points.iter().map(|&(x, z)| member(x, z)).collect();
            let stage: Vec<u32> = (0..roster.len() as u32)
                .filter(|&i| on_stage[i as usize])
                .collect();
            let (mut matrix, mut words) = (Vec::new(), 0);
            let (mut xs, mut zs) = (Vec::new(), Vec::new());
            interest_matrix(&roster, &stage, radius, &mut matrix, &mut words, (&mut xs, &mut zs));
            let mut grid = SpatialGrid::new(4.0);
            let items: Vec<(u32, Vec3)> = roster
                .iter()
                .enumerate()
                .map(|(i, m)| (i as u32, m.position))
                .collect();
            grid.rebuild(Vec3::splat(-30.0), Vec3::splat(30.0), &items);
            for (viewer, m) in roster.iter().enumerate() {
                let mut expected = vec![viewer as u32];
                expected.extend(&stage);
                grid.for_each_within(m.position, radius, |j, _| expected.push(j));
                expected.sort_unstable();
                expected.dedup();
                let row = &matrix[viewer * words..(viewer + 1) * words];
                let got: Vec<u32> = (0..roster.len() as u32)
                    .filter(|&j| row[j as usize / 64] & (1 << (j % 64)) != 0)
                    .collect();
                prop_assert_eq!(got, expected, "viewer {}", viewer);
            }
        }
    }
}
