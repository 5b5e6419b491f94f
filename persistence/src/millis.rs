//! Time at millisecond precision.
//!
//! Both back ends keep timestamps to the millisecond (SQLite as unix milliseconds, PostgreSQL as
//! `timestamptz` truncated before binding), so a value read back equals the value written once
//! both are cut to the millisecond. The store returns the cut value from writes too, so callers
//! never hold a timestamp that a later read would contradict.

use time::{OffsetDateTime, UtcOffset};

use crate::store::{StoreError, StoreResult};

const NANOS_PER_MILLI: i128 = 1_000_000;

/// The instant `t` truncated to whole milliseconds, expressed in UTC.
pub(crate) fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    // `millisecond()` is always a valid millisecond, so the replacement cannot fail.
    utc.replace_millisecond(utc.millisecond()).unwrap_or(utc)
}

/// Unix milliseconds (floored, so times before 1970 round down like everything else).
pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(NANOS_PER_MILLI);
    // Every OffsetDateTime fits: its range is ±9999 years, about ±3.2e14 ms.
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// The instant `ms` unix milliseconds after the epoch, in UTC.
pub(crate) fn from_millis(ms: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * NANOS_PER_MILLI)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {ms} ms out of range: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn millis_round_trip_and_truncate() {
        let t = datetime!(2026-11-25 13:14:15.123_456_789 +02:00);
        let ms = to_millis(t);
        assert_eq!(ms % 1000, 123);
        let back = from_millis(ms).unwrap();
        assert_eq!(back, truncate(t));
        assert_eq!(back.offset(), UtcOffset::UTC);
        assert_eq!(back.nanosecond(), 123_000_000);
        assert_ne!(back, t, "sub-millisecond part is dropped");
    }

    #[test]
    fn before_epoch_floors() {
        let t = datetime!(1969-12-31 23:59:59.999_5 UTC);
        assert_eq!(to_millis(t), -1);
        assert_eq!(from_millis(-1).unwrap(), truncate(t));
    }
}
