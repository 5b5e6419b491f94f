//! What callers get back: a ticket with its SLA state, and with the comments its viewer may see.

use serde::Serialize;

use atrium_core::ticket::Ticket;
use atrium_core::ticket::records::TicketComment;
use atrium_persistence::ticket_store::StoredTicket;

/// A ticket and whether it breached an SLA target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub sla_breached: bool,
}

impl From<StoredTicket> for TicketView {
    fn from(s: StoredTicket) -> Self {
        Self {
            ticket: s.ticket,
            sla_breached: s.sla.breached,
        }
    }
}

/// A ticket with the comments visible to the caller (internal notes for agents only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TicketWithComments {
    #[serde(flatten)]
    pub view: TicketView,
    pub comments: Vec<TicketComment>,
}
