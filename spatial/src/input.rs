//! Validation of what clients ask their avatars to do.
//!
//! A client reports where its avatar is (VR headsets own their pose, so the client proposes and
//! the server checks). Nothing is trusted: non-finite numbers are refused outright, speeds are
//! clamped, positions are clamped to the room and to how far the avatar could have walked, and a
//! teleport must land on a seat or a spawn point. Each fix-up is a [`CorrectionReason`]; the
//! simulation counts it and tells the client where its avatar really is.

use std::f32::consts::TAU;

use glam::Vec3;

use crate::template::RoomTemplate;

/// What a client asks of its avatar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AvatarInput {
    /// "I am here, facing this way, moving like this." Within one tick only the latest move
    /// counts (moves are state, not commands).
    Move {
        /// Proposed position, metres.
        position: Vec3,
        /// Facing, radians (0 looks down −Z, counter-clockwise from above).
        yaw: f32,
        /// Velocity in metres per second; the server extrapolates with it between inputs.
        velocity: Vec3,
    },
    /// "Put me there": accepted only onto a seat (if free) or a spawn point within the snap
    /// radius, and then placed exactly on it.
    Teleport {
        /// Requested destination, metres.
        to: Vec3,
    },
}

/// Why an input was not taken as sent. The string forms are stable (metric labels, wire codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrectionReason {
    /// NaN or infinite numbers: the whole input was ignored.
    NonFinite,
    /// The velocity exceeded the maximum speed and was scaled down.
    SpeedClamped,
    /// The position was outside the room and was clamped to its bounds.
    OutOfBounds,
    /// The position was farther than the avatar could have walked and was pulled back.
    TooFast,
    /// The teleport target is neither a seat nor a spawn point.
    TeleportRefused,
    /// The teleport target is a seat someone else occupies.
    SeatTaken,
}

impl CorrectionReason {
    /// Stable snake-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            CorrectionReason::NonFinite => "non_finite",
            CorrectionReason::SpeedClamped => "speed_clamped",
            CorrectionReason::OutOfBounds => "out_of_bounds",
            CorrectionReason::TooFast => "too_fast",
            CorrectionReason::TeleportRefused => "teleport_refused",
            CorrectionReason::SeatTaken => "seat_taken",
        }
    }
}

/// The movement limits a move is checked against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoveLimits {
    /// Metres per second.
    pub max_speed: f32,
    /// Seconds per tick.
    pub tick_seconds: f32,
    /// Extra metres allowed per move.
    pub tolerance: f32,
    /// Most ticks of walking one move may cover.
    pub max_budget_ticks: u32,
}

/// Where an avatar is and which way it faces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Metres.
    pub position: Vec3,
    /// Radians.
    pub yaw: f32,
}

/// The accepted (possibly corrected) result of a move.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveOutcome {
    /// Where the avatar now is.
    pub position: Vec3,
    /// Its facing, normalised to `[0, 2π)`.
    pub yaw: f32,
    /// Its velocity.
    pub velocity: Vec3,
    /// What had to be fixed (empty when the input was valid).
    pub corrections: Vec<CorrectionReason>,
}

/// Checks a move of an avatar currently at `current` whose last accepted move was
/// `ticks_since_last_move` ticks ago. A non-finite request leaves the avatar where it is,
/// stopped.
pub fn validate_move(
    current: Pose,
    ticks_since_last_move: u64,
    requested: Pose,
    requested_velocity: Vec3,
    template: &RoomTemplate,
    limits: &MoveLimits,
) -> MoveOutcome {
    if !(requested.position.is_finite()
        && requested.yaw.is_finite()
        && requested_velocity.is_finite())
    {
        return MoveOutcome {
            position: current.position,
            yaw: current.yaw,
            velocity: Vec3::ZERO,
            corrections: vec![CorrectionReason::NonFinite],
        };
    }
    let mut corrections = Vec::new();

    let mut velocity = requested_velocity;
    if velocity.length() > limits.max_speed {
        velocity = velocity.clamp_length_max(limits.max_speed);
        corrections.push(CorrectionReason::SpeedClamped);
    }

    let mut position = requested.position;
    if !template.bounds.contains(position) {
        position = template.bounds.clamp(position);
        corrections.push(CorrectionReason::OutOfBounds);
    }

    let budget_ticks = ticks_since_last_move.clamp(1, u64::from(limits.max_budget_ticks.max(1)));
    let allowed = limits.max_speed * limits.tick_seconds * budget_ticks as f32 + limits.tolerance;
    let step = position - current.position;
    if step.length() > allowed {
        // Both ends are inside the (convex) bounds, so the shortened step is too.
        position = current.position + step.clamp_length_max(allowed);
        corrections.push(CorrectionReason::TooFast);
    }

    MoveOutcome {
        position,
        yaw: requested.yaw.rem_euclid(TAU),
        velocity,
        corrections,
    }
}

/// Where a teleport may land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeleportTarget {
    /// A seat, by index in the template.
    Seat(u16),
    /// A spawn point, by index in the template.
    Spawn(u16),
}

/// The seat or spawn point nearest to `to` within `snap_radius`, if any.
pub fn resolve_teleport(
    template: &RoomTemplate,
    to: Vec3,
    snap_radius: f32,
) -> Option<TeleportTarget> {
    if !to.is_finite() {
        return None;
    }
    let seats = template
        .seats
        .iter()
        .enumerate()
        .filter_map(|(i, p)| u16::try_from(i).ok().map(|i| (TeleportTarget::Seat(i), p)));
    let spawns = template
        .spawn_points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| u16::try_from(i).ok().map(|i| (TeleportTarget::Spawn(i), p)));
    seats
        .chain(spawns)
        .map(|(target, place)| (target, place.position.distance(to)))
        .filter(|(_, d)| *d <= snap_radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(target, _)| target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::TemplateCatalog;

    const LIMITS: MoveLimits = MoveLimits {
        max_speed: 5.0,
        tick_seconds: 0.05,
        tolerance: 0.1,
        max_budget_ticks: 10,
    };

    fn conference() -> std::sync::Arc<RoomTemplate> {
        TemplateCatalog::builtin()
            .unwrap()
            .get("conference")
            .unwrap()
    }

    fn check(from: Vec3, ticks: u64, to: Vec3, velocity: Vec3) -> MoveOutcome {
        let current = Pose {
            position: from,
            yaw: 0.0,
        };
        let requested = Pose {
            position: to,
            yaw: 1.0,
        };
        validate_move(current, ticks, requested, velocity, &conference(), &LIMITS)
    }

    #[test]
    fn a_valid_move_is_taken_as_is() {
        let out = check(
            Vec3::ZERO,
            1,
            Vec3::new(0.2, 0.0, 0.1),
            Vec3::new(4.0, 0.0, 2.0),
        );
        assert!(out.corrections.is_empty());
        assert_eq!(out.position, Vec3::new(0.2, 0.0, 0.1));
        assert_eq!(out.velocity, Vec3::new(4.0, 0.0, 2.0));
        assert_eq!(out.yaw, 1.0);
    }

    #[test]
    fn speed_is_clamped_to_the_maximum() {
        let out = check(Vec3::ZERO, 1, Vec3::ZERO, Vec3::new(30.0, 0.0, 40.0));
        assert_eq!(out.corrections, [CorrectionReason::SpeedClamped]);
        assert!((out.velocity.length() - 5.0).abs() < 1e-5);
        assert!(out.velocity.normalize().distance(Vec3::new(0.6, 0.0, 0.8)) < 1e-5);
    }

    #[test]
    fn positions_are_clamped_to_the_room() {
        // conference bounds x ∈ [-6, 6]
        let out = check(
            Vec3::new(5.9, 0.0, 0.0),
            1,
            Vec3::new(6.2, 0.0, 0.0),
            Vec3::ZERO,
        );
        assert_eq!(out.corrections, [CorrectionReason::OutOfBounds]);
        assert_eq!(out.position, Vec3::new(6.0, 0.0, 0.0));
    }

    #[test]
    fn a_jump_is_pulled_back_to_walking_distance() {
        // 5 m/s × 0.05 s + 0.1 m tolerance = 0.35 m in one tick
        let out = check(Vec3::ZERO, 1, Vec3::new(3.0, 0.0, 0.0), Vec3::ZERO);
        assert_eq!(out.corrections, [CorrectionReason::TooFast]);
        assert!((out.position.x - 0.35).abs() < 1e-5);
        // after 4 silent ticks 1.1 m is fine; silence does not bank more than 10 ticks
        assert!(
            check(Vec3::ZERO, 4, Vec3::new(1.05, 0.0, 0.0), Vec3::ZERO)
                .corrections
                .is_empty()
        );
        let far = check(Vec3::ZERO, 1000, Vec3::new(4.0, 0.0, 0.0), Vec3::ZERO);
        assert!((far.position.x - 2.6).abs() < 1e-5);
    }

    #[test]
    fn non_finite_input_is_ignored() {
        let from = Vec3::new(1.0, 0.0, 1.0);
        for (to, velocity) in [
            (Vec3::new(f32::NAN, 0.0, 0.0), Vec3::ZERO),
            (Vec3::ZERO, Vec3::new(0.0, f32::INFINITY, 0.0)),
        ] {
            let out = check(from, 1, to, velocity);
            assert_eq!(out.corrections, [CorrectionReason::NonFinite]);
            assert_eq!(out.position, from);
            assert_eq!(out.velocity, Vec3::ZERO);
        }
    }

    #[test]
    fn teleports_snap_to_seats_and_spawns_only() {
        let t = conference();
        let seat = t.seats[3].position;
        assert_eq!(
            resolve_teleport(&t, seat + Vec3::new(0.2, 0.0, 0.1), 0.5),
            Some(TeleportTarget::Seat(3))
        );
        let door = t.spawn_points[0].position;
        assert_eq!(
            resolve_teleport(&t, door, 0.5),
            Some(TeleportTarget::Spawn(0))
        );
        assert_eq!(resolve_teleport(&t, Vec3::new(5.0, 0.0, -3.0), 0.5), None);
        assert_eq!(resolve_teleport(&t, Vec3::NAN, 0.5), None);
    }
}
