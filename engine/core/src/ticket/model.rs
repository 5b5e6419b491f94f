//! The ticket record and its three vocabularies: what kind of ticket it is, how urgent, and
//! where it stands.
//!
//! Every vocabulary is a closed enum with a snake_case wire name (`feature_request`,
//! `waiting_for_user`), the same in JSON, MessagePack and the database, so a filter in a URL, a
//! push frame and a stored row all spell a value the same way.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{OrgId, TicketId, UserId};
use crate::ticket::number::TicketNumber;

/// What the reporter is asking for. Chosen by the reporter, changeable by an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    /// Help with using the platform.
    Support,
    /// Something does not work as it should.
    Bug,
    /// Something the platform should learn to do.
    FeatureRequest,
    /// A question that needs an answer, not a fix.
    Question,
    /// Praise or criticism; nothing to fix.
    Feedback,
}

impl TicketType {
    /// Every type, in documentation order.
    pub const ALL: [TicketType; 5] = [
        TicketType::Support,
        TicketType::Bug,
        TicketType::FeatureRequest,
        TicketType::Question,
        TicketType::Feedback,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketType::Support => "support",
            TicketType::Bug => "bug",
            TicketType::FeatureRequest => "feature_request",
            TicketType::Question => "question",
            TicketType::Feedback => "feedback",
        }
    }

    /// The type with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether a new ticket of this type goes to an agent automatically. Support requests and
    /// bugs need someone to act; the other types are triaged from the queue.
    pub fn is_auto_assigned(self) -> bool {
        matches!(self, TicketType::Support | TicketType::Bug)
    }
}

impl fmt::Display for TicketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a ticket is. Ordered from least to most urgent (`Low < Urgent`), so a queue sorted
/// by "priority, then age" sorts by `Reverse(priority)` then creation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    /// Every priority, least urgent first.
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// The priority with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a ticket stands. Which status may follow which, and who may move it, is the state
/// machine in [`crate::ticket::transition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Just reported; nobody has looked at it yet.
    New,
    /// Triaged and waiting in the queue (or assigned but not started).
    Open,
    /// An agent is working on it.
    InProgress,
    /// The agent needs an answer from the reporter; the SLA clock is paused.
    WaitingForUser,
    /// The agent considers it done; the reporter may still reopen it.
    Resolved,
    /// Finished for good. Only an agent can reopen it.
    Closed,
}

impl TicketStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TicketStatus; 6] = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::WaitingForUser,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Open => "open",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::WaitingForUser => "waiting_for_user",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// The status with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Resolved and closed tickets are done: they count for nobody's workload and their
    /// resolution clock is stopped.
    pub fn is_done(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A support ticket as stored and shown to agents.
///
/// Plain data: who may see or change what is decided elsewhere (the state machine, RBAC, the
/// service layer). Comments, the activity log and the survey are records of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub org_id: OrgId,
    /// Sequential per organization, shown to humans as `T-000042`.
    pub number: TicketNumber,
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    pub priority: Priority,
    pub status: TicketStatus,
    pub subject: String,
    pub description: String,
    pub reporter_id: UserId,
    pub assignee_id: Option<UserId>,
    /// Lowercase tags, from auto-tagging and from agents; sorted so equal sets compare equal.
    pub tags: BTreeSet<String>,
    /// Free-form context the client attached (app version, browser, page); never interpreted.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The first public comment by someone other than the reporter (see the SLA rules).
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_response_at: Option<OffsetDateTime>,
    /// The last time the ticket became resolved (cleared when it is reopened).
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    /// The last time the ticket became closed (cleared when it is reopened).
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_snake_case_and_round_trip() {
        for t in TicketType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(TicketType::parse(t.as_str()), Some(t));
        }
        for p in Priority::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        for s in TicketStatus::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<TicketStatus>(&json).unwrap(), s);
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            serde_json::to_string(&TicketType::FeatureRequest).unwrap(),
            "\"feature_request\""
        );
        assert_eq!(
            serde_json::to_string(&TicketStatus::WaitingForUser).unwrap(),
            "\"waiting_for_user\""
        );
        assert!(serde_json::from_str::<TicketStatus>("\"WaitingForUser\"").is_err());
        assert_eq!(TicketStatus::parse("in-progress"), None);
    }

    #[test]
    fn priorities_order_from_low_to_urgent() {
        assert!(Priority::Low < Priority::Medium);
        assert!(Priority::Medium < Priority::High);
        assert!(Priority::High < Priority::Urgent);
        let mut queue = vec![
            Priority::Medium,
            Priority::Urgent,
            Priority::Low,
            Priority::High,
        ];
        queue.sort_by_key(|p| std::cmp::Reverse(*p));
        assert_eq!(
            queue,
            [
                Priority::Urgent,
                Priority::High,
                Priority::Medium,
                Priority::Low
            ]
        );
    }

    #[test]
    fn only_support_and_bug_are_auto_assigned() {
        let auto: Vec<_> = TicketType::ALL
            .into_iter()
            .filter(|t| t.is_auto_assigned())
            .collect();
        assert_eq!(auto, [TicketType::Support, TicketType::Bug]);
    }

    #[test]
    fn a_ticket_serialises_its_type_as_type_and_its_number_as_text() {
        let at = time::macros::datetime!(2026-03-02 09:15 UTC);
        let ticket = Ticket {
            id: TicketId::new(),
            org_id: OrgId::new(),
            number: TicketNumber::new(42).unwrap(),
            ticket_type: TicketType::Bug,
            priority: Priority::Urgent,
            status: TicketStatus::New,
            subject: "Crash on login".into(),
            description: "The app crashes.".into(),
            reporter_id: UserId::new(),
            assignee_id: None,
            tags: BTreeSet::from(["bug".to_owned()]),
            metadata: serde_json::Map::new(),
            created_at: at,
            updated_at: at,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
        };
        let json = serde_json::to_value(&ticket).unwrap();
        assert_eq!(json["type"], "bug");
        assert_eq!(json["number"], "T-000042");
        assert_eq!(json["status"], "new");
        assert_eq!(json["created_at"], "2026-03-02T09:15:00Z");
        let back: Ticket = serde_json::from_value(json).unwrap();
        assert_eq!(back, ticket);
    }
}
