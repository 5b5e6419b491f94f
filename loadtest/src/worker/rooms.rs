//! `rooms`: one avatar per session, walking a small circle in its room.
//!
//! Each avatar sends its pose (`pos`, with the newest complete snapshot tick as `ack`) at
//! `rooms.pos_hz`, rebuilds its view from the snapshot parts it receives, and measures one peer:
//! the avatar of its room that arrived nearest to it (so that it is in view: a client only sees
//! avatars within the area of interest), ties going to the next in the room's order
//! (`plan.rs`). The peer writes every pose it sends, quantised the way
//! snapshots carry positions, with its send time onto a per-worker [`PoseBoard`]; when a view first
//! shows the peer at one of those positions, `now − sent` is a sample of the latency from a
//! `pos` send to the first snapshot that shows the move to someone else. Several avatars may
//! watch the same peer: each samples each pose once for itself. Poses superseded before any
//! snapshot showed them are dropped without a sample (the server only shows the latest pose
//! of a tick). Avatars send no velocity, so the server does not extrapolate and a shown position
//! is exactly a sent one.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrium_core::ids::RoomId;
use atrium_core::protocol::{ClientFrame, OkResult, RoomEventKind, RoomJoined, ServerFrame};
use atrium_spatial::AvatarId;
use atrium_spatial::snapshot::{SnapshotPart, View, apply_snapshot, decode_part};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::config::RoomTransport;
use crate::counts::RoomCounts;
use crate::payload::now_us;
use crate::plan::AvatarSpec;
use crate::wire::{WireContext, WireError};

use super::room_link::{Pushed, RoomLink};
use super::stats::{LatencyBuffer, WorkerStats};

/// Radius of every avatar's walk, metres.
const WALK_RADIUS_M: f32 = 1.5;
/// Sent poses a peer keeps for its observer (12.8 s at 20 Hz); slower ones go unmeasured.
const POSES_KEPT: usize = 256;
/// Views kept by tick (the server's baselines are at most 40 ticks old).
const VIEWS_KEPT: u64 = 64;
/// A shown position matches a sent one within this many centimetres per axis (rounding).
const MATCH_CM: u32 = 1;

/// The poses every avatar of this worker sent and nobody has seen yet, by session.
#[derive(Default)]
pub struct PoseBoard(Mutex<HashMap<u64, PeerPoses>>);

#[derive(Default)]
struct PeerPoses {
    avatar: Option<u32>,
    /// Room index and arrival point (metres), to pick each avatar's peer.
    arrival: Option<(u32, [f32; 3])>,
    /// `(quantised position, sent µs)`, oldest first.
    sent: VecDeque<([u32; 3], u64)>,
}

impl PoseBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, PeerPoses>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn joined(&self, session: u64, avatar: u32, room: u32, at: [f32; 3]) {
        let mut board = self.lock();
        let entry = board.entry(session).or_default();
        entry.avatar = Some(avatar);
        entry.arrival = Some((room, at));
    }

    /// The avatar of `me`'s room that arrived nearest to it; among equally near ones the first
    /// after `me` in session order (so that avatars sharing a spawn point watch each other in a
    /// ring). `None` when `me` is alone in its room.
    fn nearest(&self, me: u64) -> Option<u64> {
        let board = self.lock();
        let (room, at) = board.get(&me)?.arrival?;
        board
            .iter()
            .filter(|&(&s, _)| s != me)
            .filter_map(|(&s, p)| p.arrival.filter(|(r, _)| *r == room).map(|(_, a)| (s, a)))
            .min_by(|(sa, a), (sb, b)| {
                let d = |p: &[f32; 3]| (0..3).map(|i| (p[i] - at[i]).powi(2)).sum::<f32>();
                // Centimetre resolution, so spawn-point twins compare equal.
                let key = |s: u64, p: &[f32; 3]| {
                    (
                        (d(p) * 1e4).round() as u64,
                        s.wrapping_sub(me).wrapping_sub(1),
                    )
                };
                key(*sa, a).cmp(&key(*sb, b))
            })
            .map(|(s, _)| s)
    }

    fn sent(&self, session: u64, at: [u32; 3], sent_us: u64) {
        let mut board = self.lock();
        let poses = &mut board.entry(session).or_default().sent;
        if poses.len() == POSES_KEPT {
            poses.pop_front();
        }
        poses.push_back((at, sent_us));
    }

    fn avatar_of(&self, session: u64) -> Option<u32> {
        self.lock().get(&session).and_then(|p| p.avatar)
    }

    /// The send time of the newest pose of `session` at `shown` (within [`MATCH_CM`]), if it
    /// was sent after `after_us`: a watcher passes its last sample's send time, so it measures
    /// each pose once and never one older than a pose it already saw. The board is left as it
    /// is, for the peer's other watchers.
    fn shown_since(&self, session: u64, shown: [u32; 3], after_us: u64) -> Option<u64> {
        let board = self.lock();
        let poses = &board.get(&session)?.sent;
        let near = |at: &[u32; 3]| (0..3).all(|i| at[i].abs_diff(shown[i]) <= MATCH_CM);
        let (_, sent_us) = poses.iter().rev().find(|(at, _)| near(at))?;
        (*sent_us > after_us).then_some(*sent_us)
    }
}

/// The views a client rebuilds from snapshot parts.
#[derive(Default)]
struct Views {
    complete: BTreeMap<u64, View>,
    partial: BTreeMap<u64, Vec<SnapshotPart>>,
    /// Ticks from this one on count as incomplete when some of their parts never arrive.
    counted_from: Option<u64>,
    /// Such ticks given up on (too old to complete).
    incomplete: u64,
}

/// What one part did.
enum Taken {
    /// More parts of its tick are due.
    Partial,
    /// The tick's view is complete (`delta`: against an acknowledged baseline).
    Complete { tick: u64, delta: bool },
    /// It did not decode, or its baseline is a view this client does not hold.
    Unusable,
}

impl Views {
    fn take(&mut self, bytes: &[u8]) -> Taken {
        let Ok(part) = decode_part(bytes) else {
            return Taken::Unusable;
        };
        let (tick, count) = (part.tick, usize::from(part.parts));
        let parts = self.partial.entry(tick).or_default();
        parts.push(part);
        if parts.len() < count {
            return Taken::Partial;
        }
        let parts = self.partial.remove(&tick).unwrap_or_default();
        let delta = parts[0].baseline.is_some();
        let complete = &self.complete;
        let Ok(view) = apply_snapshot(|base| complete.get(&base), &parts) else {
            return Taken::Unusable;
        };
        self.complete.insert(tick, view);
        let oldest = tick.saturating_sub(VIEWS_KEPT);
        self.complete = self.complete.split_off(&oldest);
        let kept = self.partial.split_off(&oldest);
        let given_up = std::mem::replace(&mut self.partial, kept);
        self.incomplete += self.counted(given_up.keys(), None);
        Taken::Complete { tick, delta }
    }

    fn newest(&self) -> Option<(u64, &View)> {
        self.complete.iter().next_back().map(|(t, v)| (*t, v))
    }

    /// Counts incomplete ticks from `tick` on.
    fn count_incomplete_from(&mut self, tick: u64) {
        self.counted_from.get_or_insert(tick);
    }

    /// Ticks from `counted_from` on that lost a part: given up on, or still partial though
    /// older than `newest` (the newest complete tick, at the end of a run).
    fn incomplete(&self, newest: Option<u64>) -> u64 {
        self.incomplete + self.counted(self.partial.keys(), newest)
    }

    fn counted<'a>(&self, ticks: impl Iterator<Item = &'a u64>, below: Option<u64>) -> u64 {
        let Some(from) = self.counted_from else {
            return 0;
        };
        ticks
            .filter(|&&t| t >= from && below.is_none_or(|b| t < b))
            .count() as u64
    }
}

/// The ticks of the complete snapshots a client received while walking: while everyone
/// walks the server sends one every tick, so the ticks between the first and the last that
/// never completed were skipped by the server or, over datagrams, lost on the way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct TickCoverage {
    first: Option<u64>,
    last: Option<u64>,
    seen: u64,
}

impl TickCoverage {
    fn saw(&mut self, tick: u64) {
        self.first = Some(self.first.map_or(tick, |f| f.min(tick)));
        self.last = Some(self.last.map_or(tick, |l| l.max(tick)));
        self.seen += 1;
    }

    fn missed(&self) -> u64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) => (last - first + 1).saturating_sub(self.seen),
            _ => 0,
        }
    }
}

/// A circle through the avatar's arrival point, bending towards the room's centre.
#[derive(Debug, Clone, Copy)]
pub struct Walk {
    centre: [f32; 2],
    /// Angle of the arrival point seen from the centre.
    phase: f32,
    /// Radians per second.
    omega: f32,
    y: f32,
}

impl Walk {
    pub fn new(joined: &RoomJoined, index: u32, speed_mps: f32) -> Self {
        let [min, max] = joined.room.layout.bounds;
        let room_centre = [(min[0] + max[0]) / 2.0, (min[2] + max[2]) / 2.0];
        let start = [joined.p[0], joined.p[2]];
        let (dx, dz) = (room_centre[0] - start[0], room_centre[1] - start[1]);
        // Towards the centre, turned by up to ±60° so avatars sharing a spawn point part ways.
        let turn = ((index % 5) as f32 - 2.0) * std::f32::consts::FRAC_PI_6;
        let towards = if dx.hypot(dz) < 1e-3 {
            0.0
        } else {
            dz.atan2(dx)
        } + turn;
        let centre = [
            start[0] + WALK_RADIUS_M * towards.cos(),
            start[1] + WALK_RADIUS_M * towards.sin(),
        ];
        Self {
            centre,
            phase: towards + std::f32::consts::PI,
            omega: speed_mps / WALK_RADIUS_M,
            y: joined.p[1],
        }
    }

    /// Position and yaw `t` seconds into the walk.
    pub fn pose(&self, t: f32) -> ([f32; 3], f32) {
        let a = self.phase + self.omega * t;
        let p = [
            self.centre[0] + WALK_RADIUS_M * a.cos(),
            self.y,
            self.centre[1] + WALK_RADIUS_M * a.sin(),
        ];
        (p, a.rem_euclid(std::f32::consts::TAU))
    }
}

/// Centimetres from the room's lower corner, as snapshots carry positions.
pub fn quantize(p: [f32; 3], bounds: [[f32; 3]; 2]) -> [u32; 3] {
    std::array::from_fn(|i| {
        let edge = ((bounds[1][i] - bounds[0][i]) * 100.0).round();
        ((p[i] - bounds[0][i]) * 100.0).round().clamp(0.0, edge) as u32
    })
}

/// A session in its room, ready to walk.
pub struct Avatar {
    link: RoomLink,
    spec: AvatarSpec,
    joined: RoomJoined,
    views: Views,
    coverage: TickCoverage,
    /// Send time of the peer's pose this avatar last sampled.
    last_sample_us: u64,
}

/// Opens the session on `transport` (retrying like every other) and joins the room.
pub async fn join(
    ctx: &WireContext,
    stats: &WorkerStats,
    board: &PoseBoard,
    spec: AvatarSpec,
    transport: RoomTransport,
    token: &str,
    room: RoomId,
) -> Result<Avatar, WireError> {
    let mut link = RoomLink::open(ctx, stats, spec.session, token, transport).await?;
    let reply = link
        .call(
            |rid| ClientFrame::RoomJoin { rid, room },
            ctx.handshake_timeout,
            "room_join",
        )
        .await;
    let joined = match reply {
        Ok(OkResult::RoomJoined(joined)) => *joined,
        Ok(_) => {
            return Err(WireError::Protocol(
                "room.join answered without a room".into(),
            ));
        }
        Err(e) => {
            stats.error(&e.code());
            return Err(e);
        }
    };
    let mut views = Views::default();
    for part in &joined.snapshot {
        views.take(&part.0);
    }
    board.joined(spec.session, joined.avatar, spec.room, joined.p);
    Ok(Avatar {
        link,
        spec,
        joined,
        views,
        coverage: TickCoverage::default(),
        last_sample_us: 0,
    })
}

/// When and how fast avatars walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkPlan {
    pub start: Instant,
    pub stop: Instant,
    pub pos_hz: u32,
    pub speed_mps: f32,
}

impl Avatar {
    /// Takes what arrives until `plan` says when to walk, walks from `plan.start` to
    /// `plan.stop`, then leaves and closes.
    pub async fn run(
        mut self,
        board: Arc<PoseBoard>,
        stats: Arc<WorkerStats>,
        mut plan: watch::Receiver<Option<WalkPlan>>,
        abort: CancellationToken,
    ) -> RoomCounts {
        let mut counts = RoomCounts {
            joined: 1,
            ..RoomCounts::default()
        };
        let mut latencies = LatencyBuffer::new(self.spec.session);
        let waited: Result<Option<WalkPlan>, WireError> = async {
            loop {
                tokio::select! {
                    () = abort.cancelled() => return Ok(None),
                    changed = plan.changed() => {
                        if changed.is_err() {
                            return Ok(None);
                        }
                        if let Some(plan) = *plan.borrow_and_update() {
                            return Ok(Some(plan));
                        }
                    }
                    pushed = self.link.recv() => {
                        let (pushed, size) = pushed?;
                        self.absorb(pushed, size, false, &mut counts, &board, &stats, &mut latencies);
                    }
                }
            }
        }
        .await;
        let plan = match waited {
            Ok(Some(plan)) => plan,
            stopped => {
                if let Err(e) = stopped {
                    stats.error(&e.code());
                }
                self.link.leave_and_close().await;
                return counts;
            }
        };
        let walk = Walk::new(&self.joined, self.spec.index, plan.speed_mps);
        let bounds = self.joined.room.layout.bounds;
        let period = Duration::from_secs_f64(1.0 / f64::from(plan.pos_hz.max(1)));
        let mut tick =
            tokio::time::interval_at(plan.start + pose_phase(self.spec.session, period), period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut acked = None;
        let mut measured = false;
        // Everyone of this worker joined before the start, so the board is complete now.
        self.spec.watches = board
            .nearest(self.spec.session)
            .unwrap_or(self.spec.session);
        let outcome: Result<(), WireError> = async {
            loop {
                tokio::select! {
                    () = abort.cancelled() => return Ok(()),
                    at = tick.tick() => {
                        if at >= plan.stop {
                            return Ok(());
                        }
                        let (p, yaw) = walk.pose((at - plan.start).as_secs_f32());
                        let newest = self.views.newest().map(|(t, _)| t);
                        let ack = newest.filter(|&t| acked != Some(t));
                        acked = newest.or(acked);
                        let sent_us = now_us();
                        self.link.send_pos(p, yaw, ack).await?;
                        board.sent(self.spec.session, quantize(p, bounds), sent_us);
                        counts.poses += 1;
                        latencies.maybe_flush(&stats);
                    }
                    pushed = self.link.recv() => {
                        let (pushed, size) = pushed?;
                        let active = Instant::now() >= plan.start;
                        if self.absorb(pushed, size, active, &mut counts, &board, &stats, &mut latencies) {
                            measured = true;
                        }
                    }
                }
            }
        }
        .await;
        if let Err(e) = outcome {
            stats.error(&e.code());
        }
        latencies.flush(&stats);
        counts.measured_pairs = u64::from(measured);
        counts.missed_ticks = self.coverage.missed();
        counts.incomplete_ticks = self.views.incomplete(self.coverage.last);
        self.link.leave_and_close().await;
        counts
    }

    /// Takes one pushed frame or datagram; true when it gave a latency sample.
    #[allow(clippy::too_many_arguments)]
    fn absorb(
        &mut self,
        pushed: Pushed,
        size: usize,
        active: bool,
        counts: &mut RoomCounts,
        board: &PoseBoard,
        stats: &WorkerStats,
        latencies: &mut LatencyBuffer,
    ) -> bool {
        let frame = match pushed {
            Pushed::Part { data, datagram } => {
                if active {
                    counts.snapshot_parts += 1;
                    counts.snapshot_datagrams += u64::from(datagram);
                    counts.snapshot_bytes += data.len() as u64;
                    counts.snapshot_frame_bytes += size as u64;
                }
                match self.views.take(&data) {
                    Taken::Partial => {}
                    Taken::Unusable => counts.unusable_parts += 1,
                    Taken::Complete { tick, delta } => {
                        if active {
                            counts.snapshots += 1;
                            counts.delta_snapshots += u64::from(delta);
                            self.coverage.saw(tick);
                            self.views.count_incomplete_from(tick);
                        }
                        return active && self.measure_peer(tick, board, stats, latencies);
                    }
                }
                return false;
            }
            Pushed::Unreadable => {
                stats.error("bad_datagram");
                return false;
            }
            Pushed::Ignored => return false,
            Pushed::Frame(frame) => frame,
        };
        match frame {
            ServerFrame::RoomGains { .. } => counts.gain_updates += u64::from(active),
            ServerFrame::RoomCorrection { reasons, .. } => {
                for reason in reasons {
                    *counts.corrections.entry(reason).or_default() += 1;
                }
            }
            ServerFrame::RoomEvent {
                kind: RoomEventKind::Closed,
                ..
            } => stats.error("room_closed"),
            ServerFrame::Err { code, .. } => stats.error(code.as_str()),
            _ => {}
        }
        false
    }

    fn measure_peer(
        &mut self,
        tick: u64,
        board: &PoseBoard,
        stats: &WorkerStats,
        latencies: &mut LatencyBuffer,
    ) -> bool {
        let now = now_us();
        let peer = self.spec.watches;
        let Some(avatar) = board.avatar_of(peer) else {
            return false;
        };
        let Some(state) = self
            .views
            .complete
            .get(&tick)
            .and_then(|v| v.get(AvatarId(avatar)))
        else {
            return false;
        };
        match board.shown_since(peer, [state.x, state.y, state.z], self.last_sample_us) {
            Some(sent_us) => {
                self.last_sample_us = sent_us;
                latencies.push(stats, now, sent_us);
                true
            }
            None => false,
        }
    }
}

/// When in each pose period an avatar sends, as an offset from the walk's start: spread over
/// the period by the golden-ratio sequence of session numbers. Were every avatar to send at the
/// same instant, the whole run would share one phase against the server's tick, and the
/// latency median would move by up to a tick period from run to run with where that phase
/// fell; spread, every run averages over all phases and two runs (or two transports) compare.
fn pose_phase(session: u64, period: Duration) -> Duration {
    const GOLDEN: f64 = 0.618_033_988_749_894_9;
    period.mul_f64((session as f64 * GOLDEN).fract())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pose_phases_spread_over_the_period() {
        let period = Duration::from_millis(50);
        let phases: Vec<Duration> = (0..50).map(|s| pose_phase(s, period)).collect();
        assert!(phases.iter().all(|p| *p < period));
        // Every fifth of the period holds about a fifth of 50 avatars (each 7 to 13).
        for fifth in 0..5u32 {
            let (low, high) = (period * fifth / 5, period * (fifth + 1) / 5);
            let n = phases.iter().filter(|p| **p >= low && **p < high).count();
            assert!((7..=13).contains(&n), "fifth {fifth}: {n} of 50");
        }
        // Consecutive sessions (one room's avatars) never share a phase.
        assert!(phases.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn positions_quantise_to_centimetres_from_the_lower_corner_and_clamp() {
        let bounds = [[-10.0, 0.0, -5.0], [10.0, 4.0, 5.0]];
        assert_eq!(quantize([-10.0, 0.0, -5.0], bounds), [0, 0, 0]);
        assert_eq!(quantize([0.004, 1.005, 4.996], bounds), [1000, 101, 1000]);
        assert_eq!(quantize([50.0, -1.0, 0.0], bounds), [2000, 0, 500]);
    }

    #[test]
    fn a_peer_pose_is_measured_once_and_older_ones_are_dropped() {
        let board = PoseBoard::default();
        board.joined(7, 3, 0, [0.0; 3]);
        board.sent(7, [100, 0, 100], 1_000);
        board.sent(7, [108, 0, 100], 2_000);
        board.sent(7, [116, 0, 100], 3_000);
        assert_eq!(board.avatar_of(7), Some(3));
        // A view shows the second pose (off by a rounding centimetre): the first is superseded.
        assert_eq!(board.shown_since(7, [109, 0, 100], 0), Some(2_000));
        assert_eq!(
            board.shown_since(7, [108, 0, 100], 2_000),
            None,
            "measured once"
        );
        assert_eq!(
            board.shown_since(7, [100, 0, 100], 2_000),
            None,
            "superseded"
        );
        assert_eq!(board.shown_since(7, [116, 0, 100], 2_000), Some(3_000));
        // Another watcher of the same peer, which has not sampled yet, still can.
        assert_eq!(board.shown_since(7, [108, 0, 100], 0), Some(2_000));
        assert_eq!(board.shown_since(8, [0, 0, 0], 0), None, "unknown session");
    }

    #[test]
    fn the_peer_is_the_nearest_arrival_of_the_same_room_ties_in_a_ring() {
        let board = PoseBoard::default();
        board.joined(0, 1, 0, [0.0, 0.0, 0.0]);
        board.joined(1, 2, 0, [10.0, 0.0, 0.0]);
        board.joined(2, 3, 0, [0.0, 0.0, 0.0]);
        board.joined(3, 4, 0, [10.0, 0.0, 0.0]);
        board.joined(4, 1, 1, [0.0, 0.0, 0.0]);
        assert_eq!(board.nearest(0), Some(2));
        assert_eq!(board.nearest(2), Some(0), "the ring closes");
        assert_eq!(board.nearest(1), Some(3));
        assert_eq!(board.nearest(4), None, "alone in room 1");
        assert_eq!(board.nearest(9), None, "never joined");
    }

    /// An empty full snapshot of `tick`, part `part` of `parts`.
    fn part(tick: u64, part: u8, parts: u8) -> Vec<u8> {
        let mut out = Vec::new();
        atrium_spatial::snapshot::encode_part(
            &SnapshotPart {
                tick,
                baseline: None,
                part,
                parts,
                removed: Vec::new(),
                changes: Vec::new(),
            },
            &mut out,
        );
        out
    }

    #[test]
    fn ticks_missing_between_the_first_and_last_complete_one_are_counted() {
        let mut coverage = TickCoverage::default();
        assert_eq!(coverage.missed(), 0, "nothing seen, nothing missed");
        for tick in [10, 11, 13, 12, 16] {
            coverage.saw(tick);
        }
        // 10..=16 is 7 ticks; 14 and 15 never came (13 and 12 came out of order).
        assert_eq!(coverage.missed(), 2);
        assert_eq!((coverage.first, coverage.last), (Some(10), Some(16)));
    }

    #[test]
    fn a_tick_that_lost_a_part_counts_as_incomplete_once_it_cannot_complete() {
        let mut views = Views::default();
        assert!(matches!(views.take(&part(5, 0, 2)), Taken::Partial));
        assert!(matches!(
            views.take(&part(6, 0, 1)),
            Taken::Complete { tick: 6, .. }
        ));
        views.count_incomplete_from(6);
        assert_eq!(views.incomplete(Some(6)), 0, "tick 5 is before the count");
        // Tick 7 loses its second part; 8 completes, so 7 is given up at the end...
        assert!(matches!(views.take(&part(7, 0, 2)), Taken::Partial));
        assert!(matches!(views.take(&part(8, 0, 1)), Taken::Complete { .. }));
        assert_eq!(views.incomplete(Some(8)), 1);
        assert_eq!(views.incomplete(Some(7)), 0, "not older than the newest");
        // ...or as soon as it is too old to keep.
        assert!(matches!(
            views.take(&part(8 + VIEWS_KEPT, 0, 1)),
            Taken::Complete { .. }
        ));
        assert!(views.partial.is_empty());
        assert_eq!(views.incomplete(None), 1);
        assert!(matches!(views.take(b"junk"), Taken::Unusable));
    }

    #[test]
    fn the_walk_starts_at_the_arrival_point_and_keeps_its_speed() {
        let walk = Walk {
            centre: [5.0, 5.0],
            phase: 0.0,
            omega: 1.0,
            y: 0.0,
        };
        let (p0, _) = walk.pose(0.0);
        assert!((p0[0] - 6.5).abs() < 1e-5 && (p0[2] - 5.0).abs() < 1e-5);
        // 50 ms at 1.5 m/s on the circle: about 7.5 cm, far above the 1 cm match tolerance.
        let (p1, _) = walk.pose(0.05);
        let step = (p1[0] - p0[0]).hypot(p1[2] - p0[2]);
        assert!((step - 0.075).abs() < 0.001, "{step}");
    }
}
