//! What an [`SlaClock`](super::SlaClock) says about a ticket at one instant: the answer behind
//! `GET /api/v1/tickets/{id}/sla` and the input to breach detection.
//!
//! Durations travel as whole seconds (`elapsed_secs`) and instants as RFC 3339 text, so a browser
//! needs no duration parser.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ticket::model::Priority;

/// Whether the clock is counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Counting towards the targets (new, open, in progress).
    Running,
    /// Waiting for the reporter; nothing counts.
    Paused,
    /// Resolved or closed; nothing counts until a reopen.
    Stopped,
}

/// How one target stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    /// Not reached yet and not decided.
    Pending,
    /// Decided in time: the clock for this target ended before its deadline.
    Met,
    /// The deadline passed (or the target was decided at or after it). Never turns back into
    /// anything else unless the priority changes to one with a longer target.
    Breached,
}

/// One target (first response or resolution) at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetReport {
    /// The time allowed.
    #[serde(rename = "target_secs", with = "secs")]
    pub target: Duration,
    /// Counted time so far (business time when the organization has a calendar).
    #[serde(rename = "elapsed_secs", with = "secs")]
    pub elapsed: Duration,
    /// Counted time left before the deadline; zero once breached.
    #[serde(rename = "remaining_secs", with = "secs")]
    pub remaining: Duration,
    /// When the target is (or was) breached. `None` while the clock is paused or stopped short
    /// of the target, and for a met target: only a running clock has a deadline ahead.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    /// When this target's clock ended: for the response target the first response (or the
    /// resolution, when that came first); for the resolution target the moment the ticket was
    /// resolved or closed. `None` while it can still run.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    pub outcome: SlaOutcome,
}

/// The whole SLA picture of a ticket at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaReport {
    /// The instant this report describes.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The priority whose targets apply.
    pub priority: Priority,
    pub state: ClockState,
    /// Whether only business time counts (the organization has a calendar).
    pub business_hours: bool,
    /// The first public comment by someone other than the reporter.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_response_at: Option<OffsetDateTime>,
    pub response: TargetReport,
    pub resolution: TargetReport,
    /// Time spent waiting for the reporter (measured like `elapsed`).
    #[serde(rename = "paused_secs", with = "secs")]
    pub paused: Duration,
    /// The earliest deadline after `at` that a timer should be armed for; `None` when nothing
    /// can breach without a further event.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_deadline: Option<OffsetDateTime>,
}

impl SlaReport {
    /// Whether either target is breached.
    pub fn breached(&self) -> bool {
        self.response.outcome == SlaOutcome::Breached
            || self.resolution.outcome == SlaOutcome::Breached
    }
}

/// Durations as whole seconds (sub-second parts are dropped on the wire).
mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.whole_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::seconds)
    }
}
