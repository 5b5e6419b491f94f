//! An organization's service-level targets: how soon a ticket gets its first response and how
//! soon it is resolved, per priority, optionally counted in business hours.
//!
//! Targets are whole minutes in configuration (`response_minutes = 60`): unambiguous in TOML and
//! JSON alike, and fine-grained enough for any support desk.
//!
//! ```toml
//! [urgent]
//! response_minutes = 30
//! resolution_minutes = 240
//!
//! [business_hours]            # optional; without it every hour counts
//! utc_offset = "+01:00"
//! weekdays = ["mon", "tue", "wed", "thu", "fri"]
//! open = "09:00"
//! close = "17:00"
//! holidays = ["2026-12-25"]
//! ```
//!
//! Priorities left out keep their defaults.

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::ticket::model::Priority;
use crate::ticket::sla::calendar::BusinessCalendar;

/// The longest target accepted (90 days): beyond that a "target" is no longer a promise, and
/// walking business time forward stays cheap.
pub const MAX_SLA_TARGET_MINUTES: u32 = 90 * 24 * 60;

/// Why a policy is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlaPolicyError {
    #[error("SLA targets must be at least one minute")]
    ZeroTarget,
    #[error("SLA targets may be at most {MAX_SLA_TARGET_MINUTES} minutes (90 days), got {0}")]
    TargetTooLong(u32),
    #[error(
        "the response target ({response} min) must not exceed the resolution target \
         ({resolution} min): a ticket cannot be resolved before anyone responds"
    )]
    ResponseAfterResolution { response: u32, resolution: u32 },
}

/// The two targets for one priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SlaTargetsConfig", into = "SlaTargetsConfig")]
pub struct SlaTargets {
    response_minutes: u32,
    resolution_minutes: u32,
}

/// How [`SlaTargets`] are written in configuration.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlaTargetsConfig {
    response_minutes: u32,
    resolution_minutes: u32,
}

impl SlaTargets {
    /// Targets in minutes; both must be 1..=[`MAX_SLA_TARGET_MINUTES`] and the response target
    /// must not exceed the resolution target.
    pub fn new(response_minutes: u32, resolution_minutes: u32) -> Result<Self, SlaPolicyError> {
        for m in [response_minutes, resolution_minutes] {
            if m == 0 {
                return Err(SlaPolicyError::ZeroTarget);
            }
            if m > MAX_SLA_TARGET_MINUTES {
                return Err(SlaPolicyError::TargetTooLong(m));
            }
        }
        if response_minutes > resolution_minutes {
            return Err(SlaPolicyError::ResponseAfterResolution {
                response: response_minutes,
                resolution: resolution_minutes,
            });
        }
        Ok(Self {
            response_minutes,
            resolution_minutes,
        })
    }

    /// Constant constructor for the defaults (checked by a test).
    const fn from_hours(response: u32, resolution: u32) -> Self {
        Self {
            response_minutes: response * 60,
            resolution_minutes: resolution * 60,
        }
    }

    /// Time allowed until the first response.
    pub fn response(&self) -> Duration {
        Duration::minutes(i64::from(self.response_minutes))
    }

    /// Time allowed until the ticket is resolved.
    pub fn resolution(&self) -> Duration {
        Duration::minutes(i64::from(self.resolution_minutes))
    }

    pub fn response_minutes(&self) -> u32 {
        self.response_minutes
    }

    pub fn resolution_minutes(&self) -> u32 {
        self.resolution_minutes
    }
}

impl TryFrom<SlaTargetsConfig> for SlaTargets {
    type Error = SlaPolicyError;
    fn try_from(c: SlaTargetsConfig) -> Result<Self, Self::Error> {
        Self::new(c.response_minutes, c.resolution_minutes)
    }
}

impl From<SlaTargets> for SlaTargetsConfig {
    fn from(t: SlaTargets) -> Self {
        Self {
            response_minutes: t.response_minutes,
            resolution_minutes: t.resolution_minutes,
        }
    }
}

/// One organization's SLA policy. `Default` is the platform default: urgent 1 h / 4 h,
/// high 4 h / 24 h, medium 24 h / 3 days, low 72 h / 7 days, around the clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    pub urgent: SlaTargets,
    pub high: SlaTargets,
    pub medium: SlaTargets,
    pub low: SlaTargets,
    /// When set, only business time counts towards the targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessCalendar>,
}

impl SlaPolicy {
    pub const DEFAULT_URGENT: SlaTargets = SlaTargets::from_hours(1, 4);
    pub const DEFAULT_HIGH: SlaTargets = SlaTargets::from_hours(4, 24);
    pub const DEFAULT_MEDIUM: SlaTargets = SlaTargets::from_hours(24, 3 * 24);
    pub const DEFAULT_LOW: SlaTargets = SlaTargets::from_hours(72, 7 * 24);

    /// The targets that apply to a ticket of this priority.
    pub fn targets(&self, priority: Priority) -> SlaTargets {
        match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        }
    }
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self {
            urgent: Self::DEFAULT_URGENT,
            high: Self::DEFAULT_HIGH,
            medium: Self::DEFAULT_MEDIUM,
            low: Self::DEFAULT_LOW,
            business_hours: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let p = SlaPolicy::default();
        let hours = |d: Duration| d.whole_hours();
        assert_eq!(
            (hours(p.urgent.response()), hours(p.urgent.resolution())),
            (1, 4)
        );
        assert_eq!(
            (hours(p.high.response()), hours(p.high.resolution())),
            (4, 24)
        );
        assert_eq!(
            (hours(p.medium.response()), hours(p.medium.resolution())),
            (24, 72)
        );
        assert_eq!(
            (hours(p.low.response()), hours(p.low.resolution())),
            (72, 168)
        );
        for priority in Priority::ALL {
            let t = p.targets(priority);
            assert_eq!(
                SlaTargets::new(t.response_minutes(), t.resolution_minutes()),
                Ok(t)
            );
        }
        assert_eq!(p.targets(Priority::Urgent), p.urgent);
        assert_eq!(p.targets(Priority::Low), p.low);
        assert!(p.business_hours.is_none());
    }

    #[test]
    fn an_organization_overrides_only_what_it_names() {
        let p: SlaPolicy = serde_json::from_str(
            r#"{"urgent": {"response_minutes": 15, "resolution_minutes": 120}}"#,
        )
        .unwrap();
        assert_eq!(p.urgent.response(), Duration::minutes(15));
        assert_eq!(p.urgent.resolution(), Duration::hours(2));
        assert_eq!(p.high, SlaPolicy::DEFAULT_HIGH);
        assert_eq!(p.low, SlaPolicy::DEFAULT_LOW);
        let back: SlaPolicy = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_targets_are_refused_with_a_reason() {
        assert_eq!(SlaTargets::new(0, 10), Err(SlaPolicyError::ZeroTarget));
        assert_eq!(
            SlaTargets::new(10, MAX_SLA_TARGET_MINUTES + 1),
            Err(SlaPolicyError::TargetTooLong(MAX_SLA_TARGET_MINUTES + 1))
        );
        assert_eq!(
            SlaTargets::new(120, 60),
            Err(SlaPolicyError::ResponseAfterResolution {
                response: 120,
                resolution: 60
            })
        );
        assert!(SlaTargets::new(60, 60).is_ok());
        let err = serde_json::from_str::<SlaPolicy>(
            r#"{"low": {"response_minutes": 0, "resolution_minutes": 10}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("at least one minute"), "{err}");
        let err = serde_json::from_str::<SlaPolicy>(r#"{"urgnet": {}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = serde_json::from_str::<SlaPolicy>(
            r#"{"low": {"response_minutes": 5, "resolution_minutes": 10, "warn": 1}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
