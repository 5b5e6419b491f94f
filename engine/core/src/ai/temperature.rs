//! A sampling temperature.
//!
//! Temperatures travel in frames, conversations and assistants. A plain `f32` would make every
//! type holding one lose `Eq` (NaN is not equal to itself); this newtype cannot hold NaN or an
//! infinity (decoding refuses them), so equality is total and the derive is honest. The range a
//! caller may ask for is checked separately ([`Temperature::check_range`]) so that an
//! out-of-range value is an `invalid` request, not an undecodable one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The lowest temperature Atrium accepts.
pub const MIN_TEMPERATURE: f32 = 0.0;
/// The highest temperature Atrium accepts (the widest range any provider takes; adapters clamp
/// further, e.g. Anthropic to 1).
pub const MAX_TEMPERATURE: f32 = 2.0;

/// A finite sampling temperature.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub struct Temperature(f32);

impl Eq for Temperature {}

/// The value is not a finite number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("temperature must be a finite number")]
pub struct NotFinite;

impl Temperature {
    /// A temperature, if `value` is finite.
    pub fn new(value: f32) -> Result<Self, NotFinite> {
        if value.is_finite() {
            Ok(Self(value))
        } else {
            Err(NotFinite)
        }
    }

    pub fn get(self) -> f32 {
        self.0
    }

    /// Whether the value lies in [`MIN_TEMPERATURE`]..=[`MAX_TEMPERATURE`].
    pub fn in_range(self) -> bool {
        (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&self.0)
    }

    /// `Err` with a sentence naming the range when the value lies outside it.
    pub fn check_range(self) -> Result<Self, String> {
        if self.in_range() {
            Ok(self)
        } else {
            Err(format!(
                "temperature is {}; it must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE}",
                self.0
            ))
        }
    }
}

impl fmt::Debug for Temperature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Temperature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Temperature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f32(self.0)
    }
}

impl<'de> Deserialize<'de> for Temperature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Any number is accepted (MessagePack integers, float32, float64; JSON numbers).
        let value = f64::deserialize(deserializer)?;
        #[allow(clippy::cast_possible_truncation)] // finite values beyond f32 become ±inf below
        let narrowed = value as f32;
        Temperature::new(narrowed).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finite_values_exist() {
        assert!(Temperature::new(f32::NAN).is_err());
        assert!(Temperature::new(f32::INFINITY).is_err());
        let t = Temperature::new(0.5).unwrap();
        assert_eq!(t, t);
        assert!(t.in_range());
        assert!(Temperature::new(2.5).unwrap().check_range().is_err());
        assert!(Temperature::new(-0.1).unwrap().check_range().is_err());
    }

    #[test]
    fn decodes_any_number_and_refuses_garbage() {
        let t: Temperature = serde_json::from_str("1").unwrap();
        assert_eq!(t.get(), 1.0);
        let packed = rmp_serde::to_vec(&0.25f64).unwrap();
        let t: Temperature = rmp_serde::from_slice(&packed).unwrap();
        assert_eq!(t.get(), 0.25);
        assert!(serde_json::from_str::<Temperature>("\"hot\"").is_err());
        assert!(serde_json::from_str::<Temperature>("1e300").is_err());
    }
}
