//! Delta coding: the difference between two views, and applying it.
//!
//! The server diffs the client's *acknowledged* view against the current one, never its last
//! *sent* view: a lost datagram then costs nothing, because the next snapshot is again relative
//! to something the client provably holds.

use thiserror::Error;

use super::{AvatarChange, AvatarDelta, AvatarState, SnapshotPart, View};
use crate::ids::{AvatarId, Tick};

/// The changes from `baseline` (or from nothing) to `current`: `(removed, changes)`, both
/// ascending by avatar id. Unchanged avatars are left out.
pub fn diff(baseline: Option<&View>, current: &View) -> (Vec<AvatarId>, Vec<AvatarChange>) {
    let (mut removed, mut changes) = (Vec::new(), Vec::new());
    diff_into(baseline, current, &mut removed, &mut changes);
    (removed, changes)
}

/// [`diff`] into caller-owned buffers (cleared first), for a loop that runs per client per tick.
pub fn diff_into(
    baseline: Option<&View>,
    current: &View,
    removed: &mut Vec<AvatarId>,
    changes: &mut Vec<AvatarChange>,
) {
    removed.clear();
    changes.clear();
    let Some(base) = baseline else {
        changes.extend(current.states().iter().copied().map(AvatarChange::Full));
        return;
    };
    let (old, new) = (base.states(), current.states());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) if o.id == n.id => {
                if o != n {
                    changes.push(AvatarChange::Delta(field_delta(o, n)));
                }
                i += 1;
                j += 1;
            }
            (Some(o), Some(n)) if o.id < n.id => {
                removed.push(o.id);
                i += 1;
            }
            (Some(o), None) => {
                removed.push(o.id);
                i += 1;
            }
            (_, Some(n)) => {
                changes.push(AvatarChange::Full(*n));
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// What changed from `old` to `new` (the same avatar).
pub(crate) fn field_delta(old: &AvatarState, new: &AvatarState) -> AvatarDelta {
    let axis = |a: u32, b: u32| (a != b).then(|| (i64::from(b) - i64::from(a)) as i32);
    AvatarDelta {
        id: new.id,
        dx: axis(old.x, new.x),
        dy: axis(old.y, new.y),
        dz: axis(old.z, new.z),
        dyaw: (old.yaw != new.yaw).then(|| new.yaw.wrapping_sub(old.yaw) as i16),
        flags: (old.flags != new.flags).then_some(new.flags),
    }
}

/// A snapshot that does not fit what the client holds.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeltaError {
    /// A delta snapshot arrived but the client has no view for its baseline tick (it must wait
    /// for a snapshot relative to something it acknowledged, or a full one).
    #[error("no view held for baseline tick {0}")]
    MissingBaseline(Tick),
    /// A delta names an avatar the baseline does not contain.
    #[error("delta for avatar {0} which is not in the baseline")]
    UnknownAvatar(AvatarId),
    /// A delta would move a coordinate below zero or past `u32`.
    #[error("delta for avatar {0} leaves the coordinate range")]
    OutOfRange(AvatarId),
    /// The parts given belong to different ticks or baselines.
    #[error("parts of different snapshots were mixed")]
    MixedParts,
}

impl View {
    /// Applies one part's changes in place (the view must be the part's baseline view, possibly
    /// with other parts of the same snapshot already applied).
    pub fn apply(&mut self, part: &SnapshotPart) -> Result<(), DeltaError> {
        for id in &part.removed {
            self.remove(*id);
        }
        for change in &part.changes {
            match change {
                AvatarChange::Full(state) => self.upsert(*state),
                AvatarChange::Delta(delta) => {
                    let state = self
                        .get_mut(delta.id)
                        .ok_or(DeltaError::UnknownAvatar(delta.id))?;
                    let shift = |value: u32, by: Option<i32>| -> Result<u32, DeltaError> {
                        match by {
                            None => Ok(value),
                            Some(d) => u32::try_from(i64::from(value) + i64::from(d))
                                .map_err(|_| DeltaError::OutOfRange(delta.id)),
                        }
                    };
                    let (x, y, z) = (
                        shift(state.x, delta.dx)?,
                        shift(state.y, delta.dy)?,
                        shift(state.z, delta.dz)?,
                    );
                    state.x = x;
                    state.y = y;
                    state.z = z;
                    if let Some(dyaw) = delta.dyaw {
                        state.yaw = state.yaw.wrapping_add(dyaw as u16);
                    }
                    if let Some(flags) = delta.flags {
                        state.flags = flags;
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a client does with all parts of one snapshot: start from the baseline view it holds
/// (an empty view for a full snapshot) and apply every part. `baseline_view` is looked up by the
/// parts' baseline tick.
pub fn apply_snapshot<'a>(
    baseline_view: impl FnOnce(Tick) -> Option<&'a View>,
    parts: &[SnapshotPart],
) -> Result<View, DeltaError> {
    let Some(first) = parts.first() else {
        return Err(DeltaError::MixedParts);
    };
    if parts
        .iter()
        .any(|p| p.tick != first.tick || p.baseline != first.baseline)
    {
        return Err(DeltaError::MixedParts);
    }
    let mut view = match first.baseline {
        None => View::default(),
        Some(tick) => baseline_view(tick)
            .cloned()
            .ok_or(DeltaError::MissingBaseline(tick))?,
    };
    for part in parts {
        view.apply(part)?;
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(id: u32, x: u32, yaw: u16, flags: u8) -> AvatarState {
        AvatarState {
            id: AvatarId(id),
            x,
            y: 0,
            z: 100,
            yaw,
            flags,
        }
    }

    fn part(
        tick: Tick,
        baseline: Option<Tick>,
        diff: (Vec<AvatarId>, Vec<AvatarChange>),
    ) -> SnapshotPart {
        SnapshotPart {
            tick,
            baseline,
            part: 0,
            parts: 1,
            removed: diff.0,
            changes: diff.1,
        }
    }

    #[test]
    fn diff_then_apply_reproduces_the_current_view() {
        let base = View::from_states(vec![st(1, 10, 0, 0), st(2, 20, 65_000, 0), st(4, 40, 5, 1)]);
        let current = View::from_states(vec![
            st(1, 10, 0, 0),  // unchanged
            st(2, 5, 100, 0), // moved back, yaw wrapped forward
            st(3, 30, 0, 2),  // new
        ]); // 4 left
        let (removed, changes) = diff(Some(&base), &current);
        assert_eq!(removed, [AvatarId(4)]);
        assert_eq!(changes.len(), 2, "the unchanged avatar is not sent");
        let AvatarChange::Delta(d) = changes[0] else {
            panic!("avatar 2 should be a delta")
        };
        assert_eq!(
            (d.dx, d.dy, d.dz, d.dyaw),
            (Some(-15), None, None, Some(636))
        );
        assert!(matches!(changes[1], AvatarChange::Full(_)));
        let mut applied = base.clone();
        applied
            .apply(&part(2, Some(1), (removed, changes)))
            .unwrap();
        assert_eq!(applied, current);
    }

    #[test]
    fn full_snapshot_from_nothing() {
        let current = View::from_states(vec![st(7, 1, 2, 3), st(3, 4, 5, 6)]);
        let snapshot = part(9, None, diff(None, &current));
        let view = apply_snapshot(|_| None, &[snapshot]).unwrap();
        assert_eq!(view, current);
    }

    #[test]
    fn deltas_against_a_missing_baseline_or_avatar_fail() {
        let current = View::from_states(vec![st(1, 1, 1, 1)]);
        let base = View::from_states(vec![st(1, 0, 0, 0)]);
        let delta = part(5, Some(4), diff(Some(&base), &current));
        assert_eq!(
            apply_snapshot(|_| None, std::slice::from_ref(&delta)),
            Err(DeltaError::MissingBaseline(4))
        );
        let mut empty = View::default();
        assert_eq!(
            empty.apply(&delta),
            Err(DeltaError::UnknownAvatar(AvatarId(1)))
        );
    }

    #[test]
    fn from_states_sorts_and_keeps_the_last_duplicate() {
        let view = View::from_states(vec![st(2, 1, 0, 0), st(1, 1, 0, 0), st(2, 9, 0, 0)]);
        assert_eq!(view.len(), 2);
        assert_eq!(view.get(AvatarId(2)).unwrap().x, 9);
        assert_eq!(view.states()[0].id, AvatarId(1));
    }
}
