//! The audio step for rooms with an interest matrix: one table per room ([`RoomHearing`])
//! instead of one held list per client.
//!
//! The rules and what is sent are exactly those of [`super::gains`] (the same evaluation and
//! the same decisions, shared with it); only the bookkeeping differs. A row is a listener, a
//! column a source, both in ascending avatar id, and a source is in view when its bit is set in
//! the listener's matrix row. One pass over a row finds the entries whose held answer may no
//! longer stand — in view with a different zone rule or outside its band, newly in view, or out
//! of view while still held — and only those are judged, in column order, which is ascending
//! id, the order the changes are sent in.
//!
//! Joins and leaves change the roster the table is laid out for. The table is first widened to
//! every avatar of either (so a source that left is a column out of view, sent as 0 to whoever
//! heard it, as the per-client walk does for a source leaving the view), the rows are walked,
//! and the table is then narrowed to the roster. A room that gains or loses its matrix hands
//! its gains over between the table and the members' [`Hearing`] lists ([`hand_over`]), so a
//! client notices nothing when its room crosses the size limit.

use bevy_ecs::system::{Local, Query, Res};
use bevy_ecs::utils::Parallel;
use glam::Vec3;

use crate::audio::{GainBand, omnidirectional};
use crate::ids::AvatarId;
use crate::messages::{GainUpdate, SourceGain};
use crate::sim::components::{
    Avatar, Hearing, HeldGain, Member, NOT_HELD, Occupants, Room, RoomGrid, RoomHearing, Roster,
};
use crate::sim::parallel::batching;
use crate::sim::resources::{Settings, SimTick};
use crate::sim::systems::gains::{Now, Rules, evaluate, judged_with};

/// A column whose avatar is not in the roster (it left).
const GONE: u32 = u32::MAX;

impl RoomHearing {
    /// Lays the table out over `ids` (ascending): entries whose listener and source are both
    /// among them are kept, the others are dropped, new ones hold nothing.
    fn relayout(&mut self, ids: &[AvatarId]) {
        let old = std::mem::take(&mut self.ids);
        let n = ids.len();
        let place: Vec<Option<usize>> = ids.iter().map(|id| old.binary_search(id).ok()).collect();
        let mut gains = vec![NOT_HELD; n * n];
        let mut bands = vec![GainBand::EMPTY; n * n];
        for (row, from_row) in place.iter().enumerate() {
            let Some(from_row) = *from_row else { continue };
            for (col, from_col) in place.iter().enumerate() {
                if let Some(from_col) = *from_col {
                    gains[row * n + col] = self.gains[from_row * old.len() + from_col];
                    bands[row * n + col] = self.bands[from_row * old.len() + from_col];
                }
            }
        }
        self.ids = ids.to_vec();
        self.gains = gains;
        self.bands = bands;
    }

    /// Empties the table.
    fn clear(&mut self) {
        self.ids.clear();
        self.gains.clear();
        self.bands.clear();
    }

    /// Forgets what a listener's client holds (it joined again and lost its gains).
    pub(crate) fn forget_listener(&mut self, listener: AvatarId) {
        let n = self.ids.len();
        if let Ok(row) = self.ids.binary_search(&listener) {
            self.gains[row * n..(row + 1) * n].fill(NOT_HELD);
            self.bands[row * n..(row + 1) * n].fill(GainBand::EMPTY);
        }
    }

    /// What a listener's client holds, as its [`Hearing`] list would have it.
    fn held_by(&self, listener: AvatarId) -> Vec<HeldGain> {
        let n = self.ids.len();
        let Ok(row) = self.ids.binary_search(&listener) else {
            return Vec::new();
        };
        (0..n)
            .filter(|&col| self.gains[row * n + col] != NOT_HELD)
            .map(|col| HeldGain {
                source: self.ids[col],
                gain: self.gains[row * n + col],
                band: self.bands[row * n + col],
            })
            .collect()
    }
}

/// Moves the gains of every room that gained or lost its matrix this tick between its table and
/// its members' lists. Rare (a room crossing the matrix size), so done one room at a time.
pub(crate) fn hand_over(
    mut rooms: Query<(&Occupants, &RoomGrid, &Roster, &mut RoomHearing)>,
    mut listeners: Query<(&Avatar, &mut Hearing)>,
) {
    for (occupants, grid, roster, mut table) in &mut rooms {
        let wanted = grid.words != 0;
        if wanted == table.active {
            continue;
        }
        if wanted {
            // Every avatar some member holds a gain for is a column, even one that left (the
            // next walk sends its 0).
            let mut ids: Vec<AvatarId> = roster.0.iter().map(|m| m.state.id).collect();
            for (entity, _) in &occupants.members {
                if let Ok((_, hearing)) = listeners.get(*entity) {
                    ids.extend(hearing.held.iter().map(|h| h.source));
                }
            }
            ids.sort_unstable();
            ids.dedup();
            table.clear();
            table.relayout(&ids);
            let n = ids.len();
            for (entity, _) in &occupants.members {
                let Ok((avatar, mut hearing)) = listeners.get_mut(*entity) else {
                    continue;
                };
                if let Ok(row) = ids.binary_search(&avatar.id) {
                    for held in &hearing.held {
                        if let Ok(col) = ids.binary_search(&held.source) {
                            table.gains[row * n + col] = held.gain;
                            table.bands[row * n + col] = held.band;
                        }
                    }
                }
                hearing.held.clear();
            }
        } else {
            for (entity, _) in &occupants.members {
                if let Ok((avatar, mut hearing)) = listeners.get_mut(*entity) {
                    hearing.held.clear();
                    hearing.held.extend(table.held_by(avatar.id));
                }
            }
            table.clear();
        }
        table.active = wanted;
    }
}

/// Per-thread scratch space for one room: the columns of one row to judge, the changes of one
/// listener, the column → roster index map, the roster's ids and flat arrays, and the pairs
/// worked out for the other end ([`Mirror`]).
#[derive(Default)]
pub(crate) struct Scratch {
    misses: Vec<u32>,
    changes: Vec<SourceGain>,
    columns: Vec<u32>,
    ids: Vec<AvatarId>,
    sources: Sources,
    mirror: Mirror,
}

/// The roster as flat arrays, for the pass over a row.
#[derive(Default)]
pub(crate) struct Sources {
    x: Vec<f32>,
    y: Vec<f32>,
    z: Vec<f32>,
    /// [`crate::audio::ZonePresence::source_key`].
    key: Vec<u32>,
}

/// Per room with a table: every member's gain updates.
pub(crate) fn update_table_gains(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    scratch: Local<Parallel<Scratch>>,
    mut rooms: Query<(&Room, &RoomGrid, &Roster, &mut RoomHearing)>,
) {
    let now = tick.0;
    let threshold = settings.0.gain_threshold;
    let floor = settings.0.min_audible_gain;
    rooms.par_iter_mut().batching_strategy(batching()).for_each(
        |(room, grid, roster, mut table)| {
            table.out.clear();
            if !table.active {
                return;
            }
            let mut scratch = scratch.borrow_local_mut();
            let Scratch {
                misses,
                changes,
                columns,
                ids,
                sources,
                mirror,
            } = &mut *scratch;
            let template = &room.template;
            let rules = Rules::new(&template.audio, template.audible_range, threshold, floor);
            let omni = omnidirectional(&template.audio);
            let roster = &roster.0;
            ids.clear();
            ids.extend(roster.iter().map(|m| m.state.id));
            sources.x.clear();
            sources.y.clear();
            sources.z.clear();
            sources.key.clear();
            mirror.clear();
            for member in roster {
                sources.x.push(member.position.x);
                sources.y.push(member.position.y);
                sources.z.push(member.position.z);
                sources.key.push(member.zones.source_key());
            }
            let same = table.ids == *ids;
            if !same {
                // Widened to whoever is in the roster or still held as a column.
                let mut union = Vec::with_capacity(ids.len() + table.ids.len());
                union.extend_from_slice(&table.ids);
                union.extend_from_slice(ids);
                union.sort_unstable();
                union.dedup();
                table.relayout(&union);
            }
            // Per column, its roster index (or GONE); per roster member, its row.
            columns.clear();
            let mut next = 0;
            for id in &table.ids {
                let index = roster[next..]
                    .first()
                    .filter(|m| m.state.id == *id)
                    .map(|_| {
                        next += 1;
                        (next - 1) as u32
                    });
                columns.push(index.unwrap_or(GONE));
            }
            let RoomHearing {
                ids: table_ids,
                gains,
                bands,
                clients,
                out,
                ..
            } = &mut *table;
            let n = table_ids.len();
            let mut row = 0;
            for (index, listener) in roster.iter().enumerate() {
                while columns[row] != index as u32 {
                    row += 1;
                }
                let Some(view) = grid.row(index as u32) else {
                    continue;
                };
                let cells = row * n..(row + 1) * n;
                walk_row(
                    &rules,
                    listener,
                    row,
                    view,
                    columns,
                    roster,
                    same.then_some(&*sources),
                    table_ids,
                    &mut gains[cells.clone()],
                    &mut bands[cells],
                    misses,
                    changes,
                    (omni, mirror),
                );
                if !changes.is_empty() {
                    out.push((
                        clients[index],
                        GainUpdate {
                            room: room.id,
                            tick: now,
                            gains: changes.iter().copied().collect(),
                        },
                    ));
                }
            }
            if !same {
                table.relayout(ids);
            }
        },
    );
}

/// Whether bit `index` of a matrix row is set.
#[inline(always)]
fn in_view(view: &[u64], index: u32) -> bool {
    view.get(index as usize / 64)
        .is_some_and(|word| word >> (index % 64) & 1 != 0)
}

/// One listener's row: finds the entries to judge in one pass, then judges them in column
/// order, updating the row and filling `changes` (ascending by source). `sources` (the roster
/// as flat arrays) is given when every column is the roster member of the same index.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn walk_row(
    rules: &Rules,
    listener: &Member,
    own: usize,
    view: &[u64],
    columns: &[u32],
    roster: &[Member],
    sources: Option<&Sources>,
    ids: &[AvatarId],
    gains: &mut [f32],
    bands: &mut [GainBand],
    misses: &mut Vec<u32>,
    changes: &mut Vec<SourceGain>,
    (omni, mirror): (bool, &mut Mirror),
) {
    changes.clear();
    misses.clear();
    misses.resize(columns.len(), 0);
    let key = listener.zones.listener_key();
    let at: Vec3 = listener.position;
    let mut missed = 0;
    if let Some(sources) = sources {
        debug_assert_eq!(sources.x.len(), columns.len());
        // Every column is the roster member of the same index (no join or leave): flat arrays,
        // eight columns at a time, each test a bit of a mask (the compiler turns the eight
        // lanes into vector compares), then the columns to judge read off the masks.
        let n = columns.len();
        let (gains, bands) = (&gains[..n], &bands[..n]);
        let (xs, ys, zs, keys) = (
            &sources.x[..n],
            &sources.y[..n],
            &sources.z[..n],
            &sources.key[..n],
        );
        let lanes = |base: usize, width: usize| -> (u64, u64) {
            let (mut held, mut holds) = (0u64, 0u64);
            for lane in 0..width {
                let col = base + lane;
                // The same squared distance, computed the same way, as `evaluate`'s
                // (`Vec3::distance_squared`).
                let (dx, dy, dz) = (at.x - xs[col], at.y - ys[col], at.z - zs[col]);
                let d_sq = dx * dx + dy * dy + dz * dz;
                let h = gains[col] != NOT_HELD;
                let k = (keys[col] == key) & bands[col].contains(d_sq);
                held |= u64::from(h) << lane;
                holds |= u64::from(h & k) << lane;
            }
            (held, holds)
        };
        let mut base = 0;
        while base < n {
            let width = (n - base).min(8);
            let (held, holds) = if width == 8 {
                lanes(base, 8)
            } else {
                lanes(base, width)
            };
            let mut seen = (view.get(base / 64).copied().unwrap_or(0) >> (base % 64)) & 0xff;
            if (base..base + 8).contains(&own) {
                seen &= !(1 << (own - base));
            }
            let mut attend = !(holds & seen) & (seen | held) & ((1 << width) - 1);
            while attend != 0 {
                misses[missed] = (base + attend.trailing_zeros() as usize) as u32;
                missed += 1;
                attend &= attend - 1;
            }
            base += 8;
        }
    } else {
        for (col, ((&index, &gain), band)) in columns
            .iter()
            .zip(gains.iter())
            .zip(bands.iter())
            .enumerate()
        {
            let held = gain != NOT_HELD;
            let attend = match roster.get(index as usize) {
                Some(source) => {
                    let seen = in_view(view, index) & (col != own);
                    let holds = seen
                        & held
                        & (source.zones.source_key() == key)
                        & band.contains(at.distance_squared(source.position));
                    !holds & (seen | held)
                }
                None => held,
            };
            misses[missed] = col as u32;
            missed += usize::from(attend);
        }
    }
    for &col in &misses[..missed] {
        let col = col as usize;
        let id = ids[col];
        let last = (gains[col] != NOT_HELD).then(|| HeldGain {
            source: id,
            gain: gains[col],
            band: bands[col],
        });
        let index = columns[col];
        let source = roster
            .get(index as usize)
            .filter(|_| in_view(view, index) && col != own);
        let Some(source) = source else {
            // Out of view (or gone): a 0 if it was heard, and nothing held.
            if last.is_some_and(|last| last.heard()) {
                changes.push(SourceGain {
                    avatar: id,
                    gain: 0.0,
                });
            }
            gains[col] = NOT_HELD;
            bands[col] = GainBand::EMPTY;
            continue;
        };
        // Spatial this way round, with an omnidirectional source: if the other direction is
        // spatial too and its row (earlier in the roster) worked it out this tick, its answer
        // is this one. (A row records a pair only when its own direction is spatial, so a pair
        // found was spatial both ways.)
        let mirrored = omni && sources.is_some_and(|s| s.key[col] == key);
        let known = (mirrored && col < own)
            .then(|| mirror.lookup(col, own))
            .flatten();
        let now = match known {
            Some(worked) => worked.now,
            None => evaluate(rules, listener, source, last.as_ref()),
        };
        let entry = judged_with(now, last, id, rules, changes, |gain| {
            match known.and_then(|worked| worked.heard) {
                // Sent anew at the same gain at the other end: the same band.
                Some(held) => {
                    debug_assert_eq!(held.gain.to_bits(), gain.to_bits());
                    HeldGain { source: id, ..held }
                }
                None => rules.heard(id, gain),
            }
        });
        if let Some(entry) = entry {
            gains[col] = entry.gain;
            bands[col] = entry.band;
        }
        if mirrored && col > own {
            // Held anew for an audible gain: sent, with its band.
            let heard = entry.filter(|_| matches!(now, Now::Audible(_)));
            mirror.record(own, col, now, heard);
        }
    }
}

/// The answers worked out for pairs that the later row of the same room will meet from the
/// other end this tick (both ways spatial, source omnidirectional: the gain depends on the
/// distance only, and the distance computed from either end is the same to the bit, as
/// `(a − b)²` is `(b − a)²`). Recorded in row order, then column order, so looked up by a binary
/// search.
#[derive(Default)]
pub(crate) struct Mirror {
    worked: Vec<(u32, u32, Worked)>,
}

#[derive(Clone, Copy)]
struct Worked {
    now: Now,
    /// What the row that worked it out holds now, when it sent the gain anew (its band is the
    /// other end's band for the same gain).
    heard: Option<HeldGain>,
}

impl Mirror {
    fn clear(&mut self) {
        self.worked.clear();
    }

    fn record(&mut self, row: usize, col: usize, now: Now, heard: Option<HeldGain>) {
        self.worked
            .push((row as u32, col as u32, Worked { now, heard }));
    }

    fn lookup(&self, row: usize, col: usize) -> Option<Worked> {
        let key = (row as u32, col as u32);
        self.worked
            .binary_search_by_key(&key, |&(r, c, _)| (r, c))
            .ok()
            .map(|at| self.worked[at].2)
    }
}
