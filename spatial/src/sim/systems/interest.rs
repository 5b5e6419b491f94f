//! Interest management: who each client sees.
//!
//! A client sees itself, everyone on a stage, and everyone within the area-of-interest radius,
//! at most `max_visible` avatars in that priority order (nearest first among the rest). The
//! result is kept in roster order (ascending avatar id) for the audio and snapshot steps: the
//! selected roster indices are marked in a bit set and read back in order, so no sort is needed.
//!
//! In a room of at most `max_visible` members nobody can be crowded out, and the grid step has
//! already computed every member's set as one bit matrix for the room; the viewer's row is read
//! back instead of querying the grid.

use bevy_ecs::system::{Local, Query, Res};
use bevy_ecs::utils::Parallel;
use smallvec::SmallVec;

use crate::sim::components::{Avatar, Interest, Position, RoomGrid, Roster, Stage, VISIBLE_INLINE};
use crate::sim::parallel::batching;
use crate::sim::resources::Settings;

const RANK_SELF: u64 = 0;
const RANK_STAGE: u64 = 1;
const RANK_NEAR: u64 = 2;

/// Selection priority, lower first: rank (0 the viewer, 1 on a stage, 2 nearby) in the high
/// half, squared distance (a non-negative `f32`, whose bits order like its value) in the low.
fn priority(rank: u64, distance_sq: f32) -> u64 {
    (rank << 32) | u64::from(distance_sq.max(0.0).to_bits())
}

/// Per-thread scratch space.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Candidates as (priority, roster index).
    candidates: Vec<(u64, u32)>,
    /// One bit per roster member.
    marks: Vec<u64>,
}

pub(crate) fn update_interest(
    settings: Res<Settings>,
    scratch: Local<Parallel<Scratch>>,
    rooms: Query<(&RoomGrid, &Stage, &Roster)>,
    mut viewers: Query<(&Avatar, &Position, &mut Interest)>,
) {
    let radius = settings.0.aoi_radius;
    let max_visible = settings.0.max_visible;
    viewers
        .par_iter_mut()
        .batching_strategy(batching())
        .for_each(|(avatar, position, mut interest)| {
            let Interest { visible, me } = &mut *interest;
            visible.clear();
            let last = me.take();
            let Ok((grid, stage, roster)) = rooms.get(avatar.room) else {
                return;
            };
            let roster = &roster.0;
            // Last tick's place in the roster, unless someone before it left (or this is new).
            *me = last
                .filter(|&i| {
                    roster
                        .get(i as usize)
                        .is_some_and(|m| m.state.id == avatar.id)
                })
                .or_else(|| {
                    roster
                        .binary_search_by_key(&avatar.id, |m| m.state.id)
                        .ok()
                        .map(|i| i as u32)
                });
            if let Some(row) = me.and_then(|me| grid.row(me)) {
                // A small room: the set was computed for the whole room at once.
                push_set_bits(row, visible);
                return;
            }
            let mut scratch = scratch.borrow_local_mut();
            let Scratch { candidates, marks } = &mut *scratch;
            candidates.clear();
            if let Some(me) = *me {
                candidates.push((priority(RANK_SELF, 0.0), me));
            }
            for &member in &stage.0 {
                if Some(member) != *me {
                    let at = roster[member as usize].position;
                    candidates.push((
                        priority(RANK_STAGE, at.distance_squared(position.0)),
                        member,
                    ));
                }
            }
            // Stage members are already in; the grid adds everyone else nearby.
            grid.grid
                .for_each_within(position.0, radius, |(member, on_stage), distance_sq| {
                    if Some(member) != *me && !on_stage {
                        candidates.push((priority(RANK_NEAR, distance_sq), member));
                    }
                });
            if candidates.len() > max_visible {
                candidates.select_nth_unstable_by_key(max_visible - 1, |c| c.0);
                candidates.truncate(max_visible);
            }
            marks.clear();
            marks.resize(roster.len().div_ceil(64), 0);
            for &(_, member) in candidates.iter() {
                marks[member as usize / 64] |= 1 << (member % 64);
            }
            push_set_bits(marks, visible);
        });
}

/// Appends the indices of the bits set in `words`, ascending. The iterator's exact size lets
/// `extend` reserve once and write without a capacity check per index.
fn push_set_bits(words: &[u64], out: &mut SmallVec<[u32; VISIBLE_INLINE]>) {
    let count = words.iter().map(|w| w.count_ones() as usize).sum();
    out.extend(SetBits {
        words,
        word: 0,
        bits: words.first().copied().unwrap_or(0),
        left: count,
    });
}

/// The set bits of a slice of words, ascending, with their exact count.
struct SetBits<'a> {
    words: &'a [u64],
    /// The word being read, and what is left of it.
    word: usize,
    bits: u64,
    left: usize,
}

impl Iterator for SetBits<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        while self.bits == 0 {
            self.word += 1;
            self.bits = *self.words.get(self.word)?;
        }
        let bit = self.bits.trailing_zeros();
        self.bits &= self.bits - 1;
        self.left -= 1;
        Some(self.word as u32 * 64 + bit)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_bits_come_out_ascending_and_counted() {
        let words = [0b1011, 0, 1 << 63, u64::MAX];
        let mut out = SmallVec::new();
        out.push(7);
        push_set_bits(&words, &mut out);
        let mut expected = vec![7, 0, 1, 3, 191];
        expected.extend(192..256);
        assert_eq!(out.as_slice(), expected.as_slice());
        let mut none = SmallVec::new();
        push_set_bits(&[], &mut none);
        push_set_bits(&[0, 0], &mut none);
        assert!(none.is_empty());
    }
}
