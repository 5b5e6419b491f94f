//! Per listener, the gain of every audible source, sent only when it moved past the threshold.
//!
//! Candidates are the listener's interest set (so the AOI radius should cover the audible
//! range). A gain is compared with the value last *sent*, not last computed, so slow drifts
//! still go out once they add up. A source that falls silent or out of view is sent once as 0.
//!
//! Each gain sent carries the band of distances over which it still holds ([`GainBand`]): while
//! a pair stays inside it the `PannerNode` formula is not evaluated again — its answer would be
//! "keep the value sent". Sources with a sound cone are evaluated every tick.

use bevy_ecs::system::{Local, Query, Res};
use bevy_ecs::utils::Parallel;
use smallvec::SmallVec;

use crate::audio::{GainBand, Hearing as Rule, PannerParams, hearing, source_gain};
use crate::ids::AvatarId;
use crate::messages::{GainUpdate, SourceGain};
use crate::sim::components::{
    Avatar, HEARD_INLINE, Hearing, Interest, Member, Outgoing, Roster, SentGain,
};
use crate::sim::parallel::batching;
use crate::sim::resources::{Settings, SimTick};

/// The per-tick constants of one room's audio.
struct Rules<'a> {
    params: &'a PannerParams,
    range: f32,
    threshold: f32,
    floor: f32,
}

impl Rules<'_> {
    fn sent(&self, source: AvatarId, gain: f32) -> SentGain {
        SentGain {
            source,
            gain,
            band: GainBand::around(self.params, gain, self.threshold, self.floor),
        }
    }
}

/// What the rules say about one pair this tick.
enum Now {
    /// Silent (or out of range, or below the audible floor).
    Silent,
    /// Audible at this gain.
    Audible(f32),
    /// Inside the band of the value last sent: that value stands.
    Holds,
}

/// The rules for one pair: zones first, then range, then (unless the last value sent still
/// holds) the `PannerNode` formula.
#[inline(always)]
fn evaluate(rules: &Rules, listener: &Member, source: &Member, last: Option<&SentGain>) -> Now {
    let zones = listener.zones;
    match hearing(zones, source.zones) {
        Rule::Silent => Now::Silent,
        Rule::Broadcast => Now::Audible(1.0),
        Rule::Spatial => {
            // The same range test `source_gain` starts with, so the band is only consulted
            // where the formula would be.
            if listener.position.distance_squared(source.position) > rules.range * rules.range {
                return Now::Silent;
            }
            if let Some(last) = last {
                let d_sq =
                    (source.position.as_dvec3() - listener.position.as_dvec3()).length_squared();
                if last.band.contains(d_sq) {
                    return Now::Holds;
                }
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
                Now::Silent
            }
        }
    }
}

pub(crate) fn update_gains(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    scratch: Local<Parallel<Scratch>>,
    rooms: Query<&Roster>,
    mut listeners: Query<(&Avatar, &Interest, &mut Hearing, &mut Outgoing)>,
) {
    let now = tick.0;
    let threshold = settings.0.gain_threshold;
    let floor = settings.0.min_audible_gain;
    listeners
        .par_iter_mut()
        .batching_strategy(batching())
        .for_each(|(avatar, interest, mut hearing, mut outgoing)| {
            let mut scratch = scratch.borrow_local_mut();
            let Scratch { inserts, changes } = &mut *scratch;
            let template = &avatar.template;
            let rules = Rules {
                params: &template.audio,
                range: template.audible_range,
                threshold,
                floor,
            };
            let roster = rooms
                .get(avatar.room)
                .map(|r| r.0.as_slice())
                .unwrap_or(&[]);
            let listener = interest.me.and_then(|me| roster.get(me as usize));
            // Interest is in roster order, so sources come in ascending id, like `last_sent`.
            let sources = interest
                .visible
                .iter()
                .filter(|&&index| Some(index) != interest.me)
                .filter_map(|&index| roster.get(index as usize))
                .filter(|_| listener.is_some())
                .map(|source| (source.state.id, source));
            update(
                &mut hearing.last_sent,
                sources,
                &rules,
                |source, last| match listener {
                    Some(listener) => evaluate(&rules, listener, source, last),
                    None => Now::Silent,
                },
                inserts,
                changes,
            );
            outgoing.gains = (!changes.is_empty()).then(|| GainUpdate {
                room: avatar.room_id,
                tick: now,
                gains: changes.iter().copied().collect(),
            });
        });
}

/// Per-thread scratch space: gains of sources heard for the first time, and the changes to
/// send.
#[derive(Default)]
pub(crate) struct Scratch {
    inserts: Vec<SentGain>,
    changes: Vec<SourceGain>,
}

/// Walks the sources heard now (ascending id, with what [`evaluate`] says of each) against the
/// gains last sent (`sent`, ascending), updates `sent` to what the client holds after the
/// changes, and fills `changes` with those changes, ascending by source: new sources, gains
/// that moved past the threshold, and a 0 for each source no longer heard.
///
/// `sent` is updated in place — in the steady state only the few entries that changed are
/// written — with sources heard for the first time gathered in `inserts` and merged in at the
/// end.
#[inline(always)]
fn update<T>(
    sent: &mut SmallVec<[SentGain; HEARD_INLINE]>,
    sources: impl Iterator<Item = (AvatarId, T)>,
    rules: &Rules,
    mut judge: impl FnMut(T, Option<&SentGain>) -> Now,
    inserts: &mut Vec<SentGain>,
    changes: &mut Vec<SourceGain>,
) {
    changes.clear();
    inserts.clear();
    let silenced = |id| SourceGain {
        avatar: id,
        gain: 0.0,
    };
    let len = sent.len();
    // `k` reads the old entries, `w` writes the kept ones (never ahead of `k`).
    let (mut k, mut w) = (0, 0);
    for (id, source) in sources {
        while k < len && sent[k].source < id {
            changes.push(silenced(sent[k].source));
            k += 1;
        }
        let last = (k < len && sent[k].source == id).then(|| {
            k += 1;
            sent[k - 1]
        });
        match (judge(source, last.as_ref()), last) {
            (Now::Holds, Some(last)) => {
                sent[w] = last;
                w += 1;
            }
            (Now::Audible(gain), Some(last)) if (gain - last.gain).abs() <= rules.threshold => {
                sent[w] = last;
                w += 1;
            }
            (Now::Audible(gain), Some(_)) => {
                changes.push(SourceGain { avatar: id, gain });
                sent[w] = rules.sent(id, gain);
                w += 1;
            }
            (Now::Audible(gain), None) => {
                changes.push(SourceGain { avatar: id, gain });
                inserts.push(rules.sent(id, gain));
            }
            (Now::Silent, Some(last)) => changes.push(silenced(last.source)),
            (Now::Silent | Now::Holds, None) => {}
        }
    }
    for gone in &sent[k..] {
        changes.push(silenced(gone.source));
    }
    sent.truncate(w);
    if !inserts.is_empty() {
        sent.extend_from_slice(inserts);
        sent.sort_unstable_by_key(|g| g.source);
        changes.sort_unstable_by_key(|c| c.avatar);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::ZonePresence;

    fn update_list(
        sent: &mut SmallVec<[SentGain; HEARD_INLINE]>,
        list: &[(u32, f32)],
    ) -> Vec<SourceGain> {
        let params = PannerParams::default();
        let rules = Rules {
            params: &params,
            range: 100.0,
            threshold: 0.05,
            floor: 0.001,
        };
        // Stale scratch must not leak into either list.
        let mut inserts = vec![rules.sent(AvatarId(99), 9.0)];
        let mut changes = vec![SourceGain {
            avatar: AvatarId(98),
            gain: 9.0,
        }];
        let sources = list.iter().map(|&(id, g)| (AvatarId(id), g));
        update(
            sent,
            sources,
            &rules,
            |g, _| Now::Audible(g),
            &mut inserts,
            &mut changes,
        );
        changes
    }

    fn gains(sent: &[SentGain]) -> Vec<(u32, f32)> {
        sent.iter().map(|g| (g.source.0, g.gain)).collect()
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
    fn a_gain_inside_its_band_is_not_evaluated() {
        let params = PannerParams::default(); // 1/d
        let rules = Rules {
            params: &params,
            range: 100.0,
            threshold: 0.02,
            floor: 0.001,
        };
        let at = |x: f32| Member {
            position: glam::Vec3::new(x, 0.0, 0.0),
            yaw: 0.0,
            zones: ZonePresence::default(),
            state: crate::snapshot::AvatarState::default(),
        };
        let (listener, source) = (at(0.0), at(4.0));
        let Now::Audible(gain) = evaluate(&rules, &listener, &source, None) else {
            panic!("4 m away is audible")
        };
        assert!((gain - 0.25).abs() < 1e-6);
        let last = rules.sent(AvatarId(1), gain);
        assert!(matches!(
            evaluate(&rules, &listener, &at(4.2), Some(&last)),
            Now::Holds
        ));
        // 1/3.5 = 0.286: outside the band, evaluated (and the caller sends it)
        assert!(matches!(
            evaluate(&rules, &listener, &at(3.5), Some(&last)),
            Now::Audible(g) if (g - 1.0 / 3.5).abs() < 1e-6
        ));
    }
}
