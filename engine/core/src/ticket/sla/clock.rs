//! The SLA clock of one ticket: a pure fold over the ticket's events that answers, for any
//! instant, how much counted time has passed, what the deadlines are and whether each target is
//! met, breached or still pending.
//!
//! The rules (also in `docs/tickets.md`):
//! - Both clocks start when the ticket is created and count while it is `new`, `open` or
//!   `in_progress`.
//! - `waiting_for_user` pauses both; a public comment by the reporter (or any status change away
//!   from waiting) resumes them.
//! - The **response** clock ends for good at the first public comment by someone other than the
//!   reporter (automation does not count) — or at the first resolve/close, if that comes first.
//! - The **resolution** clock stops when the ticket is resolved or closed and resumes, with the
//!   time already counted, when it is reopened.
//! - With a business-hours calendar only business time counts, and deadlines are found by walking
//!   business time forward; otherwise every second counts.
//! - A target is met only if its clock ends *before* the deadline: at the deadline instant it is
//!   breached, so a timer armed for [`SlaClock::next_deadline`] always sees the breach.
//! - A priority change swaps the targets; time already counted stays counted.
//!
//! The clock keeps the spans during which it ran (and was paused) rather than running totals, so
//! a report for any `now` and any target is computed from the same history, and a restarted actor
//! gets the same answer by replaying the same events.

use time::{Duration, OffsetDateTime};

use crate::ticket::model::{Priority, TicketStatus};
use crate::ticket::sla::calendar::BusinessCalendar;
use crate::ticket::sla::policy::SlaPolicy;
use crate::ticket::sla::report::{ClockState, SlaOutcome, SlaReport, TargetReport};
use crate::ticket::transition::ActorKind;

/// Something that happened to a ticket and matters to its SLA. Events are folded in the order
/// they happened; an event stamped earlier than the one before it is treated as simultaneous
/// with it (clocks of different writers may disagree slightly; time never runs backwards here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlaEvent {
    /// The ticket was opened (always the first event; the status is `new`).
    Created {
        at: OffsetDateTime,
        priority: Priority,
    },
    /// The status changed (already checked against the state machine).
    StatusChanged {
        at: OffsetDateTime,
        to: TicketStatus,
    },
    /// The priority changed; the new priority's targets apply to the whole ticket.
    PriorityChanged {
        at: OffsetDateTime,
        priority: Priority,
    },
    /// A comment was posted. `Agent` stands for any person other than the reporter; `System`
    /// comments (automatic acknowledgements) never count as a response.
    Commented {
        at: OffsetDateTime,
        author: ActorKind,
        internal: bool,
    },
}

impl SlaEvent {
    /// When it happened.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            SlaEvent::Created { at, .. }
            | SlaEvent::StatusChanged { at, .. }
            | SlaEvent::PriorityChanged { at, .. }
            | SlaEvent::Commented { at, .. } => *at,
        }
    }
}

/// A history that cannot be folded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlaEventError {
    #[error("an SLA history must start with the ticket's `created` event")]
    NotCreated,
    #[error("a ticket is created only once; a second `created` event is not allowed")]
    CreatedTwice,
}

/// A stretch of time; `end: None` means "still going".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: OffsetDateTime,
    end: Option<OffsetDateTime>,
}

/// How time is counted: every second, or business time only.
#[derive(Clone, Copy)]
enum Measure<'a> {
    Wall,
    Business(&'a BusinessCalendar),
}

impl Measure<'_> {
    fn between(self, start: OffsetDateTime, end: OffsetDateTime) -> Duration {
        match self {
            Measure::Wall => (end - start).max(Duration::ZERO),
            Measure::Business(c) => c.business_time_between(start, end),
        }
    }

    fn advance(self, start: OffsetDateTime, amount: Duration) -> Option<OffsetDateTime> {
        match self {
            Measure::Wall => start.checked_add(amount),
            Measure::Business(c) => c.add_business_time(start, amount),
        }
    }

    /// Counted time of the spans up to `until`.
    fn total(self, spans: &[Span], until: OffsetDateTime) -> Duration {
        spans
            .iter()
            .filter(|s| s.start < until)
            .map(|s| self.between(s.start, s.end.map_or(until, |e| e.min(until))))
            .sum()
    }

    /// The first instant at which the spans, cut off at `limit`, have counted `target`; `None`
    /// if they end short of it.
    fn reach(
        self,
        spans: &[Span],
        target: Duration,
        limit: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        let mut counted = Duration::ZERO;
        for span in spans {
            if limit.is_some_and(|l| span.start >= l) {
                break;
            }
            let end = match (span.end, limit) {
                (Some(e), Some(l)) => Some(e.min(l)),
                (end, None) | (None, end) => end,
            };
            let Some(end) = end else {
                // Still running: the target is reached some time ahead.
                return self.advance(span.start, target - counted);
            };
            let here = self.between(span.start, end);
            if counted + here >= target {
                return self.advance(span.start, target - counted);
            }
            counted += here;
        }
        None
    }
}

/// The SLA clock of one ticket. Build it with [`SlaClock::new`] or [`SlaClock::replay`], feed it
/// every later event with [`SlaClock::apply`], ask it with [`SlaClock::report`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaClock {
    policy: SlaPolicy,
    created_at: OffsetDateTime,
    priority: Priority,
    status: TicketStatus,
    state: ClockState,
    last_event_at: OffsetDateTime,
    running: Vec<Span>,
    paused: Vec<Span>,
    first_response_at: Option<OffsetDateTime>,
    /// When the response clock ended (first response, or the first resolve/close).
    response_ended_at: Option<OffsetDateTime>,
    /// When the ticket last became resolved/closed, while it still is.
    stopped_at: Option<OffsetDateTime>,
}

impl SlaClock {
    /// The clock of a ticket created at `created_at`, running.
    pub fn new(policy: SlaPolicy, created_at: OffsetDateTime, priority: Priority) -> Self {
        Self {
            policy,
            created_at,
            priority,
            status: TicketStatus::New,
            state: ClockState::Running,
            last_event_at: created_at,
            running: vec![Span {
                start: created_at,
                end: None,
            }],
            paused: Vec::new(),
            first_response_at: None,
            response_ended_at: None,
            stopped_at: None,
        }
    }

    /// Rebuilds the clock from a ticket's whole history (first event: `Created`).
    pub fn replay<'a>(
        policy: SlaPolicy,
        events: impl IntoIterator<Item = &'a SlaEvent>,
    ) -> Result<Self, SlaEventError> {
        let mut events = events.into_iter();
        let Some(&SlaEvent::Created { at, priority }) = events.next() else {
            return Err(SlaEventError::NotCreated);
        };
        let mut clock = Self::new(policy, at, priority);
        for event in events {
            clock.apply(event)?;
        }
        Ok(clock)
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: &SlaEvent) -> Result<(), SlaEventError> {
        let at = event.at().max(self.last_event_at);
        match *event {
            SlaEvent::Created { .. } => return Err(SlaEventError::CreatedTwice),
            SlaEvent::StatusChanged { to, .. } => {
                self.status = to;
                if to.is_done() && self.response_ended_at.is_none() {
                    self.response_ended_at = Some(at);
                }
                self.enter(state_of(to), at);
            }
            SlaEvent::PriorityChanged { priority, .. } => self.priority = priority,
            SlaEvent::Commented { internal: true, .. } => {}
            SlaEvent::Commented { author, .. } => match author {
                ActorKind::Agent => {
                    self.first_response_at.get_or_insert(at);
                    self.response_ended_at.get_or_insert(at);
                }
                ActorKind::Reporter if self.state == ClockState::Paused => {
                    self.enter(ClockState::Running, at);
                }
                ActorKind::Reporter | ActorKind::System => {}
            },
        }
        self.last_event_at = at;
        Ok(())
    }

    /// Replaces the policy (the organization changed it); the history is kept.
    pub fn set_policy(&mut self, policy: SlaPolicy) {
        self.policy = policy;
    }

    pub fn policy(&self) -> &SlaPolicy {
        &self.policy
    }

    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// The status as the clock last heard it.
    pub fn status(&self) -> TicketStatus {
        self.status
    }

    pub fn state(&self) -> ClockState {
        self.state
    }

    pub fn first_response_at(&self) -> Option<OffsetDateTime> {
        self.first_response_at
    }

    /// The SLA picture at `now` (which should not be earlier than the last event).
    pub fn report(&self, now: OffsetDateTime) -> SlaReport {
        let measure = self.measure();
        let targets = self.policy.targets(self.priority);
        let resolution_ended = match self.state {
            ClockState::Stopped => self.stopped_at,
            ClockState::Running | ClockState::Paused => None,
        };
        let response = self.target(measure, targets.response(), self.response_ended_at, now);
        let resolution = self.target(measure, targets.resolution(), resolution_ended, now);
        let next_deadline = [&response, &resolution]
            .into_iter()
            .filter(|t| t.outcome == SlaOutcome::Pending)
            .filter_map(|t| t.deadline)
            .filter(|d| *d > now)
            .min();
        SlaReport {
            at: now,
            priority: self.priority,
            state: self.state,
            business_hours: self.policy.business_hours.is_some(),
            first_response_at: self.first_response_at,
            response,
            resolution,
            paused: measure.total(&self.paused, now),
            next_deadline,
        }
    }

    /// The earliest deadline after `now` that a timer should be armed for; `None` when nothing
    /// can breach until another event arrives (paused, stopped, or both targets decided).
    ///
    /// It takes `now` so that a deadline that has just fired is not returned again: at its
    /// deadline a target already reports `Breached`, and the next deadline is the other one.
    pub fn next_deadline(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.report(now).next_deadline
    }

    fn measure(&self) -> Measure<'_> {
        match &self.policy.business_hours {
            Some(calendar) => Measure::Business(calendar),
            None => Measure::Wall,
        }
    }

    /// One target, whose clock runs during `self.running` until `ended` (if it ended).
    fn target(
        &self,
        measure: Measure<'_>,
        target: Duration,
        ended: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> TargetReport {
        let judged_at = ended.map_or(now, |e| e.min(now));
        let deadline = measure.reach(&self.running, target, ended);
        let elapsed = measure.total(&self.running, judged_at);
        let outcome = match (deadline, ended) {
            (Some(d), _) if d <= judged_at => SlaOutcome::Breached,
            (_, Some(e)) if e <= now => SlaOutcome::Met,
            _ => SlaOutcome::Pending,
        };
        TargetReport {
            target,
            elapsed,
            remaining: (target - elapsed).max(Duration::ZERO),
            deadline,
            ended_at: ended,
            outcome,
        }
    }

    /// Moves the clock into `next` at `at`, closing the span of the state it leaves.
    fn enter(&mut self, next: ClockState, at: OffsetDateTime) {
        if next == self.state {
            return;
        }
        match self.state {
            ClockState::Running => close_last(&mut self.running, at),
            ClockState::Paused => close_last(&mut self.paused, at),
            ClockState::Stopped => self.stopped_at = None,
        }
        let open = Span {
            start: at,
            end: None,
        };
        match next {
            ClockState::Running => self.running.push(open),
            ClockState::Paused => self.paused.push(open),
            ClockState::Stopped => self.stopped_at = Some(at),
        }
        self.state = next;
    }
}

/// Which clock state a status implies.
fn state_of(status: TicketStatus) -> ClockState {
    match status {
        TicketStatus::New | TicketStatus::Open | TicketStatus::InProgress => ClockState::Running,
        TicketStatus::WaitingForUser => ClockState::Paused,
        TicketStatus::Resolved | TicketStatus::Closed => ClockState::Stopped,
    }
}

/// Ends the open span at `at`; a span that ends where it began is dropped (it counted nothing).
fn close_last(spans: &mut Vec<Span>, at: OffsetDateTime) {
    if let Some(last) = spans.last_mut() {
        if last.start >= at {
            spans.pop();
        } else {
            last.end = Some(at);
        }
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
