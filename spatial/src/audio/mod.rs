//! Spatial audio: the Web Audio `PannerNode` gain model and the zone rules layered on top.

mod band;
mod panner;
mod rules;

pub use band::{GainBand, omnidirectional};
pub use panner::{DistanceModel, PannerParams, cone_gain, distance_gain, panner_gain};
pub use rules::{Hearing, ZonePresence, facing, hearing, source_gain};
