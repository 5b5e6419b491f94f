//! Support tickets, the pure part: the record and its vocabularies, per-organization ticket
//! numbers, the status state machine, SLA clocks, keyword auto-tagging, the auto-assignment
//! choice and the satisfaction survey value.
//!
//! Nothing here does I/O or keeps time by itself: every function takes the instant it needs, so
//! the ticket actor, the HTTP layer and the tests drive the same rules with real or simulated
//! clocks. `docs/tickets.md` describes the rules for people.

pub mod assignment;
pub mod model;
pub mod number;
pub mod records;
pub mod sla;
pub mod survey;
pub mod tagging;
pub mod transition;

pub use assignment::{AgentLoad, pick_assignee};
pub use model::{Priority, Ticket, TicketStatus, TicketType};
pub use number::{TicketNumber, TicketNumberError};
pub use sla::{SlaClock, SlaEvent, SlaOutcome, SlaPolicy, SlaReport};
pub use survey::{Rating, SatisfactionSurvey, SurveyError};
pub use tagging::{TagRule, auto_tags, default_tag_rules};
pub use transition::{ActorKind, Transition, TransitionError, TransitionKind, transition};
