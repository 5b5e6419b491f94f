//! Business hours: which moments count towards an SLA target when an organization only promises
//! to work, say, Monday to Friday 09:00–17:00 outside public holidays.
//!
//! The time zone is a **fixed UTC offset** (`+01:00`), not a named zone: there is no daylight
//! saving switch, so an organization in Berlin that wants 09:00 local all year adjusts its offset
//! twice a year (or accepts an hour's drift in summer). That keeps `atrium-core` free of a time
//! zone database; a named zone can replace the offset later without changing the walking logic.
//!
//! Every working day has one window, `open` to `close` (`close` may be `24:00`; a window never
//! crosses midnight). Holidays are local dates and are closed all day.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

/// Most holidays one calendar may list.
pub const MAX_HOLIDAYS: usize = 1_000;

/// How far [`BusinessCalendar::add_business_time`] walks before giving up (100 years). Only a
/// calendar with a tiny window and a huge target could get there.
const MAX_WALK_DAYS: u32 = 36_525;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Largest offset accepted, in minutes (±18:00, as in ISO 8601 practice).
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

const WEEKDAY_NAMES: [(&str, &str, Weekday); 7] = [
    ("mon", "monday", Weekday::Monday),
    ("tue", "tuesday", Weekday::Tuesday),
    ("wed", "wednesday", Weekday::Wednesday),
    ("thu", "thursday", Weekday::Thursday),
    ("fri", "friday", Weekday::Friday),
    ("sat", "saturday", Weekday::Saturday),
    ("sun", "sunday", Weekday::Sunday),
];

/// Why a business-hours calendar is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BusinessCalendarError {
    #[error("utc_offset must look like \"+01:00\" (or \"Z\") within ±18:00, got {0:?}")]
    BadOffset(String),
    #[error("unknown weekday {0:?}; use mon, tue, wed, thu, fri, sat, sun")]
    BadWeekday(String),
    #[error("a business-hours calendar needs at least one working weekday")]
    NoWeekdays,
    #[error("opening hours are written \"HH:MM\" between 00:00 and 24:00, got {0:?}")]
    BadTime(String),
    #[error("the opening time ({open}) must be before the closing time ({close})")]
    EmptyDay { open: ClockTime, close: ClockTime },
    #[error("holidays are written \"YYYY-MM-DD\", got {0:?}")]
    BadHoliday(String),
    #[error("at most {MAX_HOLIDAYS} holidays, got {0}")]
    TooManyHolidays(usize),
}

/// A wall-clock time of day with minute precision, `00:00` to `24:00` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    /// `hour:minute`; `24:00` is allowed (the end of the day), anything later is not.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        let m = u16::from(hour) * 60 + u16::from(minute);
        (minute < 60 && m <= MINUTES_PER_DAY).then_some(Self(m))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        Self::new(h.parse().ok()?, m.parse().ok()?)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// When an organization is at work. Built with [`BusinessCalendar::new`] or deserialised from
/// its configuration form (validated either way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BusinessCalendarConfig", into = "BusinessCalendarConfig")]
pub struct BusinessCalendar {
    utc_offset: UtcOffset,
    /// Bit `n` set = the weekday `n` days from Monday is a working day.
    weekdays: u8,
    open: ClockTime,
    close: ClockTime,
    holidays: BTreeSet<Date>,
}

/// The configuration form: every value is text a person can write.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BusinessCalendarConfig {
    utc_offset: String,
    weekdays: Vec<String>,
    open: String,
    close: String,
    #[serde(default)]
    holidays: Vec<String>,
}

impl BusinessCalendar {
    /// A calendar. Needs at least one weekday, `open < close`, and at most [`MAX_HOLIDAYS`]
    /// holidays.
    pub fn new(
        utc_offset: UtcOffset,
        weekdays: impl IntoIterator<Item = Weekday>,
        open: ClockTime,
        close: ClockTime,
        holidays: impl IntoIterator<Item = Date>,
    ) -> Result<Self, BusinessCalendarError> {
        let weekdays = weekdays
            .into_iter()
            .fold(0u8, |mask, d| mask | weekday_bit(d));
        if weekdays == 0 {
            return Err(BusinessCalendarError::NoWeekdays);
        }
        if open >= close {
            return Err(BusinessCalendarError::EmptyDay { open, close });
        }
        let holidays: BTreeSet<Date> = holidays.into_iter().collect();
        if holidays.len() > MAX_HOLIDAYS {
            return Err(BusinessCalendarError::TooManyHolidays(holidays.len()));
        }
        Ok(Self {
            utc_offset,
            weekdays,
            open,
            close,
            holidays,
        })
    }

    pub fn utc_offset(&self) -> UtcOffset {
        self.utc_offset
    }

    pub fn open(&self) -> ClockTime {
        self.open
    }

    pub fn close(&self) -> ClockTime {
        self.close
    }

    pub fn holidays(&self) -> &BTreeSet<Date> {
        &self.holidays
    }

    /// Whether the local date is a working day (a working weekday and not a holiday).
    pub fn is_working_day(&self, date: Date) -> bool {
        self.weekdays & weekday_bit(date.weekday()) != 0 && !self.holidays.contains(&date)
    }

    /// The business time in `[start, end)`; zero when `end <= start`.
    pub fn business_time_between(&self, start: OffsetDateTime, end: OffsetDateTime) -> Duration {
        let mut total = Duration::ZERO;
        if end <= start {
            return total;
        }
        let (Some(first), Some(last)) = (self.local_date(start), self.local_date(end)) else {
            return total;
        };
        let mut day = first;
        loop {
            if let Some((open, close)) = self.window(day) {
                let from = open.max(start);
                let to = close.min(end);
                if to > from {
                    total += to - from;
                }
            }
            if day >= last {
                return total;
            }
            match day.next_day() {
                Some(next) => day = next,
                None => return total,
            }
        }
    }

    /// The first instant at which `amount` of business time has passed since `start`. A positive
    /// amount that ends exactly at a closing time gives that closing time (not the next opening).
    /// `None` only if that instant lies beyond a hundred years or the supported date range.
    pub fn add_business_time(
        &self,
        start: OffsetDateTime,
        amount: Duration,
    ) -> Option<OffsetDateTime> {
        if amount <= Duration::ZERO {
            return Some(start);
        }
        let mut remaining = amount;
        let mut day = self.local_date(start)?;
        for _ in 0..MAX_WALK_DAYS {
            if let Some((open, close)) = self.window(day) {
                let from = open.max(start);
                if close > from {
                    let available = close - from;
                    if remaining <= available {
                        return from.checked_add(remaining);
                    }
                    remaining -= available;
                }
            }
            day = day.next_day()?;
        }
        None
    }

    /// The local date of an instant in this calendar's offset.
    fn local_date(&self, at: OffsetDateTime) -> Option<Date> {
        at.checked_to_offset(self.utc_offset).map(|t| t.date())
    }

    /// The working window of a local date as instants, or `None` on a day off.
    fn window(&self, day: Date) -> Option<(OffsetDateTime, OffsetDateTime)> {
        if !self.is_working_day(day) {
            return None;
        }
        let midnight = day.midnight().assume_offset(self.utc_offset);
        let open = midnight.checked_add(Duration::minutes(i64::from(self.open.0)))?;
        let close = midnight.checked_add(Duration::minutes(i64::from(self.close.0)))?;
        Some((open, close))
    }
}

fn weekday_bit(day: Weekday) -> u8 {
    1 << day.number_days_from_monday()
}

fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Some(UtcOffset::UTC);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = s[1..].split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    if m >= 60 || total > MAX_OFFSET_MINUTES {
        return None;
    }
    UtcOffset::from_whole_seconds(sign * total * 60).ok()
}

fn format_offset(offset: UtcOffset) -> String {
    let total = offset.whole_minutes();
    let sign = if total < 0 { '-' } else { '+' };
    let total = total.unsigned_abs();
    format!("{sign}{:02}:{:02}", total / 60, total % 60)
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    if !y
        .bytes()
        .chain(m.bytes())
        .chain(d.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    let s = s.trim();
    WEEKDAY_NAMES
        .iter()
        .find(|(short, long, _)| s.eq_ignore_ascii_case(short) || s.eq_ignore_ascii_case(long))
        .map(|(_, _, day)| *day)
}

impl TryFrom<BusinessCalendarConfig> for BusinessCalendar {
    type Error = BusinessCalendarError;

    fn try_from(c: BusinessCalendarConfig) -> Result<Self, Self::Error> {
        use BusinessCalendarError as E;
        let offset =
            parse_offset(&c.utc_offset).ok_or_else(|| E::BadOffset(c.utc_offset.clone()))?;
        let weekdays = c
            .weekdays
            .iter()
            .map(|w| parse_weekday(w).ok_or_else(|| E::BadWeekday(w.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let open = ClockTime::parse(&c.open).ok_or_else(|| E::BadTime(c.open.clone()))?;
        let close = ClockTime::parse(&c.close).ok_or_else(|| E::BadTime(c.close.clone()))?;
        if c.holidays.len() > MAX_HOLIDAYS {
            return Err(E::TooManyHolidays(c.holidays.len()));
        }
        let holidays = c
            .holidays
            .iter()
            .map(|h| parse_date(h).ok_or_else(|| E::BadHoliday(h.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(offset, weekdays, open, close, holidays)
    }
}

impl From<BusinessCalendar> for BusinessCalendarConfig {
    fn from(c: BusinessCalendar) -> Self {
        Self {
            utc_offset: format_offset(c.utc_offset),
            weekdays: WEEKDAY_NAMES
                .iter()
                .filter(|(_, _, day)| c.weekdays & weekday_bit(*day) != 0)
                .map(|(short, _, _)| (*short).to_owned())
                .collect(),
            open: c.open.to_string(),
            close: c.close.to_string(),
            holidays: c
                .holidays
                .iter()
                .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
