//! Per listener, the gain of every audible source, sent only when it moved past the threshold.
//!
//! Candidates are the listener's interest set (so the AOI radius should cover the audible
//! range). A gain is compared with the value last *sent*, not last computed, so slow drifts
//! still go out once they add up. A source that falls silent or out of view is sent once as 0.

use bevy_ecs::system::{Local, Query, Res, ResMut};

use crate::audio::source_gain;
use crate::ids::AvatarId;
use crate::messages::{GainUpdate, SourceGain, SpatialOutput};
use crate::sim::components::{Avatar, Hearing, Interest, Position, Roster, Zones};
use crate::sim::resources::{Outbox, Settings, SimStats, SimTick};
use crate::telemetry;

pub(crate) fn update_gains(
    tick: Res<SimTick>,
    settings: Res<Settings>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<SimStats>,
    mut scratch: Local<Scratch>,
    rooms: Query<&Roster>,
    mut listeners: Query<(&Avatar, &Position, &Zones, &Interest, &mut Hearing)>,
) {
    let threshold = settings.0.gain_threshold;
    let floor = settings.0.min_audible_gain;
    let Scratch { current, next } = &mut *scratch;
    let mut updates = 0u64;
    for (listener, position, zones, interest, mut hearing) in &mut listeners {
        current.clear();
        let template = &listener.template;
        if let Ok(roster) = rooms.get(listener.room) {
            // Interest is in roster order, so `current` comes out sorted by avatar id.
            for visible in &interest.visible {
                let Some(source) = roster.0.get(visible.member as usize) else {
                    continue;
                };
                if source.state.id == listener.id {
                    continue;
                }
                let gain = source_gain(
                    &template.audio,
                    template.audible_range,
                    position.0,
                    zones.0,
                    source.position,
                    source.yaw,
                    source.zones,
                );
                if gain >= floor {
                    current.push((source.state.id, gain));
                }
            }
        }

        let changes = merge_changes(&mut hearing.last_sent, current, threshold, next);
        if !changes.is_empty() {
            updates += 1;
            outbox.send(
                listener.client,
                SpatialOutput::Gains(GainUpdate {
                    room: listener.room_id,
                    tick: tick.0,
                    gains: changes,
                }),
            );
        }
    }
    stats.gain_updates += updates;
    if updates > 0 {
        metrics::counter!(telemetry::GAIN_UPDATES).increment(updates);
    }
}

/// Buffers reused across listeners and ticks.
#[derive(Default)]
pub(crate) struct Scratch {
    current: Vec<(AvatarId, f32)>,
    next: Vec<(AvatarId, f32)>,
}

/// Compares the audible gains now (`current`, ascending ids) with those last sent, returns
/// what must be sent and updates `last_sent` to match what the client will then hold. `next`
/// is scratch space (its old contents are discarded).
fn merge_changes(
    last_sent: &mut Vec<(AvatarId, f32)>,
    current: &[(AvatarId, f32)],
    threshold: f32,
    next: &mut Vec<(AvatarId, f32)>,
) -> Vec<SourceGain> {
    let mut changes = Vec::new();
    next.clear();
    let (mut i, mut j) = (0, 0);
    while i < last_sent.len() || j < current.len() {
        match (last_sent.get(i), current.get(j)) {
            (Some(&(old_id, old)), Some(&(new_id, new))) if old_id == new_id => {
                if (new - old).abs() > threshold {
                    changes.push(SourceGain {
                        avatar: new_id,
                        gain: new,
                    });
                    next.push((new_id, new));
                } else {
                    next.push((old_id, old));
                }
                i += 1;
                j += 1;
            }
            (Some(&(old_id, _)), Some(&(new_id, _))) if old_id < new_id => {
                changes.push(SourceGain {
                    avatar: old_id,
                    gain: 0.0,
                });
                i += 1;
            }
            (Some(&(old_id, _)), None) => {
                changes.push(SourceGain {
                    avatar: old_id,
                    gain: 0.0,
                });
                i += 1;
            }
            (_, Some(&(new_id, new))) => {
                changes.push(SourceGain {
                    avatar: new_id,
                    gain: new,
                });
                next.push((new_id, new));
                j += 1;
            }
            (None, None) => break,
        }
    }
    std::mem::swap(last_sent, next);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(sent: &mut Vec<(AvatarId, f32)>, list: &[(u32, f32)]) -> Vec<SourceGain> {
        let current: Vec<(AvatarId, f32)> = list.iter().map(|&(id, g)| (AvatarId(id), g)).collect();
        let mut scratch = vec![(AvatarId(99), 9.0)]; // stale scratch contents must not leak
        merge_changes(sent, &current, 0.05, &mut scratch)
    }

    #[test]
    fn only_changes_beyond_the_threshold_are_sent() {
        let mut sent = Vec::new();
        let first = merge(&mut sent, &[(1, 0.5), (2, 0.25)]);
        assert_eq!(first.len(), 2, "everything is new");
        // 1 drifts by 0.03 (kept), 2 by 0.1 (sent), 3 appears
        let second = merge(&mut sent, &[(1, 0.53), (2, 0.35), (3, 1.0)]);
        let ids: Vec<u32> = second.iter().map(|g| g.avatar.0).collect();
        assert_eq!(ids, [2, 3]);
        // 1 keeps drifting: measured against 0.5 (last sent), 0.56 now crosses the threshold
        let third = merge(&mut sent, &[(1, 0.56), (2, 0.35), (3, 1.0)]);
        assert_eq!(
            third,
            [SourceGain {
                avatar: AvatarId(1),
                gain: 0.56
            }]
        );
        // 2 goes silent: sent once as 0, then nothing
        let fourth = merge(&mut sent, &[(1, 0.56), (3, 1.0)]);
        assert_eq!(
            fourth,
            [SourceGain {
                avatar: AvatarId(2),
                gain: 0.0
            }]
        );
        assert!(merge(&mut sent, &[(1, 0.56), (3, 1.0)]).is_empty());
    }
}
