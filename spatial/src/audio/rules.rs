//! Who hears whom: zone rules first, then the `PannerNode` model.
//!
//! The rules, in order (documented in `docs/spatial.md`):
//! 1. **Private zones isolate both ways.** A listener and a source hear each other only when
//!    they are in the same private zone or both outside every private zone. Someone inside a
//!    private zone hears only the others inside it — not the stage, not the room.
//! 2. **A stage broadcasts.** A source on a stage is heard by everyone in the room who is not in
//!    a private zone, at gain 1 (no distance or cone attenuation), like a speaker on a PA.
//! 3. **Otherwise it is spatial.** Within the room's audible range the gain is exactly the
//!    `PannerNode` gain (distance × cone, the source facing along its yaw); beyond it, silence.

use glam::{DVec3, Vec3};

use super::band::omnidirectional;
use super::panner::{PannerParams, panner_gain};

/// Where an avatar stands, as far as audio is concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZonePresence {
    /// Inside a stage zone.
    pub on_stage: bool,
    /// Index (in the template's zone list) of the private zone the avatar is in, if any.
    pub private_zone: Option<u16>,
}

impl ZonePresence {
    /// With [`ZonePresence::source_key`]: a pair is heard through the `PannerNode` model
    /// ([`Hearing::Spatial`]) exactly when the listener's key equals the source's — one
    /// comparison, for loops over many pairs.
    pub fn listener_key(self) -> u32 {
        self.private_zone.map_or(0, |zone| u32::from(zone) + 1)
    }

    /// On a stage and not isolated in a private zone: heard by everyone in the room outside
    /// private zones, at full gain (rule 2), and seen by everyone.
    pub fn broadcasts(self) -> bool {
        self.on_stage && self.private_zone.is_none()
    }

    /// See [`ZonePresence::listener_key`]; a source broadcasting from a stage has a key no
    /// listener has.
    pub fn source_key(self) -> u32 {
        if self.broadcasts() {
            u32::MAX
        } else {
            self.listener_key()
        }
    }
}

/// The outcome of the zone rules for one listener–source pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hearing {
    /// Not audible at all.
    Silent,
    /// Audible at full gain (stage broadcast).
    Broadcast,
    /// Audible through the `PannerNode` model.
    Spatial,
}

/// Applies rules 1 and 2 above.
pub fn hearing(listener: ZonePresence, source: ZonePresence) -> Hearing {
    if listener.private_zone != source.private_zone {
        Hearing::Silent
    } else if source.broadcasts() {
        Hearing::Broadcast
    } else {
        Hearing::Spatial
    }
}

/// The direction an avatar with this yaw faces. Yaw 0 looks down −Z (the Web Audio listener's
/// default forward) and grows counter-clockwise seen from above (+Y up), so yaw π/2 looks
/// down −X.
pub fn facing(yaw: f32) -> Vec3 {
    Vec3::new(-yaw.sin(), 0.0, -yaw.cos())
}

/// The gain `listener` should apply to `source`, all rules included. `audible_range` (metres)
/// culls far spatial sources.
pub fn source_gain(
    params: &PannerParams,
    audible_range: f32,
    listener_pos: Vec3,
    listener_zone: ZonePresence,
    source_pos: Vec3,
    source_yaw: f32,
    source_zone: ZonePresence,
) -> f32 {
    match hearing(listener_zone, source_zone) {
        Hearing::Silent => 0.0,
        Hearing::Broadcast => 1.0,
        Hearing::Spatial => {
            if listener_pos.distance_squared(source_pos) > audible_range * audible_range {
                return 0.0;
            }
            // An omnidirectional source's facing changes nothing (the cone gain is 1 either
            // way): its sine and cosine are not worth computing.
            let orientation = if omnidirectional(params) {
                DVec3::ZERO
            } else {
                facing(source_yaw).as_dvec3()
            };
            panner_gain(
                params,
                source_pos.as_dvec3(),
                orientation,
                listener_pos.as_dvec3(),
            ) as f32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: ZonePresence = ZonePresence {
        on_stage: false,
        private_zone: None,
    };
    const STAGE: ZonePresence = ZonePresence {
        on_stage: true,
        private_zone: None,
    };
    const BOOTH_A: ZonePresence = ZonePresence {
        on_stage: false,
        private_zone: Some(3),
    };
    const BOOTH_B: ZonePresence = ZonePresence {
        on_stage: false,
        private_zone: Some(4),
    };

    #[test]
    fn zone_rules() {
        assert_eq!(hearing(OPEN, OPEN), Hearing::Spatial);
        assert_eq!(hearing(OPEN, STAGE), Hearing::Broadcast);
        assert_eq!(hearing(STAGE, STAGE), Hearing::Broadcast);
        assert_eq!(hearing(STAGE, OPEN), Hearing::Spatial);
        // private zones isolate in both directions, stage included
        assert_eq!(hearing(BOOTH_A, OPEN), Hearing::Silent);
        assert_eq!(hearing(OPEN, BOOTH_A), Hearing::Silent);
        assert_eq!(hearing(BOOTH_A, STAGE), Hearing::Silent);
        assert_eq!(hearing(BOOTH_A, BOOTH_B), Hearing::Silent);
        assert_eq!(hearing(BOOTH_A, BOOTH_A), Hearing::Spatial);
    }

    #[test]
    fn equal_keys_are_exactly_the_spatial_rule() {
        let places = [
            OPEN,
            STAGE,
            BOOTH_A,
            BOOTH_B,
            ZonePresence {
                on_stage: true,
                private_zone: Some(3),
            },
            ZonePresence {
                on_stage: false,
                private_zone: Some(u16::MAX),
            },
        ];
        for listener in places {
            for source in places {
                assert_eq!(
                    listener.listener_key() == source.source_key(),
                    hearing(listener, source) == Hearing::Spatial,
                    "{listener:?} hearing {source:?}"
                );
            }
        }
    }

    #[test]
    fn facing_follows_the_documented_convention() {
        assert!(facing(0.0).distance(Vec3::new(0.0, 0.0, -1.0)) < 1e-6);
        assert!(facing(std::f32::consts::FRAC_PI_2).distance(Vec3::new(-1.0, 0.0, 0.0)) < 1e-6);
    }

    #[test]
    fn source_gain_applies_range_stage_and_model() {
        let params = PannerParams::default(); // inverse, ref 1, rolloff 1 → 1/d
        let listener = Vec3::ZERO;
        let far = Vec3::new(0.0, 0.0, 30.0);
        let near = Vec3::new(0.0, 0.0, 4.0);
        assert_eq!(
            source_gain(&params, 20.0, listener, OPEN, far, 0.0, OPEN),
            0.0
        );
        assert_eq!(
            source_gain(&params, 20.0, listener, OPEN, far, 0.0, STAGE),
            1.0
        );
        let gain = source_gain(&params, 20.0, listener, OPEN, near, 0.0, OPEN);
        let direct = panner_gain(
            &params,
            near.as_dvec3(),
            facing(0.0).as_dvec3(),
            listener.as_dvec3(),
        );
        assert!((f64::from(gain) - direct).abs() < 1e-6);
        assert!((gain - 0.25).abs() < 1e-6);
        assert_eq!(
            source_gain(&params, 20.0, listener, BOOTH_A, near, 0.0, OPEN),
            0.0
        );
    }
}
