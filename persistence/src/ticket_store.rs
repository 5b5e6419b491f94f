//! The ticket store: tickets, comments, the activity log, SLA state and breaches, surveys,
//! per-organization ticket settings and numbering, and stored notifications.
//!
//! Every write that belongs together is one transaction: a ticket and its first activity
//! entries; a change, its comment and its activity entries; a breach, its activity entry and
//! its notifications. Every read of a ticket names the organization, so another tenant's ticket
//! id reads as `NotFound`.

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ids::{OrgId, TicketId, UserId};
use atrium_core::notification::Notification;
use atrium_core::rbac::Role;
use atrium_core::ticket::records::{
    NewActivity, SlaBreach, TicketActivity, TicketComment, TicketSettings, TicketSlaState,
    TicketSurvey,
};
use atrium_core::ticket::{Priority, Ticket, TicketNumber, TicketStatus, TicketType};

use crate::store::{Page, Paged, StoreResult};

/// A ticket with the SLA state kept beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTicket {
    pub ticket: Ticket,
    pub sla: TicketSlaState,
}

/// A ticket to create. The store assigns the number; `ticket.number` is ignored.
#[derive(Clone, Debug)]
pub struct NewTicket<'a> {
    pub ticket: &'a Ticket,
    pub sla: TicketSlaState,
    /// The first activity entries (at least `created`).
    pub activity: &'a [NewActivity],
    /// Set when the ticket was auto-assigned: becomes the organization's round-robin point.
    pub auto_assignee: Option<UserId>,
}

/// One change to a ticket, written in one transaction.
#[derive(Clone, Debug)]
pub struct TicketChange<'a> {
    /// The ticket as it is after the change (every mutable field is written).
    pub ticket: &'a Ticket,
    pub sla: TicketSlaState,
    /// A comment posted with the change.
    pub comment: Option<&'a TicketComment>,
    pub activity: &'a [NewActivity],
}

/// Filters of the ticket list; `None` matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub ticket_type: Option<TicketType>,
    /// `Some(None)` means "unassigned".
    pub assignee: Option<Option<UserId>>,
    pub reporter: Option<UserId>,
    pub tag: Option<String>,
    pub breached: Option<bool>,
}

/// A recorded breach and what it causes, written together.
#[derive(Clone, Debug)]
pub struct BreachRecord<'a> {
    pub breach: &'a SlaBreach,
    pub activity: &'a NewActivity,
    pub notifications: &'a [Notification],
}

/// An open ticket whose timer must be armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArmedDeadline {
    pub org: OrgId,
    pub ticket: TicketId,
    pub deadline: OffsetDateTime,
}

/// The most activity entries one `list_ticket_activity` page returns.
pub const MAX_ACTIVITY_PAGE: u32 = 500;

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Hands out the organization's next ticket number (never one handed out before, even
    /// under concurrent creates), stores the ticket, its tags and first activity entries.
    /// Returns the ticket as stored (with its number).
    async fn create_ticket(&self, new: NewTicket<'_>) -> StoreResult<Ticket>;
    async fn get_ticket(&self, org: OrgId, id: TicketId) -> StoreResult<StoredTicket>;
    async fn get_ticket_by_number(
        &self,
        org: OrgId,
        number: TicketNumber,
    ) -> StoreResult<StoredTicket>;
    /// Tickets of `org` matching `filter`, most urgent first, then oldest first.
    async fn list_tickets(
        &self,
        org: OrgId,
        filter: &TicketFilter,
        page: Page,
    ) -> StoreResult<Paged<StoredTicket>>;
    /// Writes a change (ticket fields, tags, SLA state, optional comment, activity entries).
    async fn update_ticket(&self, change: TicketChange<'_>) -> StoreResult<()>;
    /// Only the SLA state (after a timer fired or the policy changed).
    async fn set_ticket_sla(&self, id: TicketId, sla: TicketSlaState) -> StoreResult<()>;
    /// Oldest first; internal notes only when `include_internal`.
    async fn list_ticket_comments(
        &self,
        ticket: TicketId,
        include_internal: bool,
    ) -> StoreResult<Vec<TicketComment>>;
    /// A page of the activity log, oldest first.
    async fn list_ticket_activity(
        &self,
        ticket: TicketId,
        page: Page,
    ) -> StoreResult<Paged<TicketActivity>>;
    /// The whole activity log, oldest first (the SLA clock is rebuilt from it).
    async fn ticket_history(&self, ticket: TicketId) -> StoreResult<Vec<TicketActivity>>;
    /// Records a breach with its activity entry and notifications. Returns `false` (and writes
    /// nothing) if that target of that ticket was already recorded.
    async fn record_sla_breach(&self, record: BreachRecord<'_>) -> StoreResult<bool>;
    async fn list_sla_breaches(&self, ticket: TicketId) -> StoreResult<Vec<SlaBreach>>;
    /// Every ticket (of every organization) with an armed SLA deadline, soonest first.
    async fn armed_sla_deadlines(&self) -> StoreResult<Vec<ArmedDeadline>>;
    /// The ids of the organization's tickets that are not resolved or closed.
    async fn unfinished_tickets(&self, org: OrgId) -> StoreResult<Vec<TicketId>>;
    /// Active users of `org` whose role is one of `roles`, by id.
    async fn users_with_roles(&self, org: OrgId, roles: &[Role]) -> StoreResult<Vec<UserId>>;
    /// Unfinished tickets per assignee of `org` (assignees with none are absent).
    async fn assigned_unfinished_counts(&self, org: OrgId) -> StoreResult<Vec<(UserId, u32)>>;
    /// The agent who got the organization's previous auto-assigned ticket.
    async fn last_auto_assignee(&self, org: OrgId) -> StoreResult<Option<UserId>>;
    /// Stores the reporter's answer with its activity entry; `Conflict("survey")` if the ticket
    /// already has one.
    async fn insert_ticket_survey(
        &self,
        org: OrgId,
        survey: &TicketSurvey,
        activity: &NewActivity,
    ) -> StoreResult<()>;
    async fn get_ticket_survey(&self, ticket: TicketId) -> StoreResult<Option<TicketSurvey>>;
    /// The organization's settings, `None` if it never stored any (defaults apply).
    async fn get_ticket_settings(&self, org: OrgId) -> StoreResult<Option<TicketSettings>>;
    async fn put_ticket_settings(
        &self,
        org: OrgId,
        settings: &TicketSettings,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// A user's notifications, newest first.
    async fn list_notifications(&self, user: UserId, page: Page) -> StoreResult<Vec<Notification>>;
}

/// The rank a priority sorts by (`low` 0 … `urgent` 3).
pub(crate) fn priority_rank(p: Priority) -> i16 {
    match p {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }
}
