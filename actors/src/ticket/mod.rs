//! Support tickets, live: one `TicketActor` per ticket in use, under the `TicketSupervisor`.
//!
//! - [`service`]: [`Tickets`], the handle HTTP and sessions use (create, read, change, watch).
//! - [`actor`]: the actor that owns one ticket's state machine and SLA clock; every change to
//!   a ticket goes through it, so changes to one ticket are applied one at a time.
//! - [`directory`]: finds or lazily starts a ticket's actor and routes commands to it.
//! - [`supervisor`]: restarts a failed ticket actor within its restart budget, and re-arms
//!   every open ticket's SLA timer from the store when the node starts.
//! - [`timers`]: the armed SLA deadlines and the task that fires them.
//! - [`watchers`]: who receives the ticket pushes.
//! - [`clock`]: the injected wall clock (real, or moved by hand in tests).
//!
//! The rules themselves (state machine, SLA clock, tagging, assignment) are the pure code in
//! `atrium_core::ticket`; this module only drives them.

pub mod actor;
pub mod clock;
pub mod config;
pub mod directory;
pub mod error;
pub mod service;
pub mod supervisor;
pub mod timers;
pub mod view;
pub mod watchers;

use std::collections::BTreeSet;

use ractor::RpcReplyPort;

use atrium_core::ids::{OrgId, TicketId, UserId};
use atrium_core::ticket::{Priority, SatisfactionSurvey, TicketStatus, TicketType};

use crate::slot::ActorSlot;

pub use config::TicketConfig;
pub use error::TicketError;
pub use service::Tickets;
pub use view::{TicketView, TicketWithComments};

/// A ticket as seen from one organization: actors are keyed by the caller's organization too,
/// so a command naming another tenant's ticket reaches an actor that finds no such ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketKey {
    pub org: OrgId,
    pub ticket: TicketId,
}

/// Who asks the actor for a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketCaller {
    pub user: UserId,
    /// Whether the user may work tickets (moderator, admin or `tickets.agent`).
    pub agent: bool,
}

/// Changes to the fields of a ticket; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketPatch {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub ticket_type: Option<TicketType>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub tags: Option<BTreeSet<String>>,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a caller asks a ticket actor to do.
#[derive(Clone, Debug, PartialEq)]
pub enum TicketCommand {
    Patch(TicketPatch),
    /// Assign to an agent, or unassign (`None`).
    Assign(Option<UserId>),
    Comment {
        body: String,
        internal: bool,
    },
    /// Move a resolved or closed ticket back to `open`.
    Reopen,
    Survey(SatisfactionSurvey),
}

/// What a command produced.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketOutcome {
    pub ticket: TicketView,
    pub comment: Option<atrium_core::ticket::records::TicketComment>,
}

/// Messages of the ticket actor.
pub enum TicketMsg {
    /// A caller's command (counted as pending until handled).
    Command {
        caller: TicketCaller,
        command: TicketCommand,
        reply: RpcReplyPort<Result<TicketOutcome, TicketError>>,
    },
    /// The armed SLA deadline came.
    Deadline,
    /// The organization's settings changed: reload the SLA policy and re-arm.
    ReloadPolicy,
    /// Periodic: stop when idle.
    IdleTick,
    /// Test hook: panic inside the handler (fault-injection builds only).
    #[cfg(feature = "fault-injection")]
    Crash,
}

/// The part of a ticket that outlives one incarnation of its actor (only its mailbox slot:
/// everything else is rebuilt from the store).
pub struct TicketShared {
    pub key: TicketKey,
    pub slot: ActorSlot<TicketMsg>,
}
