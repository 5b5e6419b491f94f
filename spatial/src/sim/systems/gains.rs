//! Per listener, the gain of every audible source, sent only when it moved past the threshold.
//!
//! Candidates are the listener's interest set (so the AOI radius should cover the audible
//! range). A gain is compared with the value last *sent*, not last computed, so slow drifts
//! still go out once they add up. A source that falls silent or out of view is sent once as 0.
//!
//! Each source in view is held with the band of distances over which the answer stays what the
//! client already has ([`GainBand`]): the gain sent, or silence beyond the audible range. While
//! a pair stays inside it nothing is evaluated — the `PannerNode` formula's answer would be
//! "keep it". Sources with a sound cone are evaluated every tick while in range. Silent sources
//! are held as well as heard ones, so the held list follows the interest set entry for entry
//! and the walk over both rarely branches off its usual path.

use bevy_ecs::system::{Local, Query, Res};
use bevy_ecs::utils::Parallel;
use smallvec::SmallVec;

use crate::audio::{GainBand, Hearing as Rule, PannerParams, hearing, source_gain};
use crate::ids::AvatarId;
use crate::messages::{GainUpdate, SourceGain};
use crate::sim::components::{
    Avatar, HEARD_INLINE, Hearing, HeldGain, Interest, Member, Outgoing, RoomHearing, Roster,
};
use crate::sim::parallel::batching;
use crate::sim::resources::{Settings, SimTick};

/// The per-tick constants of one room's audio.
pub(super) struct Rules<'a> {
    params: &'a PannerParams,
    range: f32,
    threshold: f32,
    floor: f32,
    /// Distances certainly beyond `range`.
    beyond: GainBand,
}

impl<'a> Rules<'a> {
    pub(super) fn new(params: &'a PannerParams, range: f32, threshold: f32, floor: f32) -> Self {
        Self {
            params,
            range,
            threshold,
            floor,
            beyond: GainBand::beyond(range),
        }
    }

    /// A source heard at `gain`, as held once it is sent.
    pub(super) fn heard(&self, source: AvatarId, gain: f32) -> HeldGain {
        HeldGain {
            source,
            gain,
            band: GainBand::around(self.params, gain, self.threshold, self.floor)
                .within(self.range),
        }
    }
}

/// A source the client does not hear, silent over `band`.
fn unheard(source: AvatarId, band: GainBand) -> HeldGain {
    HeldGain {
        source,
        gain: HeldGain::UNHEARD,
        band,
    }
}

/// What the rules say about one pair this tick.
#[derive(Clone, Copy)]
pub(super) enum Now {
    /// Silent: out of range (silent over the band given), below the audible floor or isolated
    /// by a zone (the band is then empty: evaluated again next tick).
    Silent(GainBand),
    /// Audible at this gain.
    Audible(f32),
    /// Inside the band of what the client holds: that stands.
    Holds,
}

/// The rules for one pair: zones first, then (unless what the client holds still stands) range
/// and the `PannerNode` formula.
#[inline(always)]
pub(super) fn evaluate(
    rules: &Rules,
    listener: &Member,
    source: &Member,
    last: Option<&HeldGain>,
) -> Now {
    let zones = listener.zones;
    match hearing(zones, source.zones) {
        Rule::Silent => Now::Silent(GainBand::EMPTY),
        Rule::Broadcast => Now::Audible(1.0),
        Rule::Spatial => {
            let d_sq = listener.position.distance_squared(source.position);
            if last.is_some_and(|last| last.band.contains(d_sq)) {
                return Now::Holds;
            }
            if d_sq > rules.range * rules.range {
                return Now::Silent(rules.beyond);
            }
            let gain = source_gain(
                rules.params,
                rules.range,
                listener.position,
                zones,
                source.position,
                source.yaw,
                source.zones,
            );
            if gain >= rules.floor {
                Now::Audible(gain)
            } else {
                Now::Silent(GainBand::EMPTY)
            }
        }
    }
}

pub(crate) fn update_gains(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    scratch: Local<Parallel<Scratch>>,
    rooms: Query<(&Roster, &RoomHearing)>,
    mut listeners: Query<(&Avatar, &Interest, &mut Hearing, &mut Outgoing)>,
) {
    let now = tick.0;
    let threshold = settings.0.gain_threshold;
    let floor = settings.0.min_audible_gain;
    listeners
        .par_iter_mut()
        .batching_strategy(batching())
        .for_each(|(avatar, interest, mut hearing, mut outgoing)| {
            let room = rooms.get(avatar.room).ok();
            if room.is_some_and(|(_, table)| table.active) {
                // The room's table holds this client's gains (`gains_table`).
                return;
            }
            let mut scratch = scratch.borrow_local_mut();
            let Scratch {
                inserts,
                changes,
                misses,
            } = &mut *scratch;
            let template = &avatar.template;
            let rules = Rules::new(&template.audio, template.audible_range, threshold, floor);
            let roster = room.map(|(r, _)| r.0.as_slice()).unwrap_or(&[]);
            let listener = interest.me.and_then(|me| roster.get(me as usize));
            let aligned = match (listener, interest.me) {
                (Some(listener), Some(me)) => update_aligned(
                    &mut hearing.held,
                    &interest.visible,
                    me,
                    roster,
                    listener,
                    &rules,
                    misses,
                    changes,
                ),
                _ => false,
            };
            if !aligned {
                // Interest is in roster order, so sources come in ascending id, like `held`.
                let sources = interest
                    .visible
                    .iter()
                    .filter(|&&index| Some(index) != interest.me)
                    .filter_map(|&index| roster.get(index as usize))
                    .filter(|_| listener.is_some())
                    .map(|source| (source.state.id, source));
                update(
                    &mut hearing.held,
                    sources,
                    &rules,
                    |source, last| match listener {
                        Some(listener) => evaluate(&rules, listener, source, last),
                        None => Now::Silent(GainBand::EMPTY),
                    },
                    inserts,
                    changes,
                );
            }
            outgoing.gains = (!changes.is_empty()).then(|| GainUpdate {
                room: avatar.room_id,
                tick: now,
                gains: changes.iter().copied().collect(),
            });
        });
}

/// Per-thread scratch space: sources in view for the first time, the changes to send, and the
/// pairs [`update_aligned`] evaluates.
#[derive(Default)]
pub(crate) struct Scratch {
    inserts: Vec<HeldGain>,
    changes: Vec<SourceGain>,
    misses: Vec<(u32, u32)>,
}

/// The steady state of [`update`]: when `held` lists exactly the sources in view (`visible`,
/// roster indices in ascending order, without the listener's own index `me`), one pass without
/// branches finds the pairs whose held answer may no longer stand (a zone rule other than
/// spatial, or a distance outside the band), and only those are evaluated, in place. Returns
/// `false`, having changed nothing, when `held` does not line up with the view (then
/// [`update`] walks both).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn update_aligned(
    held: &mut [HeldGain],
    visible: &[u32],
    me: u32,
    roster: &[Member],
    listener: &Member,
    rules: &Rules,
    misses: &mut Vec<(u32, u32)>,
    changes: &mut Vec<SourceGain>,
) -> bool {
    changes.clear();
    let (before, after) = match visible.binary_search(&me) {
        Ok(at) => (&visible[..at], &visible[at + 1..]),
        Err(_) => (visible, &[][..]),
    };
    if before.len() + after.len() != held.len() {
        return false;
    }
    misses.clear();
    misses.resize(held.len(), (0, 0));
    let (held_before, held_after) = held.split_at(before.len());
    let mut missed = 0;
    let key = listener.zones.listener_key();
    let at = listener.position;
    let aligned = scan(before, held_before, 0, roster, key, at, misses, &mut missed)
        && scan(
            after,
            held_after,
            before.len(),
            roster,
            key,
            at,
            misses,
            &mut missed,
        );
    if !aligned {
        return false;
    }
    for &(t, index) in &misses[..missed] {
        let last = held[t as usize];
        let source = &roster[index as usize];
        let now = evaluate(rules, listener, source, Some(&last));
        if let Some(entry) = judged(now, Some(last), last.source, rules, changes) {
            held[t as usize] = entry;
        }
    }
    true
}

/// The pass of [`update_aligned`] over one run of the view (`indices`) and the entries held
/// for it (`entries`, the run's first at `offset` in the held list): appends the pairs that
/// need evaluating to `misses` (as held position and roster index) and returns whether every
/// entry is for the source it lines up with.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn scan(
    indices: &[u32],
    entries: &[HeldGain],
    offset: usize,
    roster: &[Member],
    key: u32,
    at: glam::Vec3,
    misses: &mut [(u32, u32)],
    missed: &mut usize,
) -> bool {
    let mut aligned = true;
    for (t, (&index, entry)) in indices.iter().zip(entries).enumerate() {
        let Some(source) = roster.get(index as usize) else {
            return false;
        };
        aligned &= entry.source == source.state.id;
        // The same squared distance, computed the same way, as `evaluate`'s.
        let holds = (source.zones.source_key() == key)
            & entry.band.contains(at.distance_squared(source.position));
        misses[*missed] = ((offset + t) as u32, index);
        *missed += usize::from(!holds);
    }
    aligned
}

/// What the client holds for a source after this tick, given what the rules say now and what
/// it held (`None`: in view for the first time): `None` when that stays as it was. Pushes the
/// change to send, if any.
#[inline(always)]
pub(super) fn judged(
    now: Now,
    last: Option<HeldGain>,
    id: AvatarId,
    rules: &Rules,
    changes: &mut Vec<SourceGain>,
) -> Option<HeldGain> {
    judged_with(now, last, id, rules, changes, |gain| rules.heard(id, gain))
}

/// [`judged`], with what is held for a gain sent anew given by `heard` (its band may be known
/// already).
#[inline(always)]
pub(super) fn judged_with(
    now: Now,
    last: Option<HeldGain>,
    id: AvatarId,
    rules: &Rules,
    changes: &mut Vec<SourceGain>,
    heard: impl FnOnce(f32) -> HeldGain,
) -> Option<HeldGain> {
    match (now, last) {
        (Now::Holds, Some(_)) => None,
        (Now::Audible(gain), Some(last))
            if last.heard() && (gain - last.gain).abs() <= rules.threshold =>
        {
            None
        }
        (Now::Audible(gain), _) => {
            changes.push(SourceGain { avatar: id, gain });
            Some(heard(gain))
        }
        (Now::Silent(band), last) => {
            if last.is_some_and(|last| last.heard()) {
                changes.push(SourceGain {
                    avatar: id,
                    gain: 0.0,
                });
            }
            Some(unheard(id, band))
        }
        (Now::Holds, None) => Some(unheard(id, GainBand::EMPTY)),
    }
}

/// Walks the sources in view now (ascending id, with what [`evaluate`] says of each) against
/// those held (`held`, ascending), updates `held` to what the client holds after the changes,
/// and fills `changes` with those changes, ascending by source: sources heard anew, gains that
/// moved past the threshold, and a 0 for each source heard before and silent or out of view
/// now.
///
/// `held` is updated in place — in the steady state only the few entries that changed are
/// written — with sources in view for the first time gathered in `inserts` and merged in at
/// the end.
#[inline(always)]
fn update<T>(
    held: &mut SmallVec<[HeldGain; HEARD_INLINE]>,
    sources: impl Iterator<Item = (AvatarId, T)>,
    rules: &Rules,
    mut judge: impl FnMut(T, Option<&HeldGain>) -> Now,
    inserts: &mut Vec<HeldGain>,
    changes: &mut Vec<SourceGain>,
) {
    changes.clear();
    inserts.clear();
    let silenced = |id| SourceGain {
        avatar: id,
        gain: 0.0,
    };
    let len = held.len();
    // `k` reads the old entries, `w` writes the kept ones (never ahead of `k`).
    let (mut k, mut w) = (0, 0);
    for (id, source) in sources {
        while k < len && held[k].source < id {
            if held[k].heard() {
                changes.push(silenced(held[k].source));
            }
            k += 1;
        }
        let last = (k < len && held[k].source == id).then(|| {
            k += 1;
            held[k - 1]
        });
        let replaced = judged(judge(source, last.as_ref()), last, id, rules, changes);
        match (last, replaced) {
            (Some(_), Some(entry)) => {
                held[w] = entry;
                w += 1;
            }
            (Some(last), None) => {
                // Kept as it is: written only when entries before it were dropped.
                if w + 1 != k {
                    held[w] = last;
                }
                w += 1;
            }
            (None, entry) => inserts.extend(entry),
        }
    }
    for gone in &held[k..] {
        if gone.heard() {
            changes.push(silenced(gone.source));
        }
    }
    held.truncate(w);
    if !inserts.is_empty() {
        held.extend_from_slice(inserts);
        held.sort_unstable_by_key(|g| g.source);
    }
    debug_assert!(changes.windows(2).all(|c| c[0].avatar < c[1].avatar));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::ZonePresence;

    /// Someone standing `x` metres along the X axis, outside every zone.
    fn member_at(x: f32) -> Member {
        Member {
            position: glam::Vec3::new(x, 0.0, 0.0),
            yaw: 0.0,
            zones: ZonePresence::default(),
            state: crate::snapshot::AvatarState::default(),
        }
    }

    /// One tick with the sources in `list` in view, each audible at its gain (silent where the
    /// gain is negative).
    fn update_list(
        sent: &mut SmallVec<[HeldGain; HEARD_INLINE]>,
        list: &[(u32, f32)],
    ) -> Vec<SourceGain> {
        let params = PannerParams::default();
        let rules = Rules::new(&params, 100.0, 0.05, 0.001);
        // Stale scratch must not leak into either list.
        let mut inserts = vec![rules.heard(AvatarId(99), 9.0)];
        let mut changes = vec![SourceGain {
            avatar: AvatarId(98),
            gain: 9.0,
        }];
        let sources = list.iter().map(|&(id, g)| (AvatarId(id), g));
        update(
            sent,
            sources,
            &rules,
            |g, _| {
                if g < 0.0 {
                    Now::Silent(GainBand::EMPTY)
                } else {
                    Now::Audible(g)
                }
            },
            &mut inserts,
            &mut changes,
        );
        changes
    }

    /// The gains the client holds (silent sources left out).
    fn gains(sent: &[HeldGain]) -> Vec<(u32, f32)> {
        sent.iter()
            .filter(|g| g.heard())
            .map(|g| (g.source.0, g.gain))
            .collect()
    }

    #[test]
    fn only_changes_beyond_the_threshold_are_sent() {
        let mut sent = SmallVec::new();
        let first = update_list(&mut sent, &[(1, 0.5), (2, 0.25)]);
        assert_eq!(first.len(), 2, "everything is new");
        // 1 drifts by 0.03 (kept), 2 by 0.1 (sent), 3 appears
        let second = update_list(&mut sent, &[(1, 0.53), (2, 0.35), (3, 1.0)]);
        let ids: Vec<u32> = second.iter().map(|g| g.avatar.0).collect();
        assert_eq!(ids, [2, 3]);
        // 1 keeps drifting: measured against 0.5 (last sent), 0.56 now crosses the threshold
        let third = update_list(&mut sent, &[(1, 0.56), (2, 0.35), (3, 1.0)]);
        assert_eq!(
            third,
            [SourceGain {
                avatar: AvatarId(1),
                gain: 0.56
            }]
        );
        // 2 goes silent: sent once as 0, then nothing
        let fourth = update_list(&mut sent, &[(1, 0.56), (3, 1.0)]);
        assert_eq!(
            fourth,
            [SourceGain {
                avatar: AvatarId(2),
                gain: 0.0
            }]
        );
        assert!(update_list(&mut sent, &[(1, 0.56), (3, 1.0)]).is_empty());
        assert_eq!(gains(&sent), [(1, 0.56), (3, 1.0)]);
    }

    #[test]
    fn sources_appearing_and_vanishing_together_keep_both_lists_in_id_order() {
        let mut sent = SmallVec::new();
        update_list(&mut sent, &[(1, 0.5), (3, 0.5), (5, 0.5)]);
        // 1 and 5 vanish, 2 and 4 appear around 3, which moves past the threshold.
        let changes = update_list(&mut sent, &[(2, 0.2), (3, 0.9), (4, 0.4)]);
        let listed: Vec<(u32, f32)> = changes.iter().map(|c| (c.avatar.0, c.gain)).collect();
        assert_eq!(
            listed,
            [(1, 0.0), (2, 0.2), (3, 0.9), (4, 0.4), (5, 0.0)],
            "one change per source, ascending"
        );
        assert_eq!(gains(&sent), [(2, 0.2), (3, 0.9), (4, 0.4)]);
        // Nothing moves: nothing is sent and the held gains stay as they are.
        assert!(update_list(&mut sent, &[(2, 0.2), (3, 0.9), (4, 0.4)]).is_empty());
        assert_eq!(gains(&sent), [(2, 0.2), (3, 0.9), (4, 0.4)]);
    }

    #[test]
    fn a_silent_source_in_view_is_held_and_sent_as_soon_as_it_is_heard() {
        let mut sent = SmallVec::new();
        assert!(update_list(&mut sent, &[(1, -1.0), (2, 0.5)]).len() == 1);
        assert_eq!(sent.len(), 2, "the silent source is held too");
        // Heard at a gain within the threshold of 0: still sent, the client had nothing.
        let changes = update_list(&mut sent, &[(1, 0.01), (2, 0.5)]);
        assert_eq!(
            changes,
            [SourceGain {
                avatar: AvatarId(1),
                gain: 0.01
            }]
        );
        // Silent again: one 0, then nothing while it stays silent in view or leaves it.
        assert_eq!(update_list(&mut sent, &[(1, -1.0), (2, 0.5)]).len(), 1);
        assert!(update_list(&mut sent, &[(1, -1.0), (2, 0.5)]).is_empty());
        assert!(update_list(&mut sent, &[(2, 0.5)]).is_empty());
        assert_eq!(gains(&sent), [(2, 0.5)]);
    }

    /// Walkers in and out of range, on and off a stage and in and out of a private booth:
    /// whenever the held list lines up with the view, the aligned pass gives the changes and
    /// the held list that the general walk gives.
    #[test]
    fn the_aligned_pass_agrees_with_the_general_walk() {
        let params = PannerParams::default();
        let rules = Rules::new(&params, 15.0, 0.02, 0.001);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut unit = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut roster: Vec<Member> = (0..24)
            .map(|i| Member {
                position: glam::Vec3::new(unit() * 30.0, 0.0, unit() * 30.0),
                yaw: 0.0,
                zones: ZonePresence::default(),
                state: crate::snapshot::AvatarState {
                    id: AvatarId(i + 1),
                    ..Default::default()
                },
            })
            .collect();
        let (mut general, mut fast) = (SmallVec::new(), SmallVec::new());
        let (mut inserts, mut misses) = (Vec::new(), Vec::new());
        let (mut expected, mut got) = (Vec::new(), Vec::new());
        let mut compared = 0;
        for tick in 0..400 {
            for m in roster.iter_mut() {
                m.position += glam::Vec3::new(unit() - 0.5, 0.0, unit() - 0.5) * 0.6;
                m.zones = ZonePresence {
                    on_stage: unit() < 0.05,
                    private_zone: (unit() < 0.05).then_some(0),
                };
            }
            // The view: the listener (in the middle of the roster) and the others, some of
            // them dropping out now and then.
            let me = 12;
            let view: Vec<u32> = (0..roster.len() as u32)
                .filter(|&i| i == me || tick % 7 != 0 || unit() < 0.9)
                .collect();
            let listener = roster[me as usize];
            let sources = view
                .iter()
                .filter(|&&i| i != me)
                .map(|&i| (roster[i as usize].state.id, &roster[i as usize]));
            update(
                &mut general,
                sources.clone(),
                &rules,
                |source, last| evaluate(&rules, &listener, source, last),
                &mut inserts,
                &mut expected,
            );
            let aligned = update_aligned(
                &mut fast,
                &view,
                me,
                &roster,
                &listener,
                &rules,
                &mut misses,
                &mut got,
            );
            if aligned {
                compared += 1;
            } else {
                update(
                    &mut fast,
                    sources,
                    &rules,
                    |source, last| evaluate(&rules, &listener, source, last),
                    &mut inserts,
                    &mut got,
                );
            }
            assert_eq!(got, expected, "tick {tick}");
            let held = |h: &[HeldGain]| -> Vec<(u32, u32, GainBand)> {
                h.iter()
                    .map(|g| (g.source.0, g.gain.to_bits(), g.band))
                    .collect()
            };
            assert_eq!(held(&fast), held(&general), "tick {tick}");
        }
        assert!(compared > 250, "the aligned pass ran {compared} times");
    }

    #[test]
    fn a_gain_inside_its_band_is_not_evaluated() {
        let params = PannerParams::default(); // 1/d
        let rules = Rules::new(&params, 100.0, 0.02, 0.001);
        let (listener, source) = (member_at(0.0), member_at(4.0));
        let Now::Audible(gain) = evaluate(&rules, &listener, &source, None) else {
            panic!("4 m away is audible")
        };
        assert!((gain - 0.25).abs() < 1e-6);
        let last = rules.heard(AvatarId(1), gain);
        assert!(matches!(
            evaluate(&rules, &listener, &member_at(4.2), Some(&last)),
            Now::Holds
        ));
        // 1/3.5 = 0.286: outside the band, evaluated (and the caller sends it)
        assert!(matches!(
            evaluate(&rules, &listener, &member_at(3.5), Some(&last)),
            Now::Audible(g) if (g - 1.0 / 3.5).abs() < 1e-6
        ));
    }

    #[test]
    fn a_source_beyond_the_range_stays_silent_without_evaluation_and_a_band_stops_at_the_range() {
        let params = PannerParams::default();
        let rules = Rules::new(&params, 15.0, 0.02, 0.001);
        let listener = member_at(0.0);
        let Now::Silent(band) = evaluate(&rules, &listener, &member_at(16.0), None) else {
            panic!("16 m is beyond a 15 m range")
        };
        let last = unheard(AvatarId(1), band);
        assert!(matches!(
            evaluate(&rules, &listener, &member_at(20.0), Some(&last)),
            Now::Holds
        ));
        assert!(matches!(
            evaluate(&rules, &listener, &member_at(14.0), Some(&last)),
            Now::Audible(_)
        ));
        // 1/14.5 = 0.069: its band (0.049..0.089, so up to 20 m) ends at the range.
        let Now::Audible(gain) = evaluate(&rules, &listener, &member_at(14.5), None) else {
            panic!("14.5 m is in range")
        };
        let last = rules.heard(AvatarId(1), gain);
        assert!(matches!(
            evaluate(&rules, &listener, &member_at(14.9), Some(&last)),
            Now::Holds
        ));
        assert!(matches!(
            evaluate(&rules, &listener, &member_at(15.1), Some(&last)),
            Now::Silent(_)
        ));
    }
}
