use time::macros::{date, datetime, offset};

use super::*;

/// Monday to Friday, 09:00–17:00 at UTC+01:00; Wednesday 2026-03-04 is a holiday.
/// 2026-03-02 is a Monday.
fn office() -> BusinessCalendar {
    serde_json::from_str(
        r#"{
            "utc_offset": "+01:00",
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
            "open": "09:00",
            "close": "17:00",
            "holidays": ["2026-03-04"]
        }"#,
    )
    .unwrap()
}

fn h(n: i64) -> Duration {
    Duration::hours(n)
}

#[test]
fn the_test_week_starts_on_a_monday() {
    assert_eq!(date!(2026 - 03 - 02).weekday(), Weekday::Monday);
}

#[test]
fn counts_only_the_open_window_of_a_day() {
    let c = office();
    let b = |s, e| c.business_time_between(s, e);
    // Inside the window.
    assert_eq!(
        b(
            datetime!(2026-03-02 10:00 +1),
            datetime!(2026-03-02 12:30 +1)
        ),
        Duration::minutes(150)
    );
    // Before opening and after closing count nothing.
    assert_eq!(
        b(
            datetime!(2026-03-02 06:00 +1),
            datetime!(2026-03-02 20:00 +1)
        ),
        h(8)
    );
    assert_eq!(
        b(
            datetime!(2026-03-02 17:00 +1),
            datetime!(2026-03-02 23:59 +1)
        ),
        Duration::ZERO
    );
    // Inputs in another offset are the same instants.
    assert_eq!(
        b(
            datetime!(2026-03-02 09:00 UTC),
            datetime!(2026-03-02 10:00 UTC)
        ),
        h(1),
        "09:00 UTC is 10:00 local"
    );
    // Empty or reversed ranges.
    let t = datetime!(2026-03-02 10:00 +1);
    assert_eq!(b(t, t), Duration::ZERO);
    assert_eq!(b(t + h(1), t), Duration::ZERO);
}

#[test]
fn skips_nights_weekends_and_holidays() {
    let c = office();
    let b = |s, e| c.business_time_between(s, e);
    // Monday 16:00 → Tuesday 10:00: one hour each side of the night.
    assert_eq!(
        b(
            datetime!(2026-03-02 16:00 +1),
            datetime!(2026-03-03 10:00 +1)
        ),
        h(2)
    );
    // Tuesday 16:00 → Thursday 10:00 crosses the Wednesday holiday.
    assert_eq!(
        b(
            datetime!(2026-03-03 16:00 +1),
            datetime!(2026-03-05 10:00 +1)
        ),
        h(2)
    );
    // Friday 16:00 → Monday 10:00 crosses the weekend.
    assert_eq!(
        b(
            datetime!(2026-03-06 16:00 +1),
            datetime!(2026-03-09 10:00 +1)
        ),
        h(2)
    );
    // A whole week: four working days (Wednesday is a holiday).
    assert_eq!(
        b(
            datetime!(2026-03-02 00:00 +1),
            datetime!(2026-03-09 00:00 +1)
        ),
        h(32)
    );
    // A weekend alone is worth nothing.
    assert_eq!(
        b(
            datetime!(2026-03-07 00:00 +1),
            datetime!(2026-03-09 08:59 +1)
        ),
        Duration::ZERO
    );
}

#[test]
fn walks_business_time_forward() {
    let c = office();
    let add = |s, d| c.add_business_time(s, d).unwrap();
    // Same day.
    assert_eq!(
        add(datetime!(2026-03-02 10:00 +1), h(2)),
        datetime!(2026-03-02 12:00 +1)
    );
    // Over the night.
    assert_eq!(
        add(datetime!(2026-03-02 16:00 +1), h(2)),
        datetime!(2026-03-03 10:00 +1)
    );
    // Over the Wednesday holiday.
    assert_eq!(
        add(datetime!(2026-03-03 16:00 +1), h(2)),
        datetime!(2026-03-05 10:00 +1)
    );
    // Over the weekend.
    assert_eq!(
        add(datetime!(2026-03-06 15:30 +1), h(4)),
        datetime!(2026-03-09 11:30 +1)
    );
    // Three working days of eight hours from Monday morning end Thursday (not Wednesday).
    assert_eq!(
        add(datetime!(2026-03-02 09:00 +1), h(24)),
        datetime!(2026-03-05 17:00 +1)
    );
}

#[test]
fn a_start_outside_business_hours_waits_for_the_next_opening() {
    let c = office();
    let add = |s, d| c.add_business_time(s, d).unwrap();
    // Saturday noon → Monday 10:00.
    assert_eq!(
        add(datetime!(2026-03-07 12:00 +1), h(1)),
        datetime!(2026-03-09 10:00 +1)
    );
    // Monday 06:00 → 10:00.
    assert_eq!(
        add(datetime!(2026-03-02 06:00 +1), h(1)),
        datetime!(2026-03-02 10:00 +1)
    );
    // Monday 22:00 → Tuesday 10:00.
    assert_eq!(
        add(datetime!(2026-03-02 22:00 +1), h(1)),
        datetime!(2026-03-03 10:00 +1)
    );
    // On the holiday → Thursday.
    assert_eq!(
        add(datetime!(2026-03-04 11:00 +1), h(1)),
        datetime!(2026-03-05 10:00 +1)
    );
}

#[test]
fn time_that_runs_out_at_closing_ends_at_closing() {
    let c = office();
    assert_eq!(
        c.add_business_time(datetime!(2026-03-02 16:00 +1), h(1)),
        Some(datetime!(2026-03-02 17:00 +1))
    );
    assert_eq!(
        c.add_business_time(datetime!(2026-03-02 16:00 +1), h(1) + Duration::NANOSECOND),
        Some(datetime!(2026-03-03 09:00 +1) + Duration::NANOSECOND)
    );
    // Nothing to add: the start itself, even at night.
    let night = datetime!(2026-03-02 23:00 +1);
    assert_eq!(c.add_business_time(night, Duration::ZERO), Some(night));
}

#[test]
fn adding_then_measuring_gives_back_the_amount_and_the_earliest_instant() {
    let c = office();
    let starts = [
        datetime!(2026-03-02 00:00 +1),
        datetime!(2026-03-02 09:00 +1),
        datetime!(2026-03-02 13:17 +1),
        datetime!(2026-03-03 16:59 +1),
        datetime!(2026-03-04 12:00 +1),
        datetime!(2026-03-06 16:45 UTC),
        datetime!(2026-03-07 03:00 -5),
    ];
    let amounts = [
        Duration::SECOND,
        Duration::minutes(59),
        h(1),
        h(8),
        h(9),
        h(40),
        h(24 * 7),
    ];
    for start in starts {
        for amount in amounts {
            let end = c.add_business_time(start, amount).unwrap();
            assert_eq!(
                c.business_time_between(start, end),
                amount,
                "{start} + {amount}"
            );
            assert!(
                c.business_time_between(start, end - Duration::NANOSECOND) < amount,
                "{start} + {amount}: {end} is not the earliest instant"
            );
        }
    }
}

#[test]
fn a_round_the_clock_calendar_is_wall_time() {
    let c = BusinessCalendar::new(
        UtcOffset::UTC,
        WEEKDAY_NAMES.iter().map(|(_, _, d)| *d),
        ClockTime::new(0, 0).unwrap(),
        ClockTime::new(24, 0).unwrap(),
        [],
    )
    .unwrap();
    let start = datetime!(2026-03-06 22:30 UTC);
    assert_eq!(c.add_business_time(start, h(50)), Some(start + h(50)));
    assert_eq!(c.business_time_between(start, start + h(50)), h(50));
}

#[test]
fn negative_offsets_put_the_window_on_the_right_utc_hours() {
    let c = BusinessCalendar::new(
        offset!(-5),
        [Weekday::Monday],
        ClockTime::new(9, 0).unwrap(),
        ClockTime::new(17, 0).unwrap(),
        [],
    )
    .unwrap();
    // Monday 09:00 at -05:00 is 14:00 UTC.
    assert_eq!(
        c.add_business_time(datetime!(2026-03-02 00:00 UTC), h(1)),
        Some(datetime!(2026-03-02 15:00 UTC))
    );
    // Tuesday 01:00 UTC is still Monday 20:00 local: closed, next Monday.
    assert_eq!(
        c.add_business_time(datetime!(2026-03-03 01:00 UTC), h(1)),
        Some(datetime!(2026-03-09 15:00 UTC))
    );
}

#[test]
fn configuration_round_trips_in_canonical_form() {
    let c: BusinessCalendar = serde_json::from_str(
        r#"{"utc_offset": "-03:30", "weekdays": ["Monday", "SAT"], "open": "8:00",
            "close": "24:00", "holidays": ["2026-12-25", "2026-01-01"]}"#,
    )
    .unwrap();
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "utc_offset": "-03:30",
            "weekdays": ["mon", "sat"],
            "open": "08:00",
            "close": "24:00",
            "holidays": ["2026-01-01", "2026-12-25"]
        })
    );
    assert_eq!(serde_json::from_value::<BusinessCalendar>(json).unwrap(), c);
    assert_eq!(
        serde_json::from_str::<BusinessCalendar>(
            r#"{"utc_offset": "Z", "weekdays": ["fri"], "open": "09:00", "close": "17:00"}"#
        )
        .unwrap()
        .utc_offset(),
        UtcOffset::UTC
    );
}

#[test]
fn bad_configuration_is_refused_with_a_reason() {
    use BusinessCalendarError as E;
    let parse = |offset: &str, weekdays: &str, open: &str, close: &str, holidays: &str| {
        let json = format!(
            r#"{{"utc_offset": "{offset}", "weekdays": {weekdays}, "open": "{open}",
                "close": "{close}", "holidays": {holidays}}}"#
        );
        serde_json::from_str::<BusinessCalendar>(&json)
            .unwrap_err()
            .to_string()
    };
    let week = r#"["mon"]"#;
    let cases = [
        (
            parse("+1", week, "09:00", "17:00", "[]"),
            E::BadOffset("+1".into()),
        ),
        (
            parse("+19:00", week, "09:00", "17:00", "[]"),
            E::BadOffset("+19:00".into()),
        ),
        (
            parse("+01:00", r#"["montag"]"#, "09:00", "17:00", "[]"),
            E::BadWeekday("montag".into()),
        ),
        (parse("+01:00", "[]", "09:00", "17:00", "[]"), E::NoWeekdays),
        (
            parse("+01:00", week, "9", "17:00", "[]"),
            E::BadTime("9".into()),
        ),
        (
            parse("+01:00", week, "09:00", "24:01", "[]"),
            E::BadTime("24:01".into()),
        ),
        (
            parse("+01:00", week, "09:60", "17:00", "[]"),
            E::BadTime("09:60".into()),
        ),
        (
            parse("+01:00", week, "17:00", "09:00", "[]"),
            E::EmptyDay {
                open: ClockTime::new(17, 0).unwrap(),
                close: ClockTime::new(9, 0).unwrap(),
            },
        ),
        (
            parse("+01:00", week, "09:00", "09:00", "[]"),
            E::EmptyDay {
                open: ClockTime::new(9, 0).unwrap(),
                close: ClockTime::new(9, 0).unwrap(),
            },
        ),
        (
            parse("+01:00", week, "09:00", "17:00", r#"["2026-02-30"]"#),
            E::BadHoliday("2026-02-30".into()),
        ),
        (
            parse("+01:00", week, "09:00", "17:00", r#"["25.12.2026"]"#),
            E::BadHoliday("25.12.2026".into()),
        ),
    ];
    for (message, expected) in cases {
        assert!(
            message.contains(&expected.to_string()),
            "{message:?} should contain {expected}"
        );
    }
    let many: Vec<String> = (0..=MAX_HOLIDAYS)
        .map(|_| "\"2026-01-01\"".into())
        .collect();
    let message = parse(
        "+01:00",
        week,
        "09:00",
        "17:00",
        &format!("[{}]", many.join(",")),
    );
    assert!(message.contains("at most"), "{message}");
}
