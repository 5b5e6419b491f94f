use time::macros::datetime;

use super::*;
use crate::ticket::sla::calendar::BusinessCalendar;

const T0: OffsetDateTime = datetime!(2026-03-02 10:00 UTC);

fn m(n: i64) -> Duration {
    Duration::minutes(n)
}

fn h(n: i64) -> Duration {
    Duration::hours(n)
}

fn clock(priority: Priority) -> SlaClock {
    SlaClock::new(SlaPolicy::default(), T0, priority)
}

fn status(at: OffsetDateTime, to: TicketStatus) -> SlaEvent {
    SlaEvent::StatusChanged { at, to }
}

fn comment(at: OffsetDateTime, author: ActorKind) -> SlaEvent {
    SlaEvent::Commented {
        at,
        author,
        internal: false,
    }
}

fn apply_all(clock: &mut SlaClock, events: &[SlaEvent]) {
    for e in events {
        clock.apply(e).unwrap();
    }
}

/// Monday to Friday 09:00–17:00 at UTC+01:00, Wednesday 2026-03-04 and 2026-03-11 off.
/// 2026-03-02 is a Monday.
fn office_policy() -> SlaPolicy {
    let calendar: BusinessCalendar = serde_json::from_value(serde_json::json!({
        "utc_offset": "+01:00",
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "open": "09:00",
        "close": "17:00",
        "holidays": ["2026-03-04", "2026-03-11"]
    }))
    .unwrap();
    SlaPolicy {
        business_hours: Some(calendar),
        ..SlaPolicy::default()
    }
}

#[test]
fn a_new_ticket_counts_every_second_towards_both_deadlines() {
    let c = clock(Priority::Urgent);
    let r = c.report(T0 + m(30));
    assert_eq!(r.state, ClockState::Running);
    assert!(!r.business_hours);
    assert_eq!(r.response.target, h(1));
    assert_eq!(r.response.elapsed, m(30));
    assert_eq!(r.response.remaining, m(30));
    assert_eq!(r.response.deadline, Some(T0 + h(1)));
    assert_eq!(r.response.outcome, SlaOutcome::Pending);
    assert_eq!(r.resolution.target, h(4));
    assert_eq!(r.resolution.deadline, Some(T0 + h(4)));
    assert_eq!(r.resolution.outcome, SlaOutcome::Pending);
    assert_eq!(r.paused, Duration::ZERO);
    assert_eq!(r.next_deadline, Some(T0 + h(1)));
    assert_eq!(c.next_deadline(T0), Some(T0 + h(1)));
    assert!(!r.breached());
}

#[test]
fn the_targets_follow_the_priority() {
    for (priority, response, resolution) in [
        (Priority::Urgent, h(1), h(4)),
        (Priority::High, h(4), h(24)),
        (Priority::Medium, h(24), h(72)),
        (Priority::Low, h(72), h(168)),
    ] {
        let r = clock(priority).report(T0);
        assert_eq!(r.response.deadline, Some(T0 + response), "{priority}");
        assert_eq!(r.resolution.deadline, Some(T0 + resolution), "{priority}");
    }
}

#[test]
fn the_first_public_comment_by_an_agent_is_the_first_response() {
    let mut c = clock(Priority::Urgent);
    apply_all(&mut c, &[comment(T0 + m(40), ActorKind::Agent)]);
    let r = c.report(T0 + h(2));
    assert_eq!(r.first_response_at, Some(T0 + m(40)));
    assert_eq!(r.response.outcome, SlaOutcome::Met);
    assert_eq!(r.response.elapsed, m(40));
    assert_eq!(r.response.ended_at, Some(T0 + m(40)));
    assert_eq!(r.response.deadline, None);
    // The resolution deadline is now the one to watch.
    assert_eq!(r.next_deadline, Some(T0 + h(4)));
    // A later comment changes nothing.
    apply_all(&mut c, &[comment(T0 + m(50), ActorKind::Agent)]);
    assert_eq!(c.first_response_at(), Some(T0 + m(40)));
}

#[test]
fn reporter_comments_automation_and_internal_notes_are_not_responses() {
    let mut c = clock(Priority::Urgent);
    apply_all(
        &mut c,
        &[
            comment(T0 + m(1), ActorKind::Reporter),
            comment(T0 + m(2), ActorKind::System),
            SlaEvent::Commented {
                at: T0 + m(3),
                author: ActorKind::Agent,
                internal: true,
            },
        ],
    );
    let r = c.report(T0 + h(1));
    assert_eq!(r.first_response_at, None);
    assert_eq!(r.response.outcome, SlaOutcome::Breached);
    assert_eq!(r.response.deadline, Some(T0 + h(1)));
}

#[test]
fn a_target_is_breached_exactly_at_its_deadline() {
    let c = clock(Priority::Urgent);
    let deadline = T0 + h(1);
    let before = c.report(deadline - Duration::NANOSECOND);
    assert_eq!(before.response.outcome, SlaOutcome::Pending);
    assert_eq!(before.next_deadline, Some(deadline));
    let at = c.report(deadline);
    assert_eq!(at.response.outcome, SlaOutcome::Breached);
    assert_eq!(at.response.remaining, Duration::ZERO);
    assert!(at.breached());
    // The timer that fired at the deadline is not re-armed for it: the next one is resolution.
    assert_eq!(at.next_deadline, Some(T0 + h(4)));
    assert_eq!(c.next_deadline(deadline), Some(T0 + h(4)));

    // A response at the deadline instant is too late; a second earlier is in time.
    let mut late = clock(Priority::Urgent);
    apply_all(&mut late, &[comment(deadline, ActorKind::Agent)]);
    assert_eq!(
        late.report(deadline + h(1)).response.outcome,
        SlaOutcome::Breached
    );
    let mut in_time = clock(Priority::Urgent);
    apply_all(
        &mut in_time,
        &[comment(deadline - Duration::SECOND, ActorKind::Agent)],
    );
    assert_eq!(
        in_time.report(deadline + h(1)).response.outcome,
        SlaOutcome::Met
    );

    // Past both deadlines nothing is left to arm.
    let r = c.report(T0 + h(4));
    assert_eq!(r.resolution.outcome, SlaOutcome::Breached);
    assert_eq!(r.next_deadline, None);
}

#[test]
fn waiting_for_the_user_pauses_and_the_reporter_answering_resumes() {
    let mut c = clock(Priority::Urgent);
    apply_all(
        &mut c,
        &[
            comment(T0 + m(20), ActorKind::Agent),
            status(T0 + m(20), TicketStatus::WaitingForUser),
        ],
    );
    let paused = c.report(T0 + h(1));
    assert_eq!(paused.state, ClockState::Paused);
    assert_eq!(paused.resolution.elapsed, m(20));
    assert_eq!(paused.resolution.remaining, h(4) - m(20));
    assert_eq!(paused.resolution.deadline, None);
    assert_eq!(paused.resolution.outcome, SlaOutcome::Pending);
    assert_eq!(paused.paused, m(40));
    assert_eq!(paused.next_deadline, None, "nothing to arm while paused");
    // Hours later, still not breached.
    assert_eq!(c.report(T0 + h(10)).resolution.outcome, SlaOutcome::Pending);

    // The reporter answers after two hours of waiting: the clock runs again.
    apply_all(&mut c, &[comment(T0 + m(140), ActorKind::Reporter)]);
    assert_eq!(c.state(), ClockState::Running);
    let r = c.report(T0 + h(3));
    assert_eq!(r.state, ClockState::Running);
    assert_eq!(r.paused, h(2));
    assert_eq!(r.resolution.elapsed, h(1));
    // 20 minutes were counted before the pause: 3 h 40 min remain from the answer.
    assert_eq!(r.resolution.deadline, Some(T0 + m(140) + h(4) - m(20)));
    assert_eq!(r.next_deadline, Some(T0 + h(6)));
    // The actor then moves the status to open; the clock is already running.
    apply_all(&mut c, &[status(T0 + m(140), TicketStatus::Open)]);
    assert_eq!(c.report(T0 + h(3)), r);
}

#[test]
fn an_agent_ending_the_wait_resumes_too_but_an_agent_comment_does_not() {
    let mut c = clock(Priority::Urgent);
    apply_all(
        &mut c,
        &[
            status(T0 + m(10), TicketStatus::WaitingForUser),
            comment(T0 + m(30), ActorKind::Agent),
        ],
    );
    assert_eq!(
        c.state(),
        ClockState::Paused,
        "a nudge from the agent keeps waiting"
    );
    apply_all(&mut c, &[status(T0 + h(1), TicketStatus::InProgress)]);
    let r = c.report(T0 + h(2));
    assert_eq!(r.state, ClockState::Running);
    assert_eq!(r.paused, m(50));
    assert_eq!(r.resolution.elapsed, m(70));
    // The response came while paused: 10 minutes counted, met.
    assert_eq!(r.response.outcome, SlaOutcome::Met);
    assert_eq!(r.response.elapsed, m(10));
}

#[test]
fn a_deadline_passed_before_the_pause_stays_breached() {
    let mut c = clock(Priority::Urgent);
    apply_all(&mut c, &[status(T0 + h(2), TicketStatus::WaitingForUser)]);
    let r = c.report(T0 + h(3));
    assert_eq!(r.response.outcome, SlaOutcome::Breached);
    assert_eq!(r.response.deadline, Some(T0 + h(1)));
    assert_eq!(r.resolution.outcome, SlaOutcome::Pending);
    assert_eq!(r.resolution.deadline, None);
}

#[test]
fn resolving_stops_the_clock_and_reopening_resumes_it() {
    let mut c = clock(Priority::Urgent);
    apply_all(
        &mut c,
        &[
            comment(T0 + m(5), ActorKind::Agent),
            status(T0 + h(1), TicketStatus::Resolved),
        ],
    );
    let r = c.report(T0 + h(10));
    assert_eq!(r.state, ClockState::Stopped);
    assert_eq!(r.resolution.outcome, SlaOutcome::Met);
    assert_eq!(r.resolution.elapsed, h(1));
    assert_eq!(r.resolution.ended_at, Some(T0 + h(1)));
    assert_eq!(r.next_deadline, None);
    // Closing a resolved ticket does not move the end.
    apply_all(&mut c, &[status(T0 + h(11), TicketStatus::Closed)]);
    assert_eq!(c.report(T0 + h(12)).resolution.ended_at, Some(T0 + h(1)));

    // Reopened at +20 h: three hours remain, counted from the reopen.
    apply_all(&mut c, &[status(T0 + h(20), TicketStatus::Open)]);
    let r = c.report(T0 + h(21));
    assert_eq!(r.state, ClockState::Running);
    assert_eq!(r.resolution.outcome, SlaOutcome::Pending);
    assert_eq!(r.resolution.ended_at, None);
    assert_eq!(r.resolution.elapsed, h(2));
    assert_eq!(r.resolution.deadline, Some(T0 + h(23)));
    assert_eq!(
        r.response.outcome,
        SlaOutcome::Met,
        "the response stays met"
    );
    assert_eq!(
        c.report(T0 + h(23)).resolution.outcome,
        SlaOutcome::Breached
    );
    // Resolved again before that: met, with both stretches counted.
    apply_all(&mut c, &[status(T0 + h(22), TicketStatus::Resolved)]);
    let r = c.report(T0 + h(30));
    assert_eq!(r.resolution.outcome, SlaOutcome::Met);
    assert_eq!(r.resolution.elapsed, h(3));
    assert_eq!(r.resolution.ended_at, Some(T0 + h(22)));
}

#[test]
fn resolving_late_is_a_breach() {
    let mut c = clock(Priority::Urgent);
    apply_all(
        &mut c,
        &[
            comment(T0 + m(5), ActorKind::Agent),
            status(T0 + h(5), TicketStatus::Resolved),
        ],
    );
    let r = c.report(T0 + h(6));
    assert_eq!(r.resolution.outcome, SlaOutcome::Breached);
    assert_eq!(r.resolution.deadline, Some(T0 + h(4)));
    assert_eq!(r.resolution.elapsed, h(5));
}

#[test]
fn resolving_before_any_response_ends_the_response_clock() {
    let mut c = clock(Priority::Urgent);
    apply_all(&mut c, &[status(T0 + m(30), TicketStatus::Resolved)]);
    let r = c.report(T0 + h(5));
    assert_eq!(r.first_response_at, None);
    assert_eq!(r.response.outcome, SlaOutcome::Met);
    assert_eq!(r.response.ended_at, Some(T0 + m(30)));
    // A reopen does not bring the response target back.
    apply_all(&mut c, &[status(T0 + h(5), TicketStatus::Open)]);
    assert_eq!(c.report(T0 + h(9)).response.outcome, SlaOutcome::Met);

    // But closing after the deadline without a response is a response breach.
    let mut late = clock(Priority::Urgent);
    apply_all(&mut late, &[status(T0 + h(2), TicketStatus::Closed)]);
    assert_eq!(
        late.report(T0 + h(3)).response.outcome,
        SlaOutcome::Breached
    );
}

#[test]
fn escalating_the_priority_applies_the_shorter_targets_to_the_time_already_counted() {
    let mut c = clock(Priority::Medium);
    assert_eq!(c.report(T0 + h(2)).response.outcome, SlaOutcome::Pending);
    apply_all(
        &mut c,
        &[SlaEvent::PriorityChanged {
            at: T0 + h(2),
            priority: Priority::Urgent,
        }],
    );
    let r = c.report(T0 + h(2));
    assert_eq!(r.priority, Priority::Urgent);
    assert_eq!(r.response.outcome, SlaOutcome::Breached);
    assert_eq!(r.response.deadline, Some(T0 + h(1)));
    assert_eq!(r.resolution.deadline, Some(T0 + h(4)));
    assert_eq!(r.next_deadline, Some(T0 + h(4)));
}

#[test]
fn replaying_the_history_gives_the_same_clock_as_folding_it_live() {
    let events = [
        SlaEvent::Created {
            at: T0,
            priority: Priority::High,
        },
        status(T0 + m(5), TicketStatus::Open),
        comment(T0 + m(30), ActorKind::Agent),
        status(T0 + h(1), TicketStatus::WaitingForUser),
        comment(T0 + h(3), ActorKind::Reporter),
        status(T0 + h(3), TicketStatus::Open),
        status(T0 + h(4), TicketStatus::Resolved),
        status(T0 + h(6), TicketStatus::Open),
    ];
    let replayed = SlaClock::replay(SlaPolicy::default(), &events).unwrap();
    let mut live = clock(Priority::High);
    apply_all(&mut live, &events[1..]);
    assert_eq!(replayed, live);
    let r = replayed.report(T0 + h(7));
    assert_eq!(r.paused, h(2));
    assert_eq!(r.resolution.elapsed, h(3));
    assert_eq!(r.resolution.deadline, Some(T0 + h(6) + h(22)));
}

#[test]
fn a_history_must_start_with_exactly_one_created() {
    assert_eq!(
        SlaClock::replay(SlaPolicy::default(), &[]),
        Err(SlaEventError::NotCreated)
    );
    assert_eq!(
        SlaClock::replay(SlaPolicy::default(), &[status(T0, TicketStatus::Open)]),
        Err(SlaEventError::NotCreated)
    );
    let created = SlaEvent::Created {
        at: T0,
        priority: Priority::Low,
    };
    assert_eq!(
        SlaClock::replay(SlaPolicy::default(), &[created.clone(), created.clone()]),
        Err(SlaEventError::CreatedTwice)
    );
    assert_eq!(
        clock(Priority::Low).apply(&created),
        Err(SlaEventError::CreatedTwice)
    );
}

#[test]
fn an_event_stamped_in_the_past_counts_as_simultaneous() {
    let mut c = clock(Priority::Urgent);
    apply_all(
        &mut c,
        &[
            status(T0 + h(1), TicketStatus::WaitingForUser),
            // Stamped before the pause by a writer whose clock lags.
            comment(T0 + m(50), ActorKind::Reporter),
        ],
    );
    let r = c.report(T0 + h(2));
    assert_eq!(r.paused, Duration::ZERO);
    assert_eq!(r.resolution.elapsed, h(2));
}

#[test]
fn business_hours_deadlines_skip_nights_and_weekends() {
    // Friday 2026-03-06 16:00 local: one business hour left this week.
    let created = datetime!(2026-03-06 16:00 +1);
    let c = SlaClock::new(office_policy(), created, Priority::Urgent);
    let r = c.report(created);
    assert!(r.business_hours);
    // The 1 h response target runs out exactly at Friday's closing time…
    assert_eq!(r.response.deadline, Some(datetime!(2026-03-06 17:00 +1)));
    // …and the 4 h resolution target on Monday at 12:00.
    assert_eq!(r.resolution.deadline, Some(datetime!(2026-03-09 12:00 +1)));

    // Over the weekend: the response breached at Friday's closing, nothing else moves.
    let saturday = c.report(datetime!(2026-03-07 12:00 +1));
    assert_eq!(saturday.response.outcome, SlaOutcome::Breached);
    assert_eq!(saturday.resolution.elapsed, h(1));
    assert_eq!(saturday.resolution.outcome, SlaOutcome::Pending);
    assert_eq!(saturday.next_deadline, Some(datetime!(2026-03-09 12:00 +1)));
    // Monday 10:00: one more business hour.
    assert_eq!(
        c.report(datetime!(2026-03-09 10:00 +1)).resolution.elapsed,
        h(2)
    );
}

#[test]
fn a_ticket_created_outside_business_hours_starts_counting_at_the_next_opening() {
    // Saturday 2026-03-07, high priority (4 h / 24 h).
    let created = datetime!(2026-03-07 10:00 +1);
    let c = SlaClock::new(office_policy(), created, Priority::High);
    let sunday = c.report(datetime!(2026-03-08 20:00 +1));
    assert_eq!(sunday.response.elapsed, Duration::ZERO);
    assert_eq!(
        sunday.response.deadline,
        Some(datetime!(2026-03-09 13:00 +1))
    );
    // 24 business hours: Monday, Tuesday, (Wednesday is a holiday), Thursday.
    assert_eq!(
        sunday.resolution.deadline,
        Some(datetime!(2026-03-12 17:00 +1))
    );
    assert_eq!(
        c.report(datetime!(2026-03-12 16:59 +1)).resolution.outcome,
        SlaOutcome::Pending
    );
    assert_eq!(
        c.report(datetime!(2026-03-12 17:00 +1)).resolution.outcome,
        SlaOutcome::Breached
    );
}

#[test]
fn business_hours_holidays_push_deadlines_out() {
    // Medium (24 h response) from Tuesday 2026-03-03 09:00; Wednesday is a holiday.
    let created = datetime!(2026-03-03 09:00 +1);
    let c = SlaClock::new(office_policy(), created, Priority::Medium);
    assert_eq!(
        c.report(created).response.deadline,
        Some(datetime!(2026-03-06 17:00 +1))
    );
    assert_eq!(
        c.report(datetime!(2026-03-05 09:00 +1)).response.elapsed,
        h(8),
        "the holiday counts nothing"
    );
}

#[test]
fn business_hours_pause_counts_only_business_time_on_both_sides() {
    // Monday 15:00 urgent; waiting from 16:00; the reporter answers Tuesday 08:00, before
    // opening.
    let created = datetime!(2026-03-02 15:00 +1);
    let mut c = SlaClock::new(office_policy(), created, Priority::Urgent);
    apply_all(
        &mut c,
        &[
            comment(datetime!(2026-03-02 15:30 +1), ActorKind::Agent),
            status(datetime!(2026-03-02 16:00 +1), TicketStatus::WaitingForUser),
            comment(datetime!(2026-03-03 08:00 +1), ActorKind::Reporter),
        ],
    );
    let r = c.report(datetime!(2026-03-03 10:00 +1));
    assert_eq!(
        r.paused,
        h(1),
        "only 16:00–17:00 of the wait was business time"
    );
    assert_eq!(r.resolution.elapsed, h(2));
    assert_eq!(r.response.outcome, SlaOutcome::Met);
    assert_eq!(r.response.elapsed, m(30));
    // 3 h left from Tuesday 08:00 → 09:00 + 3 h.
    assert_eq!(r.resolution.deadline, Some(datetime!(2026-03-03 12:00 +1)));
}

#[test]
fn the_report_travels_as_json_with_seconds_and_rfc3339() {
    let mut c = clock(Priority::Urgent);
    apply_all(&mut c, &[comment(T0 + m(10), ActorKind::Agent)]);
    let r = c.report(T0 + m(30));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["at"], "2026-03-02T10:30:00Z");
    assert_eq!(json["priority"], "urgent");
    assert_eq!(json["state"], "running");
    assert_eq!(json["first_response_at"], "2026-03-02T10:10:00Z");
    assert_eq!(json["response"]["outcome"], "met");
    assert_eq!(json["response"]["elapsed_secs"], 600);
    assert_eq!(json["response"]["target_secs"], 3600);
    assert_eq!(json["resolution"]["deadline"], "2026-03-02T14:00:00Z");
    assert_eq!(json["resolution"]["remaining_secs"], 12_600);
    assert_eq!(json["paused_secs"], 0);
    assert_eq!(json["next_deadline"], "2026-03-02T14:00:00Z");
    let back: SlaReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn the_report_example_in_docs_tickets_md_is_what_the_clock_says() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/tickets.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let example = text
        .split("```json")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("\"paused_secs\""))
        .expect("a JSON report example in docs/tickets.md");
    let documented: serde_json::Value = serde_json::from_str(example).unwrap();
    // The situation the example shows: urgent, answered after 10 minutes, seen at 10:30.
    let mut c = clock(Priority::Urgent);
    apply_all(&mut c, &[comment(T0 + m(10), ActorKind::Agent)]);
    let actual = serde_json::to_value(c.report(T0 + m(30))).unwrap();
    assert_eq!(actual, documented);
}
