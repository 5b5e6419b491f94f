//! The ticket status state machine: which status may follow which, and who may make the move.
//!
//! The table (rows: from, columns: to; `docs/tickets.md` shows the same table and a test keeps
//! the two equal):
//!
//! | from \ to          | open            | in_progress  | waiting_for_user | resolved     | closed                   |
//! |--------------------|-----------------|--------------|------------------|--------------|--------------------------|
//! | `new`              | agent, system   | agent        | agent            | agent        | agent, reporter          |
//! | `open`             | —               | agent        | agent            | agent        | agent, reporter          |
//! | `in_progress`      | agent           | —            | agent            | agent        | agent, reporter          |
//! | `waiting_for_user` | agent, reporter | agent        | —                | agent        | agent, reporter          |
//! | `resolved`         | agent, reporter | reopen first | reopen first     | —            | agent, reporter, system  |
//! | `closed`           | agent           | reopen first | reopen first     | reopen first | —                        |
//!
//! Nothing ever moves back to `new`: it means "nobody has looked yet", which stops being true
//! once anyone has. A done ticket (resolved or closed) only leaves through a reopen, which always
//! lands on `open`, so a reopened ticket goes back through the queue and its SLA clock resumes
//! from a known state. The reporter can withdraw (close) at any time, answer while the ticket
//! waits for them, and reopen a resolved ticket; a closed ticket is final for the reporter (they
//! open a new one) but an agent can still reopen it. The system (automation, never a person)
//! only triages new tickets to `open` when it auto-assigns them and closes resolved tickets
//! nobody reopened.
//!
//! Someone who is both the reporter and an agent acts as an agent: the caller decides the
//! [`ActorKind`] from permissions, this module only checks the move.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::protocol::ErrorCode;
use crate::ticket::model::TicketStatus;

/// Who asks for a status change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The user who opened the ticket.
    Reporter,
    /// A user allowed to work tickets (moderator/admin or the `tickets.agent` permission).
    Agent,
    /// Automation: auto-assignment, auto-close, timers. Never a person.
    System,
}

impl ActorKind {
    /// Every actor kind, in documentation order.
    pub const ALL: [ActorKind; 3] = [ActorKind::Reporter, ActorKind::Agent, ActorKind::System];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Reporter => "reporter",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
        }
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a legal move means, for the activity log and for notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    /// `new → open`: someone looked at it (or it was auto-assigned).
    Triage,
    /// `→ in_progress` from `new`, `open` or `waiting_for_user`: work starts (again).
    Start,
    /// `in_progress → open`: work stops; back to the queue.
    Requeue,
    /// `→ waiting_for_user`: the agent needs the reporter; the SLA clock pauses.
    AwaitUser,
    /// `waiting_for_user → open`: the reporter answered, or the agent stops waiting.
    Resume,
    /// `→ resolved`.
    Resolve,
    /// `→ closed`.
    Close,
    /// `resolved → open` or `closed → open`.
    Reopen,
}

impl TransitionKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Triage => "triage",
            TransitionKind::Start => "start",
            TransitionKind::Requeue => "requeue",
            TransitionKind::AwaitUser => "await_user",
            TransitionKind::Resume => "resume",
            TransitionKind::Resolve => "resolve",
            TransitionKind::Close => "close",
            TransitionKind::Reopen => "reopen",
        }
    }
}

/// A move the state machine allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transition {
    pub from: TicketStatus,
    pub to: TicketStatus,
    pub actor: ActorKind,
    pub kind: TransitionKind,
}

/// Why a move is refused. The messages are written for the person who asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the ticket is already {status}")]
    Unchanged { status: TicketStatus },
    #[error("a ticket never goes back to new (this one is {from})")]
    BackToNew { from: TicketStatus },
    #[error("a {from} ticket must be reopened (moved to open) before it can become {to}")]
    ReopenFirst {
        from: TicketStatus,
        to: TicketStatus,
    },
    #[error("{} may not move a ticket from {from} to {to}; only {}", article(*actor), AllowedList(allowed))]
    NotAllowed {
        from: TicketStatus,
        to: TicketStatus,
        actor: ActorKind,
        /// Who could make this move (never empty).
        allowed: &'static [ActorKind],
    },
}

impl TransitionError {
    /// The protocol error code: a move the caller may never make is `forbidden`; a move that
    /// does not fit the ticket's current state is a `conflict`.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            TransitionError::NotAllowed { .. } => ErrorCode::Forbidden,
            TransitionError::Unchanged { .. }
            | TransitionError::BackToNew { .. }
            | TransitionError::ReopenFirst { .. } => ErrorCode::Conflict,
        }
    }
}

fn article(actor: ActorKind) -> &'static str {
    match actor {
        ActorKind::Reporter => "the reporter",
        ActorKind::Agent => "an agent",
        ActorKind::System => "the system",
    }
}

/// Renders `[agent, reporter]` as "an agent or the reporter may".
struct AllowedList(&'static [ActorKind]);

impl fmt::Display for AllowedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, actor) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            f.write_str(article(*actor))?;
        }
        f.write_str(" may")
    }
}

const AGENT: &[ActorKind] = &[ActorKind::Agent];
const AGENT_SYSTEM: &[ActorKind] = &[ActorKind::Agent, ActorKind::System];
const AGENT_REPORTER: &[ActorKind] = &[ActorKind::Agent, ActorKind::Reporter];
const AGENT_REPORTER_SYSTEM: &[ActorKind] =
    &[ActorKind::Agent, ActorKind::Reporter, ActorKind::System];

/// One cell of the table.
enum Rule {
    /// The same status, or back to `new`, or a done ticket skipping its reopen.
    Refused,
    Allowed(&'static [ActorKind], TransitionKind),
}

/// The table itself, one arm per cell that is not a refusal.
fn rule(from: TicketStatus, to: TicketStatus) -> Rule {
    use TicketStatus::*;
    use TransitionKind::*;
    let (actors, kind) = match (from, to) {
        (New, Open) => (AGENT_SYSTEM, Triage),
        (New | Open | WaitingForUser, InProgress) => (AGENT, Start),
        (InProgress, Open) => (AGENT, Requeue),
        (New | Open | InProgress, WaitingForUser) => (AGENT, AwaitUser),
        (WaitingForUser, Open) => (AGENT_REPORTER, Resume),
        (New | Open | InProgress | WaitingForUser, Resolved) => (AGENT, Resolve),
        (New | Open | InProgress | WaitingForUser, Closed) => (AGENT_REPORTER, Close),
        (Resolved, Closed) => (AGENT_REPORTER_SYSTEM, Close),
        (Resolved, Open) => (AGENT_REPORTER, Reopen),
        (Closed, Open) => (AGENT, Reopen),
        _ => return Rule::Refused,
    };
    Rule::Allowed(actors, kind)
}

/// Who may move a ticket from `from` to `to` (empty when nobody may).
pub fn allowed_actors(from: TicketStatus, to: TicketStatus) -> &'static [ActorKind] {
    match rule(from, to) {
        Rule::Allowed(actors, _) => actors,
        Rule::Refused => &[],
    }
}

/// Checks one status change.
pub fn transition(
    from: TicketStatus,
    to: TicketStatus,
    actor: ActorKind,
) -> Result<Transition, TransitionError> {
    match rule(from, to) {
        Rule::Allowed(actors, kind) if actors.contains(&actor) => Ok(Transition {
            from,
            to,
            actor,
            kind,
        }),
        Rule::Allowed(allowed, _) => Err(TransitionError::NotAllowed {
            from,
            to,
            actor,
            allowed,
        }),
        Rule::Refused if from == to => Err(TransitionError::Unchanged { status: from }),
        Rule::Refused if to == TicketStatus::New => Err(TransitionError::BackToNew { from }),
        Rule::Refused => Err(TransitionError::ReopenFirst { from, to }),
    }
}

#[cfg(test)]
#[path = "transition_tests.rs"]
mod tests;
