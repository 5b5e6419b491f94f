//! Budgets: how much a user or an organization may spend per period.
//!
//! A budget counts either tokens (input + output) or cost (micro-units, see
//! [`crate::ai::pricing`]) over a calendar period in UTC. Spend is the sum of the usage recorded
//! since the current period started, so a budget "resets" at the period boundary by itself: no
//! job has to run, and a node that was down over midnight counts correctly.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time, UtcOffset};

/// What a budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetMetric {
    /// Input plus output tokens.
    Tokens,
    /// Cost in micro-units of the currency.
    Cost,
}

impl BudgetMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetMetric::Tokens => "tokens",
            BudgetMetric::Cost => "cost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tokens" => Some(BudgetMetric::Tokens),
            "cost" => Some(BudgetMetric::Cost),
            _ => None,
        }
    }
}

/// The calendar period a budget resets on (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// From 00:00 UTC.
    Day,
    /// From Monday 00:00 UTC.
    Week,
    /// From the first of the month, 00:00 UTC.
    Month,
}

impl BudgetPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "day",
            BudgetPeriod::Week => "week",
            BudgetPeriod::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "day" => Some(BudgetPeriod::Day),
            "week" => Some(BudgetPeriod::Week),
            "month" => Some(BudgetPeriod::Month),
            _ => None,
        }
    }

    /// When the period containing `now` started.
    pub fn start(self, now: OffsetDateTime) -> OffsetDateTime {
        let day = now.to_offset(UtcOffset::UTC).replace_time(Time::MIDNIGHT);
        match self {
            BudgetPeriod::Day => day,
            BudgetPeriod::Week => {
                day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
            }
            // Day 1 exists in every month.
            BudgetPeriod::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// When the period containing `now` ends (the next one's start): the reset time.
    pub fn end(self, now: OffsetDateTime) -> OffsetDateTime {
        let start = self.start(now);
        match self {
            BudgetPeriod::Day => start + Duration::days(1),
            BudgetPeriod::Week => start + Duration::weeks(1),
            BudgetPeriod::Month => {
                // 32 days after the 1st is always inside the next month.
                self.start(start + Duration::days(32))
            }
        }
    }
}

/// Whether `spent` has used up `limit` (a limit of 0 refuses everything).
pub fn exhausted(spent: i64, limit: i64) -> bool {
    spent >= limit
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn periods_start_and_end_on_calendar_boundaries() {
        let t = datetime!(2026-03-18 15:30:00 +02:00); // a Wednesday; 13:30 UTC
        assert_eq!(BudgetPeriod::Day.start(t), datetime!(2026-03-18 00:00 UTC));
        assert_eq!(BudgetPeriod::Day.end(t), datetime!(2026-03-19 00:00 UTC));
        assert_eq!(BudgetPeriod::Week.start(t), datetime!(2026-03-16 00:00 UTC));
        assert_eq!(BudgetPeriod::Week.end(t), datetime!(2026-03-23 00:00 UTC));
        assert_eq!(
            BudgetPeriod::Month.start(t),
            datetime!(2026-03-01 00:00 UTC)
        );
        assert_eq!(BudgetPeriod::Month.end(t), datetime!(2026-04-01 00:00 UTC));
        let dec = datetime!(2026-12-31 23:59:59 UTC);
        assert_eq!(
            BudgetPeriod::Month.end(dec),
            datetime!(2027-01-01 00:00 UTC)
        );
        let sunday = datetime!(2026-03-22 23:00 UTC);
        assert_eq!(
            BudgetPeriod::Week.start(sunday),
            datetime!(2026-03-16 00:00 UTC)
        );
        // Local midnight east of UTC is still the previous UTC day.
        let early = datetime!(2026-03-18 01:00 +02:00);
        assert_eq!(
            BudgetPeriod::Day.start(early),
            datetime!(2026-03-17 00:00 UTC)
        );
    }

    #[test]
    fn names_round_trip_and_limits_bite_at_the_limit() {
        for p in [BudgetPeriod::Day, BudgetPeriod::Week, BudgetPeriod::Month] {
            assert_eq!(BudgetPeriod::parse(p.as_str()), Some(p));
        }
        for m in [BudgetMetric::Tokens, BudgetMetric::Cost] {
            assert_eq!(BudgetMetric::parse(m.as_str()), Some(m));
        }
        assert!(!exhausted(99, 100));
        assert!(exhausted(100, 100));
        assert!(exhausted(0, 0));
    }
}
