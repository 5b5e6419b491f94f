//! The gain a Web Audio `PannerNode` applies to a source: distance effect × sound cone.
//!
//! Browsers render room audio with a `PannerNode` per remote speaker. When the server computes
//! the same number, it can decide who is audible (and forward only those streams) without ever
//! disagreeing with what the listener's browser would play. The formulas below are the ones in the
//! Web Audio API specification, sections "Distance Effects" (with the `DistanceModelType` table)
//! and "Sound Cones", including their edge cases; they are computed in `f64` because the
//! attributes are doubles in the specification.

use glam::DVec3;
use serde::{Deserialize, Serialize};

/// `PannerNode.distanceModel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistanceModel {
    /// `1 - f * (clamp(d, d'ref, d'max) - d'ref) / (d'max - d'ref)`, with f clamped to [0, 1].
    Linear,
    /// `dref / (dref + f * (max(d, dref) - dref))`. The specification's default.
    #[default]
    Inverse,
    /// `(max(d, dref) / dref) ^ -f`.
    Exponential,
}

/// The `PannerNode` attributes that shape gain (positions and orientations come from avatars).
///
/// Field names follow the specification's attribute names in snake case; defaults are the
/// specification's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PannerParams {
    /// `distanceModel`.
    pub distance_model: DistanceModel,
    /// `refDistance` (≥ 0).
    pub ref_distance: f64,
    /// `maxDistance` (> 0). Only the linear model uses it.
    pub max_distance: f64,
    /// `rolloffFactor` (≥ 0; the linear model clamps it to [0, 1]).
    pub rolloff_factor: f64,
    /// `coneInnerAngle`, degrees in [0, 360].
    pub cone_inner_angle: f64,
    /// `coneOuterAngle`, degrees in [0, 360].
    pub cone_outer_angle: f64,
    /// `coneOuterGain`, in [0, 1].
    pub cone_outer_gain: f64,
}

impl Default for PannerParams {
    fn default() -> Self {
        Self {
            distance_model: DistanceModel::Inverse,
            ref_distance: 1.0,
            max_distance: 10_000.0,
            rolloff_factor: 1.0,
            cone_inner_angle: 360.0,
            cone_outer_angle: 360.0,
            cone_outer_gain: 0.0,
        }
    }
}

impl PannerParams {
    /// The checks a browser performs when these attributes are set (it throws `RangeError` or
    /// `InvalidStateError`); a template carrying values a browser would refuse is invalid.
    pub fn validate(&self) -> Result<(), String> {
        let finite = [
            self.ref_distance,
            self.max_distance,
            self.rolloff_factor,
            self.cone_inner_angle,
            self.cone_outer_angle,
            self.cone_outer_gain,
        ]
        .iter()
        .all(|v| v.is_finite());
        if !finite {
            return Err("audio parameters must be finite numbers".into());
        }
        if self.ref_distance < 0.0 {
            return Err(format!(
                "ref_distance must be ≥ 0, got {}",
                self.ref_distance
            ));
        }
        if self.max_distance <= 0.0 {
            return Err(format!(
                "max_distance must be > 0, got {}",
                self.max_distance
            ));
        }
        if self.rolloff_factor < 0.0 {
            return Err(format!(
                "rolloff_factor must be ≥ 0, got {}",
                self.rolloff_factor
            ));
        }
        for (name, angle) in [
            ("cone_inner_angle", self.cone_inner_angle),
            ("cone_outer_angle", self.cone_outer_angle),
        ] {
            if !(0.0..=360.0).contains(&angle) {
                return Err(format!("{name} must be in [0, 360] degrees, got {angle}"));
            }
        }
        if !(0.0..=1.0).contains(&self.cone_outer_gain) {
            return Err(format!(
                "cone_outer_gain must be in [0, 1], got {}",
                self.cone_outer_gain
            ));
        }
        Ok(())
    }
}

/// The distance gain for a source `distance` metres from the listener.
///
/// Edge cases, as the specification states them:
/// - linear: `d'ref = min(dref, dmax)`, `d'max = max(dref, dmax)` (so `refDistance > maxDistance`
///   just swaps them); when `d'ref = d'max` the gain is `1 - f`; `f` is clamped to [0, 1];
/// - inverse and exponential: `d` is clamped to `[dref, ∞)` (so `d < refDistance` gives 1);
///   `refDistance = 0` gives 0 whatever `d` and `f` are;
/// - the result is clamped to [0, 1].
pub fn distance_gain(params: &PannerParams, distance: f64) -> f64 {
    let d = distance;
    let d_ref = params.ref_distance;
    let f = params.rolloff_factor;
    let gain = match params.distance_model {
        DistanceModel::Linear => {
            let f = f.clamp(0.0, 1.0);
            let ref_lo = d_ref.min(params.max_distance);
            let max_hi = d_ref.max(params.max_distance);
            if ref_lo == max_hi {
                1.0 - f
            } else {
                let clamped = d.min(max_hi).max(ref_lo);
                1.0 - f * (clamped - ref_lo) / (max_hi - ref_lo)
            }
        }
        DistanceModel::Inverse => {
            if d_ref == 0.0 {
                0.0
            } else {
                d_ref / (d_ref + f * (d.max(d_ref) - d_ref))
            }
        }
        DistanceModel::Exponential => {
            if d_ref == 0.0 {
                0.0
            } else {
                (d.max(d_ref) / d_ref).powf(-f)
            }
        }
    };
    gain.clamp(0.0, 1.0)
}

/// The sound-cone gain of a source at `source` facing `orientation`, heard at `listener`.
///
/// Omnidirectional (gain 1) when the orientation is the zero vector or both cone angles are 360.
/// The angle is measured between the orientation and the direction from the source to the
/// listener, so a speaker facing the listener is in its inner cone (this is what browsers
/// compute). A listener exactly at the source's position has no direction; the specification's
/// arithmetic yields NaN there, and we define it as on-axis (gain 1).
pub fn cone_gain(params: &PannerParams, source: DVec3, orientation: DVec3, listener: DVec3) -> f64 {
    if orientation.length_squared() == 0.0
        || (params.cone_inner_angle == 360.0 && params.cone_outer_angle == 360.0)
    {
        return 1.0;
    }
    let to_listener = listener - source;
    if to_listener.length_squared() == 0.0 {
        return 1.0;
    }
    let cos = to_listener
        .normalize()
        .dot(orientation.normalize())
        .clamp(-1.0, 1.0);
    let abs_angle = cos.acos().to_degrees().abs();
    let abs_inner = params.cone_inner_angle.abs() / 2.0;
    let abs_outer = params.cone_outer_angle.abs() / 2.0;
    if abs_angle <= abs_inner {
        1.0
    } else if abs_angle >= abs_outer {
        params.cone_outer_gain
    } else {
        let x = (abs_angle - abs_inner) / (abs_outer - abs_inner);
        (1.0 - x) + params.cone_outer_gain * x
    }
}

/// The full gain a `PannerNode` applies (before panning between ears): distance × cone.
pub fn panner_gain(
    params: &PannerParams,
    source: DVec3,
    orientation: DVec3,
    listener: DVec3,
) -> f64 {
    distance_gain(params, source.distance(listener))
        * cone_gain(params, source, orientation, listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    fn params(model: DistanceModel, d_ref: f64, d_max: f64, f: f64) -> PannerParams {
        PannerParams {
            distance_model: model,
            ref_distance: d_ref,
            max_distance: d_max,
            rolloff_factor: f,
            ..PannerParams::default()
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < EPS, "{a} != {b}");
    }

    #[test]
    fn inverse_matches_the_spec_formula() {
        let p = params(DistanceModel::Inverse, 2.0, 100.0, 1.5);
        // 2 / (2 + 1.5 * (10 - 2)) = 2 / 14
        close(distance_gain(&p, 10.0), 2.0 / 14.0);
        // d < refDistance: d is clamped up to dref, gain 1
        close(distance_gain(&p, 0.5), 1.0);
        close(distance_gain(&p, 0.0), 1.0);
        // maxDistance plays no part in the inverse model
        close(distance_gain(&p, 1000.0), 2.0 / (2.0 + 1.5 * 998.0));
        // the spec's defaults: ref 1, rolloff 1 → 1/d
        close(distance_gain(&PannerParams::default(), 4.0), 0.25);
    }

    #[test]
    fn inverse_and_exponential_with_ref_zero_are_silent() {
        for model in [DistanceModel::Inverse, DistanceModel::Exponential] {
            let p = params(model, 0.0, 100.0, 1.0);
            close(distance_gain(&p, 0.0), 0.0);
            close(distance_gain(&p, 3.0), 0.0);
        }
    }

    #[test]
    fn exponential_matches_the_spec_formula() {
        let p = params(DistanceModel::Exponential, 2.0, 100.0, 0.5);
        close(distance_gain(&p, 8.0), (8.0f64 / 2.0).powf(-0.5));
        close(distance_gain(&p, 8.0), 0.5);
        close(distance_gain(&p, 1.0), 1.0); // d < dref
        // rolloff 0: no attenuation at all
        close(
            distance_gain(&params(DistanceModel::Exponential, 1.0, 10.0, 0.0), 50.0),
            1.0,
        );
    }

    #[test]
    fn linear_matches_the_spec_formula_and_clamps() {
        let p = params(DistanceModel::Linear, 1.0, 11.0, 1.0);
        close(distance_gain(&p, 6.0), 1.0 - (6.0 - 1.0) / 10.0);
        close(distance_gain(&p, 0.2), 1.0); // below ref: clamped to ref
        close(distance_gain(&p, 50.0), 0.0); // beyond max: clamped to max
        // rolloff above 1 is clamped to 1 for the linear model
        let p = params(DistanceModel::Linear, 1.0, 11.0, 3.0);
        close(distance_gain(&p, 6.0), 0.5);
        // rolloff below 1 leaves 1 - f beyond maxDistance
        let p = params(DistanceModel::Linear, 1.0, 11.0, 0.25);
        close(distance_gain(&p, 500.0), 0.75);
    }

    #[test]
    fn linear_with_ref_above_max_swaps_them() {
        // dref = 11 > dmax = 1: d'ref = 1, d'max = 11
        let p = params(DistanceModel::Linear, 11.0, 1.0, 1.0);
        close(distance_gain(&p, 6.0), 0.5);
        close(distance_gain(&p, 0.0), 1.0);
        close(distance_gain(&p, 20.0), 0.0);
    }

    #[test]
    fn linear_with_ref_equal_max_is_one_minus_rolloff() {
        let p = params(DistanceModel::Linear, 5.0, 5.0, 0.4);
        close(distance_gain(&p, 0.0), 0.6);
        close(distance_gain(&p, 5.0), 0.6);
        close(distance_gain(&p, 99.0), 0.6);
    }

    #[test]
    fn linear_with_ref_zero_uses_the_whole_range() {
        let p = params(DistanceModel::Linear, 0.0, 10.0, 1.0);
        close(distance_gain(&p, 2.5), 0.75);
    }

    fn cone(inner: f64, outer: f64, outer_gain: f64) -> PannerParams {
        PannerParams {
            cone_inner_angle: inner,
            cone_outer_angle: outer,
            cone_outer_gain: outer_gain,
            ..PannerParams::default()
        }
    }

    #[test]
    fn cone_gain_follows_the_spec_algorithm() {
        let p = cone(60.0, 180.0, 0.1);
        let source = DVec3::ZERO;
        let facing = DVec3::new(0.0, 0.0, -1.0);
        // on axis and inside the 30° half-angle
        close(
            cone_gain(&p, source, facing, DVec3::new(0.0, 0.0, -5.0)),
            1.0,
        );
        // behind: beyond the 90° outer half-angle
        close(
            cone_gain(&p, source, facing, DVec3::new(0.0, 0.0, 5.0)),
            0.1,
        );
        // at 60° off axis: x = (60 - 30) / (90 - 30) = 0.5 → 0.5 + 0.1 * 0.5
        let at_60 = DVec3::new(60f64.to_radians().sin(), 0.0, -(60f64.to_radians().cos()));
        close(cone_gain(&p, source, facing, at_60 * 3.0), 0.55);
        // exactly 90° off axis is on the outer edge
        close(
            cone_gain(&p, source, facing, DVec3::new(4.0, 0.0, 0.0)),
            0.1,
        );
    }

    #[test]
    fn cone_edge_cases_are_omnidirectional() {
        let listener = DVec3::new(0.0, 0.0, 5.0);
        // zero orientation vector
        close(
            cone_gain(&cone(10.0, 20.0, 0.0), DVec3::ZERO, DVec3::ZERO, listener),
            1.0,
        );
        // inner = outer = 360 (the default), even facing away
        close(
            cone_gain(
                &PannerParams::default(),
                DVec3::ZERO,
                DVec3::new(0.0, 0.0, -1.0),
                listener,
            ),
            1.0,
        );
        // listener on top of the source
        close(
            cone_gain(&cone(10.0, 20.0, 0.0), DVec3::ZERO, DVec3::X, DVec3::ZERO),
            1.0,
        );
    }

    #[test]
    fn panner_gain_is_distance_times_cone() {
        let p = PannerParams {
            distance_model: DistanceModel::Inverse,
            ref_distance: 1.0,
            rolloff_factor: 1.0,
            ..cone(60.0, 180.0, 0.2)
        };
        let source = DVec3::new(1.0, 0.0, 1.0);
        // listener 4 m behind the source → inverse 1/4, cone outer 0.2
        let gain = panner_gain(
            &p,
            source,
            DVec3::new(0.0, 0.0, -1.0),
            DVec3::new(1.0, 0.0, 5.0),
        );
        close(gain, 0.25 * 0.2);
    }

    #[test]
    fn browser_rejected_values_are_invalid() {
        assert!(PannerParams::default().validate().is_ok());
        for bad in [
            PannerParams {
                ref_distance: -1.0,
                ..PannerParams::default()
            },
            PannerParams {
                max_distance: 0.0,
                ..PannerParams::default()
            },
            PannerParams {
                rolloff_factor: -0.1,
                ..PannerParams::default()
            },
            PannerParams {
                cone_outer_gain: 1.5,
                ..PannerParams::default()
            },
            PannerParams {
                cone_inner_angle: 400.0,
                ..PannerParams::default()
            },
            PannerParams {
                ref_distance: f64::NAN,
                ..PannerParams::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?} should be invalid");
        }
    }
}
