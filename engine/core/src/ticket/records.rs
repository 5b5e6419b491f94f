//! The records around a ticket that the store keeps: comments, the activity log, SLA breaches,
//! survey answers and the organization's ticket settings, plus the one rule that ties the
//! activity log to the SLA clock (which logged changes are SLA events).
//!
//! The activity log is the ticket's history: every change is one entry with who made it, what
//! changed and the value before and after. The SLA clock is rebuilt from exactly that history
//! ([`sla_events`]), so the log and the clock can never disagree, and a restarted ticket actor
//! gets the same deadlines its predecessor had.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{OrgId, TicketCommentId, TicketId, UserId};
use crate::ticket::model::{Priority, TicketStatus};
use crate::ticket::sla::{SlaEvent, SlaPolicy};
use crate::ticket::survey::Rating;
use crate::ticket::tagging::{TagRule, default_tag_rules};
use crate::ticket::transition::ActorKind;

/// Longest comment body, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;
/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Most tags on one ticket.
pub const MAX_TAGS_PER_TICKET: usize = 20;
/// Largest metadata object, in bytes of its JSON text.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// A comment on a ticket. `internal` notes are for agents only: they never reach the reporter,
/// over HTTP or over pushes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketComment {
    pub id: TicketCommentId,
    pub ticket_id: TicketId,
    /// `None` for automatic (system) comments.
    pub author_id: Option<UserId>,
    pub body: String,
    pub internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What one activity entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityAction {
    /// The ticket was opened; `after` holds its initial type, priority and status.
    Created,
    Status,
    Priority,
    Type,
    Subject,
    Description,
    Assignee,
    Tags,
    Metadata,
    /// A comment was posted; `after` is `{comment_id, internal, author}` (never the body).
    Comment,
    /// A target was breached; `after` is `{target, deadline}`.
    SlaBreach,
    /// The reporter answered the survey; `after` is `{rating}`.
    Survey,
}

impl ActivityAction {
    pub const ALL: [ActivityAction; 12] = [
        ActivityAction::Created,
        ActivityAction::Status,
        ActivityAction::Priority,
        ActivityAction::Type,
        ActivityAction::Subject,
        ActivityAction::Description,
        ActivityAction::Assignee,
        ActivityAction::Tags,
        ActivityAction::Metadata,
        ActivityAction::Comment,
        ActivityAction::SlaBreach,
        ActivityAction::Survey,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::Created => "created",
            ActivityAction::Status => "status",
            ActivityAction::Priority => "priority",
            ActivityAction::Type => "type",
            ActivityAction::Subject => "subject",
            ActivityAction::Description => "description",
            ActivityAction::Assignee => "assignee",
            ActivityAction::Tags => "tags",
            ActivityAction::Metadata => "metadata",
            ActivityAction::Comment => "comment",
            ActivityAction::SlaBreach => "sla_breach",
            ActivityAction::Survey => "survey",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An activity entry before it is stored (the store assigns the id).
#[derive(Clone, Debug, PartialEq)]
pub struct NewActivity {
    /// Who made the change; `None` for the system (auto-assignment, timers).
    pub actor_id: Option<UserId>,
    pub action: ActivityAction,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub at: OffsetDateTime,
}

impl NewActivity {
    pub fn new(
        actor_id: Option<UserId>,
        action: ActivityAction,
        before: impl Serialize,
        after: impl Serialize,
        at: OffsetDateTime,
    ) -> Self {
        Self {
            actor_id,
            action,
            before: serde_json::to_value(before).unwrap_or(serde_json::Value::Null),
            after: serde_json::to_value(after).unwrap_or(serde_json::Value::Null),
            at,
        }
    }
}

/// A stored activity entry. Ids grow in the order entries were written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketActivity {
    pub id: i64,
    pub ticket_id: TicketId,
    pub actor_id: Option<UserId>,
    pub action: ActivityAction,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Which SLA target a breach is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    Response,
    Resolution,
}

impl SlaTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::Response => "response",
            SlaTarget::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "response" => Some(SlaTarget::Response),
            "resolution" => Some(SlaTarget::Resolution),
            _ => None,
        }
    }
}

/// A recorded breach. Each target of a ticket is recorded at most once: a breach stays recorded
/// even if a later priority change would no longer count it as one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaBreach {
    pub ticket_id: TicketId,
    pub org_id: OrgId,
    pub target: SlaTarget,
    /// The deadline that passed.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// When the breach was noticed (at or after the deadline).
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// The SLA state kept on the ticket row, so a restarted node finds every timer to re-arm
/// without replaying every ticket, and lists can filter by "breached".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TicketSlaState {
    /// The instant the ticket's timer is armed for (`SlaClock::next_deadline`).
    pub next_deadline: Option<OffsetDateTime>,
    /// Whether any target was ever breached (recorded).
    pub breached: bool,
}

/// A reporter's survey answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSurvey {
    pub ticket_id: TicketId,
    pub reporter_id: UserId,
    pub rating: Rating,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An organization's ticket settings: SLA targets (with the optional business-hours calendar)
/// and the auto-tagging rules. An organization without stored settings uses the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketSettings {
    #[serde(default)]
    pub sla: SlaPolicy,
    #[serde(default = "default_tag_rules")]
    pub tag_rules: Vec<TagRule>,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            sla: SlaPolicy::default(),
            tag_rules: default_tag_rules(),
        }
    }
}

/// Who wrote a comment, as the SLA clock counts it: the reporter, another person, or nobody.
pub fn comment_author_kind(author: Option<UserId>, reporter: UserId) -> ActorKind {
    match author {
        None => ActorKind::System,
        Some(a) if a == reporter => ActorKind::Reporter,
        Some(_) => ActorKind::Agent,
    }
}

/// The SLA events in a ticket's activity log, in log order. The first entry must be `created`
/// (with its initial priority); entries that do not matter to the SLA are skipped, and so are
/// entries whose values do not parse (a log written by a newer build).
pub fn sla_events(activity: &[TicketActivity]) -> Vec<SlaEvent> {
    activity.iter().filter_map(sla_event).collect()
}

fn sla_event(entry: &TicketActivity) -> Option<SlaEvent> {
    let at = entry.at;
    match entry.action {
        ActivityAction::Created => {
            let priority = Priority::deserialize(entry.after.get("priority")?).ok()?;
            Some(SlaEvent::Created { at, priority })
        }
        ActivityAction::Status => {
            let to = TicketStatus::deserialize(&entry.after).ok()?;
            Some(SlaEvent::StatusChanged { at, to })
        }
        ActivityAction::Priority => {
            let priority = Priority::deserialize(&entry.after).ok()?;
            Some(SlaEvent::PriorityChanged { at, priority })
        }
        ActivityAction::Comment => {
            let internal = entry.after.get("internal")?.as_bool()?;
            let author = ActorKind::deserialize(entry.after.get("author")?).ok()?;
            Some(SlaEvent::Commented {
                at,
                author,
                internal,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn entry(action: ActivityAction, after: serde_json::Value, minute: u8) -> TicketActivity {
        TicketActivity {
            id: i64::from(minute),
            ticket_id: TicketId::new(),
            actor_id: None,
            action,
            before: serde_json::Value::Null,
            after,
            at: datetime!(2026-03-02 09:00 UTC) + time::Duration::minutes(i64::from(minute)),
        }
    }

    #[test]
    fn the_log_folds_into_the_sla_events_it_contains() {
        let log = [
            entry(
                ActivityAction::Created,
                json!({"priority": "urgent", "type": "bug", "status": "new"}),
                0,
            ),
            entry(ActivityAction::Assignee, json!("someone"), 0),
            entry(ActivityAction::Status, json!("waiting_for_user"), 10),
            entry(
                ActivityAction::Comment,
                json!({"comment_id": "x", "internal": false, "author": "reporter"}),
                20,
            ),
            entry(ActivityAction::Priority, json!("low"), 30),
            entry(ActivityAction::Tags, json!(["bug"]), 31),
        ];
        let at = |m: i64| datetime!(2026-03-02 09:00 UTC) + time::Duration::minutes(m);
        assert_eq!(
            sla_events(&log),
            vec![
                SlaEvent::Created {
                    at: at(0),
                    priority: Priority::Urgent
                },
                SlaEvent::StatusChanged {
                    at: at(10),
                    to: TicketStatus::WaitingForUser
                },
                SlaEvent::Commented {
                    at: at(20),
                    author: ActorKind::Reporter,
                    internal: false
                },
                SlaEvent::PriorityChanged {
                    at: at(30),
                    priority: Priority::Low
                },
            ]
        );
    }

    #[test]
    fn comment_authors_are_counted_like_the_sla_rules_say() {
        let reporter = UserId::new();
        assert_eq!(comment_author_kind(None, reporter), ActorKind::System);
        assert_eq!(
            comment_author_kind(Some(reporter), reporter),
            ActorKind::Reporter
        );
        assert_eq!(
            comment_author_kind(Some(UserId::new()), reporter),
            ActorKind::Agent
        );
    }

    #[test]
    fn action_names_round_trip() {
        for a in ActivityAction::ALL {
            assert_eq!(ActivityAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()), "{a:?}");
        }
        assert_eq!(SlaTarget::parse("response"), Some(SlaTarget::Response));
        assert_eq!(SlaTarget::parse("x"), None);
    }

    #[test]
    fn settings_default_and_reject_unknown_fields() {
        let s: TicketSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, TicketSettings::default());
        assert!(serde_json::from_str::<TicketSettings>(r#"{"sla":{},"x":1}"#).is_err());
    }
}
