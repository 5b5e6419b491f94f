//! The current time, at the precision the stores keep.

use time::OffsetDateTime;

/// Now, in UTC, truncated to whole milliseconds. Both stores keep timestamps to the millisecond;
/// creating records with this value means the JSON returned by a create call matches what every
/// later read returns.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    // `millisecond()` is always a valid millisecond, so the replacement cannot fail.
    t.replace_millisecond(t.millisecond()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_milliseconds() {
        assert_eq!(super::now().nanosecond() % 1_000_000, 0);
    }
}
