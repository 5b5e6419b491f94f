//! Where a gain that was sent cannot have moved past the threshold yet.
//!
//! The simulation re-sends a listener's gain for a source when the `PannerNode` gain moved by
//! more than `gain_threshold` since the value last sent, and drops it when it falls below
//! `min_audible_gain`. For an omnidirectional source (both cone angles 360°, the Web Audio
//! default) the gain depends only on the distance, and every distance model is monotone
//! (non-increasing) in it. So the set of distances at which "keep the value last sent" is the
//! answer is one interval, computable once when the value is sent: while the pair's distance
//! stays inside it, evaluating the formula again would change nothing, and the simulation skips
//! it. Outside it (or for a source with a sound cone, whose gain also depends on directions) the
//! formula is evaluated as usual. This is exact, not an approximation: the interval is shrunk by
//! a margin far larger than any rounding, and its ends are checked against the real formula.

use super::panner::{DistanceModel, PannerParams, distance_gain};

/// Slack, in gain units, kept between the interval's ends and the threshold (rounding of the
/// closed forms below and of `powf` is some 1e-16; the decision itself is made in `f32`, whose
/// steps near 1 are 6e-8).
const GAIN_MARGIN: f64 = 1e-5;

/// Relative slack on the interval's ends, in distance, for squaring and taking roots.
const DISTANCE_MARGIN: f64 = 1e-12;

/// Relative slack on the interval's ends for the `f32` squared distance it is tested against
/// (three subtractions, three products and two sums, each rounded: within 3e-7 of the exact
/// value).
const F32_MARGIN: f64 = 1e-6;

/// A closed interval of squared listener–source distances, tested against the squared distance
/// of the two positions computed in `f32` (`listener.distance_squared(source)`, as the range
/// test is). The ends are stored as `f32`, rounded inwards: 8 bytes a pair, in the
/// per-listener lists the audio step reads every tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainBand {
    near_sq: f32,
    far_sq: f32,
}

impl GainBand {
    /// Contains nothing: the formula is always evaluated.
    pub const EMPTY: GainBand = GainBand {
        near_sq: f32::INFINITY,
        far_sq: f32::NEG_INFINITY,
    };

    /// Whether a pair at this squared distance (`f32`, see above) keeps the answer held.
    #[inline]
    pub fn contains(&self, distance_sq: f32) -> bool {
        // Both comparisons, no branch: loops over many pairs vectorise.
        (distance_sq >= self.near_sq) & (distance_sq <= self.far_sq)
    }

    /// The band of exact squared distances `[near_sq, far_sq]`, narrowed so that an `f32`
    /// squared distance inside it means an exact one inside the original.
    fn new(near_sq: f64, far_sq: f64) -> GainBand {
        GainBand {
            near_sq: round_up(near_sq * (1.0 + F32_MARGIN)),
            far_sq: round_down(far_sq * (1.0 - F32_MARGIN)),
        }
    }

    /// Every squared distance beyond the audible `range` (metres) by the range test itself
    /// (`distance_sq > range * range`, in `f32`), where a spatial source is silent whatever its
    /// gain would be. Exact: the band is that test.
    pub fn beyond(range: f32) -> GainBand {
        GainBand {
            near_sq: (range * range).next_up(),
            far_sq: f32::INFINITY,
        }
    }

    /// This band without the distances beyond the audible `range` (there the source is
    /// silent, not at the gain the band was computed for).
    pub fn within(self, range: f32) -> GainBand {
        GainBand {
            far_sq: self.far_sq.min(range * range),
            ..self
        }
    }

    /// The interval for a value `sent` (as sent, `f32`): every distance in it gives a gain `g`
    /// (the `f32` the simulation computes) with `g ≥ floor` and `|g − sent| ≤ threshold`.
    /// [`GainBand::EMPTY`] when the source is not omnidirectional or no such interval exists.
    pub fn around(params: &PannerParams, sent: f32, threshold: f32, floor: f32) -> GainBand {
        if !omnidirectional(params) {
            return GainBand::EMPTY;
        }
        let keeps = |d: f64| {
            let g = distance_gain(params, d) as f32;
            g >= floor && (g - sent).abs() <= threshold
        };
        let high = f64::from(sent) + f64::from(threshold) - GAIN_MARGIN;
        let low = (f64::from(sent) - f64::from(threshold)).max(f64::from(floor)) + GAIN_MARGIN;
        if low > high {
            return GainBand::EMPTY;
        }
        let shape = Shape::of(params);
        // Nearest: where the gain has dropped to `high` (0 if it never exceeds it).
        let near = if high >= shape.max {
            0.0
        } else {
            shape.distance_at(high)
        };
        // Farthest: where it drops below `low` (unbounded if it never does).
        let far = if low <= shape.min {
            f64::INFINITY
        } else if low > shape.max {
            return GainBand::EMPTY;
        } else {
            shape.distance_at(low)
        };
        let probe_far = if far.is_finite() { far } else { 1e12 };
        if !(near <= far && near.is_finite() && keeps(near) && keeps(probe_far)) {
            return GainBand::EMPTY;
        }
        GainBand::new(
            square(near * (1.0 + DISTANCE_MARGIN)),
            square(far * (1.0 - DISTANCE_MARGIN)),
        )
    }
}

fn square(x: f64) -> f64 {
    x * x
}

/// The smallest `f32` not below `x`.
fn round_up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x { f.next_up() } else { f }
}

/// The largest `f32` not above `x`.
fn round_down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x { f.next_down() } else { f }
}

/// Whether the cone leaves every direction at gain 1 (then only distance matters).
pub fn omnidirectional(params: &PannerParams) -> bool {
    params.cone_inner_angle == 360.0 && params.cone_outer_angle == 360.0
}

/// A distance model as a decreasing function from `[0, ∞)` onto `[min, max]`.
struct Shape<'a> {
    params: &'a PannerParams,
    /// The gain at distance 0.
    max: f64,
    /// The gain far away (the infimum).
    min: f64,
}

impl<'a> Shape<'a> {
    fn of(params: &'a PannerParams) -> Self {
        let (r, f) = (params.ref_distance, params.rolloff_factor);
        let (max, min) = match params.distance_model {
            DistanceModel::Inverse | DistanceModel::Exponential if r == 0.0 => (0.0, 0.0),
            DistanceModel::Inverse | DistanceModel::Exponential if f == 0.0 => (1.0, 1.0),
            DistanceModel::Inverse | DistanceModel::Exponential => (1.0, 0.0),
            DistanceModel::Linear => {
                let f = f.clamp(0.0, 1.0);
                if r.min(params.max_distance) == r.max(params.max_distance) {
                    (1.0 - f, 1.0 - f)
                } else {
                    (1.0, 1.0 - f)
                }
            }
        };
        Self { params, max, min }
    }

    /// The distance at which the gain equals `gain`, for `min < gain ≤ max` on a model that is
    /// not constant (the callers check).
    fn distance_at(&self, gain: f64) -> f64 {
        let p = self.params;
        let (r, f) = (p.ref_distance, p.rolloff_factor);
        match p.distance_model {
            // g = r / (r + f (d − r))  ⇔  d = r + r (1 − g) / (g f)
            DistanceModel::Inverse => r + r * (1.0 - gain) / (gain * f),
            // g = (d / r)^−f  ⇔  d = r g^(−1/f)
            DistanceModel::Exponential => r * gain.powf(-1.0 / f),
            // g = 1 − f′ (d − r′) / (m′ − r′)  ⇔  d = r′ + (1 − g)(m′ − r′) / f′
            DistanceModel::Linear => {
                let f = f.clamp(0.0, 1.0);
                let (lo, hi) = (r.min(p.max_distance), r.max(p.max_distance));
                lo + (1.0 - gain) * (hi - lo) / f
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(model: DistanceModel, r: f64, m: f64, f: f64) -> PannerParams {
        PannerParams {
            distance_model: model,
            ref_distance: r,
            max_distance: m,
            rolloff_factor: f,
            ..PannerParams::default()
        }
    }

    /// Sweeps distances and probes the band's ends: inside the band the value sent is always
    /// kept, which is all the simulation relies on.
    fn check(p: &PannerParams, threshold: f32, floor: f32) {
        let keeps = |sent: f32, d_sq: f64| {
            let g = distance_gain(p, d_sq.sqrt()) as f32;
            g >= floor && (g - sent).abs() <= threshold
        };
        // Values the model produces (with the distance producing each), and arbitrary ones.
        let produced = (0..60).map(|i| {
            let d = f64::from(i) * 0.37;
            (distance_gain(p, d) as f32, Some(d))
        });
        let arbitrary = (0..=50).map(|i| (i as f32 / 50.0, None));
        for (sent, at) in produced.chain(arbitrary) {
            if sent < floor {
                continue;
            }
            let band = GainBand::around(p, sent, threshold, floor);
            // Distances across the model, and a few f32 steps either side of each end.
            let ends = [band.near_sq, band.far_sq]
                .into_iter()
                .filter(|x| x.is_finite())
                .flat_map(|end| {
                    (-20..=20).map(move |k| f64::from(end).sqrt() * (1.0 + f64::from(k) * 1e-7))
                });
            let probes = (0..2_000).map(|step| f64::from(step) * 0.02).chain(ends);
            for (i, d) in probes.enumerate() {
                // Pairs as the simulation has them: two f32 positions, in some direction.
                let listener = glam::Vec3::new(3.1, 1.7, -20.3);
                let angle = i as f32 * 0.61;
                let source = listener + glam::Vec3::new(angle.cos(), 0.05, angle.sin()) * d as f32;
                let exact = (source.as_dvec3() - listener.as_dvec3()).length_squared();
                if band.contains(listener.distance_squared(source)) {
                    assert!(
                        keeps(sent, exact),
                        "{p:?}: sent {sent}, d² {exact} is inside"
                    );
                }
            }
            // The band is useful: a value holds around the distance that produced it.
            if let Some(d) = at.filter(|_| threshold >= 0.01) {
                assert!(band.contains((d * d) as f32), "{p:?}: {sent} sent at {d} m");
            }
        }
    }

    #[test]
    fn every_model_keeps_exactly_what_the_threshold_allows() {
        for (threshold, floor) in [(0.02, 0.001), (0.2, 0.05), (0.0, 0.001)] {
            check(
                &params(DistanceModel::Inverse, 1.0, 10_000.0, 1.0),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Inverse, 2.5, 10.0, 0.3),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Exponential, 1.0, 15.0, 1.2),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Exponential, 0.5, 15.0, 3.0),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Linear, 1.0, 11.0, 1.0),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Linear, 1.5, 16.0, 0.9),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Linear, 11.0, 1.0, 3.0),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Linear, 5.0, 5.0, 0.4),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Inverse, 0.0, 10.0, 1.0),
                threshold,
                floor,
            );
            check(
                &params(DistanceModel::Exponential, 1.0, 10.0, 0.0),
                threshold,
                floor,
            );
        }
    }

    #[test]
    fn the_ends_round_inwards() {
        // Narrowed for the f32 test, and 0.1 and 0.7 have no exact f32: never wider.
        for (near, far) in [(0.1, 0.7), (1.0 / 3.0, 2.0 / 3.0), (2.0, 2.0)] {
            let band = GainBand::new(near, far);
            assert!(f64::from(band.near_sq) >= near && f64::from(band.far_sq) <= far);
            assert!(f64::from(band.near_sq) - near < 1e-5 && far - f64::from(band.far_sq) < 1e-5);
        }
        assert_eq!(GainBand::new(0.0, f64::INFINITY).far_sq, f32::INFINITY);
    }

    #[test]
    fn the_bands_either_side_of_the_range_are_the_range_test() {
        let range = 15.0f32;
        let (beyond, within) = (
            GainBand::beyond(range),
            GainBand {
                near_sq: 0.0,
                far_sq: f32::INFINITY,
            }
            .within(range),
        );
        let listener = glam::Vec3::new(0.3, 1.7, -2.1);
        // Directions and distances straddling the range, down to the last few f32 steps.
        for i in 0..20_000 {
            let angle = i as f32 * 0.37;
            let d = range * (0.999_9 + (i % 200) as f32 * 1e-6);
            let source = listener + glam::Vec3::new(angle.cos(), 0.1, angle.sin()).normalize() * d;
            let d_sq = listener.distance_squared(source);
            let out_of_range = d_sq > range * range;
            assert_eq!(beyond.contains(d_sq), out_of_range, "{d} m");
            assert_eq!(within.contains(d_sq), !out_of_range, "{d} m");
        }
    }

    #[test]
    fn a_sound_cone_always_evaluates() {
        let p = PannerParams {
            cone_inner_angle: 180.0,
            cone_outer_angle: 300.0,
            cone_outer_gain: 0.3,
            ..PannerParams::default()
        };
        assert_eq!(GainBand::around(&p, 0.5, 0.02, 0.001), GainBand::EMPTY);
        assert!(!GainBand::EMPTY.contains(1.0));
    }

    #[test]
    fn the_band_of_the_default_model_is_where_one_over_d_stays_close() {
        // inverse, ref 1, rolloff 1: g = 1/d. Sent 0.25 (at 4 m): kept for 1/d in [0.23, 0.27].
        let band = GainBand::around(&PannerParams::default(), 0.25, 0.02, 0.001);
        assert!(band.contains(4.0 * 4.0));
        assert!(band.contains(3.71 * 3.71) && band.contains(4.34 * 4.34));
        assert!(!band.contains(3.69 * 3.69) && !band.contains(4.36 * 4.36));
    }
}
