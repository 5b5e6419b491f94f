//! Quantisation: how metres and radians become the integers snapshots carry.
//!
//! - A coordinate is `round((p - room_min) * 100)`: whole centimetres from the room's lower
//!   corner, clamped to `[0, round(extent * 100)]`, so it is never negative and fits 20 bits for
//!   the largest allowed room. Error after a round trip: at most 0.5 cm per axis.
//! - Yaw is `round(yaw / 2π * 65536) mod 65536`: 1/65536 of a turn (about 0.0055°), error at
//!   most half a unit.

use std::f32::consts::TAU;

use glam::Vec3;

use crate::template::Bounds;

/// Position units per metre (centimetres).
pub const POSITION_UNITS_PER_METRE: f32 = 100.0;

/// Yaw units per full turn.
pub const YAW_UNITS_PER_TURN: f32 = 65_536.0;

fn axis(value: f32, min: f32, max: f32) -> u32 {
    let top = ((max - min) * POSITION_UNITS_PER_METRE).round();
    let q = ((value - min) * POSITION_UNITS_PER_METRE).round();
    // NaN fails both comparisons and becomes 0; `as` would saturate anyway.
    if q > 0.0 { q.min(top) as u32 } else { 0 }
}

/// A position as centimetres from `bounds.min`, per axis.
pub fn quantize_position(bounds: &Bounds, p: Vec3) -> [u32; 3] {
    [
        axis(p.x, bounds.min.x, bounds.max.x),
        axis(p.y, bounds.min.y, bounds.max.y),
        axis(p.z, bounds.min.z, bounds.max.z),
    ]
}

/// Back to metres.
pub fn dequantize_position(bounds: &Bounds, q: [u32; 3]) -> Vec3 {
    bounds.min + Vec3::new(q[0] as f32, q[1] as f32, q[2] as f32) / POSITION_UNITS_PER_METRE
}

/// A yaw in radians (any value) as 1/65536 turns.
pub fn quantize_yaw(yaw: f32) -> u16 {
    if !yaw.is_finite() {
        return 0;
    }
    let turns = (yaw / TAU).rem_euclid(1.0);
    // rem_euclid can return exactly 1.0 for tiny negative inputs; the wrap maps 65536 to 0.
    ((turns * YAW_UNITS_PER_TURN).round() as u32 % 65_536) as u16
}

/// Back to radians, in `[0, 2π)`.
pub fn dequantize_yaw(q: u16) -> f32 {
    f32::from(q) / YAW_UNITS_PER_TURN * TAU
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bounds() -> Bounds {
        Bounds {
            min: Vec3::new(-15.0, 0.0, -15.0),
            max: Vec3::new(15.0, 10.0, 15.0),
        }
    }

    fn yaw_error(a: f32, b: f32) -> f32 {
        let d = (a - b).rem_euclid(TAU);
        d.min(TAU - d)
    }

    proptest! {
        #[test]
        fn position_round_trip_is_within_half_a_centimetre(
            x in -15.0f32..15.0, y in 0.0f32..10.0, z in -15.0f32..15.0,
        ) {
            let p = Vec3::new(x, y, z);
            let back = dequantize_position(&bounds(), quantize_position(&bounds(), p));
            let err = (back - p).abs().max_element();
            prop_assert!(err <= 0.005 + 1e-4, "{p} -> {back} (error {err})");
        }

        #[test]
        fn yaw_round_trip_is_within_half_a_unit(yaw in -20.0f32..20.0) {
            let back = dequantize_yaw(quantize_yaw(yaw));
            prop_assert!(yaw_error(yaw, back) <= TAU / YAW_UNITS_PER_TURN * 0.5 + 1e-4);
        }
    }

    #[test]
    fn outside_and_nonsense_values_clamp() {
        let b = bounds();
        assert_eq!(quantize_position(&b, Vec3::splat(-100.0)), [0, 0, 0]);
        assert_eq!(
            quantize_position(&b, Vec3::splat(100.0)),
            [3000, 1000, 3000]
        );
        assert_eq!(quantize_position(&b, Vec3::NAN), [0, 0, 0]);
        assert_eq!(quantize_yaw(f32::NAN), 0);
        assert_eq!(quantize_yaw(TAU), 0);
        assert_eq!(quantize_yaw(-1e-9), 0);
        assert_eq!(quantize_yaw(std::f32::consts::PI), 32_768);
    }
}
