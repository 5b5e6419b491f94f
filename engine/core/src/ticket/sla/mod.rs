//! Service-level agreements for tickets: the per-organization policy, the business-hours
//! calendar, and the clock that measures a ticket against them.
//!
//! Pure: the ticket actor owns an [`SlaClock`], feeds it events, arms one timer for
//! [`SlaClock::next_deadline`] and, when it fires, asks [`SlaClock::report`] whether a target is
//! now breached. After a restart it rebuilds the clock with [`SlaClock::replay`] from the stored
//! history and arms the timer again.

mod calendar;
mod clock;
mod policy;
mod report;

pub use calendar::{BusinessCalendar, BusinessCalendarError, ClockTime, MAX_HOLIDAYS};
pub use clock::{SlaClock, SlaEvent, SlaEventError};
pub use policy::{MAX_SLA_TARGET_MINUTES, SlaPolicy, SlaPolicyError, SlaTargets};
pub use report::{ClockState, SlaOutcome, SlaReport, TargetReport};
