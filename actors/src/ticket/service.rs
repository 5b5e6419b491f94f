//! [`Tickets`]: what the HTTP API and live sessions ask of the ticket subsystem.
//!
//! Creating a ticket happens here (there is no actor before the ticket exists): the subject and
//! description are auto-tagged with the organization's rules, support and bug tickets go to the
//! least-loaded agent (ties round-robin), and the ticket's SLA timer is armed. Every later change
//! is a command to the ticket's actor. Reads go to the store, with the same visibility rule
//! everywhere: agents see their organization's tickets, a reporter sees their own, anybody else
//! (and any other organization) gets "not found".

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use atrium_core::ids::{OrgId, SessionId, TicketId, UserId};
use atrium_core::protocol::ServerFrame;
use atrium_core::rbac::Role;
use atrium_core::ticket::records::{
    ActivityAction, NewActivity, SlaBreach, TicketActivity, TicketSettings, TicketSlaState,
    sla_events,
};
use atrium_core::ticket::sla::SlaReport;
use atrium_core::ticket::tagging::validate_tag_rules;
use atrium_core::ticket::{
    ActorKind, AgentLoad, Priority, SlaClock, SlaEvent, Ticket, TicketNumber, TicketStatus,
    TicketType, auto_tags, pick_assignee, transition,
};
use atrium_persistence::store::{Page, Paged};
use atrium_persistence::ticket_store::{NewTicket, TicketFilter};

use crate::context::Context;
use crate::outbox::SessionOutbox;
use crate::ticket::watchers::{Audience, Watcher};
use crate::ticket::{
    TicketCaller, TicketCommand, TicketError, TicketKey, TicketMsg, TicketOutcome, TicketView,
    TicketWithComments,
};

/// The permission that makes a user an agent.
pub const AGENT_PERMISSION: &str = "tickets.agent";
/// The permission to open tickets.
pub const CREATE_PERMISSION: &str = "tickets.create";
/// The permission to change the organization's ticket settings.
pub const SETTINGS_PERMISSION: &str = "tickets.settings";

/// The roles whose holders are agents.
pub fn agent_roles() -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| r.can(AGENT_PERMISSION))
        .collect()
}

/// Who is asking: a user of an organization with a role (re-read from the store by HTTP, from
/// the access token by sessions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketUser {
    pub id: UserId,
    pub org: OrgId,
    pub role: Role,
}

impl TicketUser {
    pub fn is_agent(&self) -> bool {
        self.role.can(AGENT_PERMISSION)
    }

    fn caller(&self) -> TicketCaller {
        TicketCaller {
            user: self.id,
            agent: self.is_agent(),
        }
    }

    fn may_see(&self, ticket: &Ticket) -> bool {
        ticket.org_id == self.org && (self.is_agent() || ticket.reporter_id == self.id)
    }
}

/// A ticket to open.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketDraft {
    pub ticket_type: TicketType,
    pub priority: Priority,
    pub subject: String,
    pub description: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// Which ticket a caller names: its id or its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketRef {
    Id(TicketId),
    Number(TicketNumber),
}

impl std::str::FromStr for TicketRef {
    type Err = TicketError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(id) = s.parse::<TicketId>() {
            return Ok(TicketRef::Id(id));
        }
        s.parse::<TicketNumber>()
            .map(TicketRef::Number)
            .map_err(|_| {
                TicketError::Invalid(format!(
                    "{s:?} is neither a ticket id (UUID) nor a ticket number (T-000042)"
                ))
            })
    }
}

/// The SLA of a ticket, as `GET /api/v1/tickets/{id}/sla` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlaView {
    pub ticket_id: TicketId,
    #[serde(flatten)]
    pub report: SlaReport,
    /// Recorded breaches (each target at most once).
    pub breaches: Vec<SlaBreach>,
}

/// The handle (cheap to clone).
#[derive(Clone)]
pub struct Tickets {
    pub(crate) ctx: Arc<Context>,
}

impl Tickets {
    fn now(&self) -> OffsetDateTime {
        self.ctx.config.tickets.clock.now()
    }

    async fn settings(&self, org: OrgId) -> Result<TicketSettings, TicketError> {
        Ok(self
            .ctx
            .store
            .get_ticket_settings(org)
            .await
            .map_err(TicketError::store)?
            .unwrap_or_default())
    }

    /// Opens a ticket for `user` (the reporter).
    pub async fn create(
        &self,
        user: TicketUser,
        draft: TicketDraft,
    ) -> Result<TicketView, TicketError> {
        if !user.role.can(CREATE_PERMISSION) {
            return Err(TicketError::Forbidden(format!(
                "your role ({}) lacks the permission {CREATE_PERMISSION}",
                user.role
            )));
        }
        let subject = validate::subject(&draft.subject)?;
        let description = validate::description(&draft.description)?;
        validate::metadata(&draft.metadata)?;
        let settings = self.settings(user.org).await?;
        let tags = auto_tags(&subject, &description, &settings.tag_rules);
        let now = self.now();
        let mut ticket = Ticket {
            id: TicketId::new(),
            org_id: user.org,
            number: TicketNumber::FIRST,
            ticket_type: draft.ticket_type,
            priority: draft.priority,
            status: TicketStatus::New,
            subject,
            description,
            reporter_id: user.id,
            assignee_id: None,
            tags,
            metadata: draft.metadata,
            created_at: now,
            updated_at: now,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
        };
        let mut activity = vec![NewActivity::new(
            Some(user.id),
            ActivityAction::Created,
            (),
            serde_json::json!({
                "type": ticket.ticket_type,
                "priority": ticket.priority,
                "status": ticket.status,
                "tags": ticket.tags,
            }),
            now,
        )];
        let mut clock = SlaClock::new(settings.sla, now, ticket.priority);

        // One auto-assignment at a time per organization on this node, so two tickets created
        // together do not both go to the same "least loaded" agent.
        let lock = self.ctx.ticket_assign_lock(user.org);
        let _guard = lock.lock().await;
        let mut auto_assignee = None;
        if ticket.ticket_type.is_auto_assigned()
            && let Some(agent) = self.pick_agent(user.org).await?
        {
            activity.push(NewActivity::new(
                None,
                ActivityAction::Assignee,
                None::<UserId>,
                Some(agent),
                now,
            ));
            ticket.assignee_id = Some(agent);
            transition(TicketStatus::New, TicketStatus::Open, ActorKind::System)?;
            activity.push(NewActivity::new(
                None,
                ActivityAction::Status,
                TicketStatus::New,
                TicketStatus::Open,
                now,
            ));
            ticket.status = TicketStatus::Open;
            let _ = clock.apply(&SlaEvent::StatusChanged {
                at: now,
                to: TicketStatus::Open,
            });
            auto_assignee = Some(agent);
        }
        let sla = TicketSlaState {
            next_deadline: clock.next_deadline(now),
            breached: false,
        };
        let stored = self
            .ctx
            .store
            .create_ticket(NewTicket {
                ticket: &ticket,
                sla,
                activity: &activity,
                auto_assignee,
            })
            .await
            .map_err(TicketError::store)?;
        drop(_guard);
        let key = TicketKey {
            org: user.org,
            ticket: stored.id,
        };
        self.ctx.ticket_timers.arm(key, sla.next_deadline);
        self.ctx.ticket_watchers.push(
            key.org,
            key.ticket,
            Audience::Everyone,
            &ServerFrame::TicketCreated {
                ticket: Box::new(stored.clone()),
                breached: false,
            },
        );
        tracing::debug!(ticket = %stored.id, number = %stored.number, assignee = ?stored.assignee_id, "ticket created");
        Ok(TicketView {
            ticket: stored,
            sla_breached: false,
        })
    }

    async fn pick_agent(&self, org: OrgId) -> Result<Option<UserId>, TicketError> {
        let store = &self.ctx.store;
        let agents = store
            .users_with_roles(org, &agent_roles())
            .await
            .map_err(TicketError::store)?;
        if agents.is_empty() {
            return Ok(None);
        }
        let counts: HashMap<UserId, u32> = store
            .assigned_unfinished_counts(org)
            .await
            .map_err(TicketError::store)?
            .into_iter()
            .collect();
        let loads: Vec<AgentLoad> = agents
            .into_iter()
            .map(|agent| AgentLoad {
                agent,
                open_tickets: counts.get(&agent).copied().unwrap_or(0),
            })
            .collect();
        let last = store
            .last_auto_assignee(org)
            .await
            .map_err(TicketError::store)?;
        Ok(pick_assignee(&loads, last))
    }

    /// The ticket a reference names, if `user` may see it.
    async fn find(&self, user: TicketUser, r: TicketRef) -> Result<TicketView, TicketError> {
        let stored = match r {
            TicketRef::Id(id) => self.ctx.store.get_ticket(user.org, id).await,
            TicketRef::Number(n) => self.ctx.store.get_ticket_by_number(user.org, n).await,
        }
        .map_err(TicketError::store)?;
        if !user.may_see(&stored.ticket) {
            return Err(TicketError::not_found());
        }
        Ok(stored.into())
    }

    /// A ticket with the comments `user` may see.
    pub async fn get(
        &self,
        user: TicketUser,
        r: TicketRef,
    ) -> Result<TicketWithComments, TicketError> {
        let view = self.find(user, r).await?;
        let comments = self
            .ctx
            .store
            .list_ticket_comments(view.ticket.id, user.is_agent())
            .await
            .map_err(TicketError::store)?;
        Ok(TicketWithComments { view, comments })
    }

    /// The tickets `user` may see that match `filter` (a reporter only ever sees their own).
    pub async fn list(
        &self,
        user: TicketUser,
        mut filter: TicketFilter,
        page: Page,
    ) -> Result<Paged<TicketView>, TicketError> {
        if !user.is_agent() {
            if filter.reporter.is_some_and(|r| r != user.id) {
                return Ok(Paged {
                    items: Vec::new(),
                    total: 0,
                });
            }
            filter.reporter = Some(user.id);
        }
        let page = self
            .ctx
            .store
            .list_tickets(user.org, &filter, page)
            .await
            .map_err(TicketError::store)?;
        Ok(Paged {
            items: page.items.into_iter().map(TicketView::from).collect(),
            total: page.total,
        })
    }

    /// Runs a command on the ticket's actor.
    pub async fn command(
        &self,
        user: TicketUser,
        r: TicketRef,
        command: TicketCommand,
    ) -> Result<TicketOutcome, TicketError> {
        let id = match r {
            TicketRef::Id(id) => id,
            TicketRef::Number(_) => self.find(user, r).await?.ticket.id,
        };
        let key = TicketKey {
            org: user.org,
            ticket: id,
        };
        let (tx, rx) = ractor::concurrency::oneshot();
        let message = TicketMsg::Command {
            caller: user.caller(),
            command,
            reply: tx.into(),
        };
        if self.ctx.tickets.dispatch(&self.ctx, key, message).is_err() {
            return Err(TicketError::Unavailable(
                "the server is not accepting ticket requests".into(),
            ));
        }
        match tokio::time::timeout(self.ctx.config.tickets.call_timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(TicketError::Unavailable(
                "the ticket failed while handling the request; retry".into(),
            )),
            Err(_) => Err(TicketError::Unavailable(
                "the ticket did not answer in time; retry".into(),
            )),
        }
    }

    /// The SLA picture of a ticket now.
    pub async fn sla(&self, user: TicketUser, r: TicketRef) -> Result<SlaView, TicketError> {
        let view = self.find(user, r).await?;
        let id = view.ticket.id;
        let settings = self.settings(user.org).await?;
        let history = self
            .ctx
            .store
            .ticket_history(id)
            .await
            .map_err(TicketError::store)?;
        let clock = SlaClock::replay(settings.sla, &sla_events(&history)).map_err(|e| {
            tracing::error!(ticket = %id, error = %e, "ticket history does not fold");
            TicketError::Internal
        })?;
        let breaches = self
            .ctx
            .store
            .list_sla_breaches(id)
            .await
            .map_err(TicketError::store)?;
        let now = self.now().max(view.ticket.updated_at);
        Ok(SlaView {
            ticket_id: id,
            report: clock.report(now),
            breaches,
        })
    }

    /// A page of the activity log (agents only: it names internal notes).
    pub async fn activity(
        &self,
        user: TicketUser,
        r: TicketRef,
        page: Page,
    ) -> Result<Paged<TicketActivity>, TicketError> {
        let view = self.find(user, r).await?;
        if !user.is_agent() {
            return Err(TicketError::Forbidden(
                "only agents may read a ticket's activity log".into(),
            ));
        }
        self.ctx
            .store
            .list_ticket_activity(view.ticket.id, page)
            .await
            .map_err(TicketError::store)
    }

    /// The organization's ticket settings (agents).
    pub async fn get_settings(&self, user: TicketUser) -> Result<TicketSettings, TicketError> {
        if !user.is_agent() {
            return Err(TicketError::Forbidden(
                "only agents may read the ticket settings".into(),
            ));
        }
        self.settings(user.org).await
    }

    /// Replaces the organization's ticket settings; open tickets pick up the new SLA policy.
    pub async fn put_settings(
        &self,
        user: TicketUser,
        settings: TicketSettings,
    ) -> Result<TicketSettings, TicketError> {
        if !user.role.can(SETTINGS_PERMISSION) {
            return Err(TicketError::Forbidden(format!(
                "your role ({}) lacks the permission {SETTINGS_PERMISSION}",
                user.role
            )));
        }
        validate_tag_rules(&settings.tag_rules)
            .map_err(|e| TicketError::Invalid(format!("tag_rules: {e}")))?;
        self.ctx
            .store
            .put_ticket_settings(user.org, &settings, self.now())
            .await
            .map_err(TicketError::store)?;
        let open = self
            .ctx
            .store
            .unfinished_tickets(user.org)
            .await
            .map_err(TicketError::store)?;
        for ticket in open {
            let key = TicketKey {
                org: user.org,
                ticket,
            };
            let _ = self
                .ctx
                .tickets
                .dispatch(&self.ctx, key, TicketMsg::ReloadPolicy);
        }
        Ok(settings)
    }

    /// Starts pushes of one ticket (`Some`) or of the organization's queue (`None`, agents
    /// only) to a session.
    pub async fn watch(
        &self,
        user: TicketUser,
        session: SessionId,
        outbox: Arc<SessionOutbox>,
        ticket: Option<TicketId>,
    ) -> Result<(), TicketError> {
        let watcher = Watcher {
            session,
            user: user.id,
            agent: user.is_agent(),
            outbox: outbox.clone(),
        };
        match ticket {
            None => {
                if !user.is_agent() {
                    return Err(TicketError::Forbidden(
                        "only agents may watch the ticket queue".into(),
                    ));
                }
                self.ctx.ticket_watchers.watch_queue(user.org, watcher);
            }
            Some(id) => {
                self.find(user, TicketRef::Id(id)).await?;
                self.ctx
                    .ticket_watchers
                    .watch_ticket(id, watcher)
                    .map_err(|_| {
                        TicketError::Invalid(format!(
                            "a session may watch at most {} tickets",
                            crate::ticket::watchers::MAX_WATCHED_TICKETS
                        ))
                    })?;
            }
        }
        // The session may have closed while access was checked: forget it again.
        if outbox.is_closed() {
            self.ctx.ticket_watchers.remove_session(session);
        }
        Ok(())
    }

    /// Stops pushes of a ticket (or the queue) to a session.
    pub fn unwatch(&self, user: TicketUser, session: SessionId, ticket: Option<TicketId>) {
        match ticket {
            None => self.ctx.ticket_watchers.unwatch_queue(user.org, session),
            Some(id) => self.ctx.ticket_watchers.unwatch_ticket(id, session),
        }
    }

    /// Number of ticket actors running (tests, metrics).
    pub fn running(&self) -> usize {
        self.ctx.tickets.len()
    }

    /// The armed SLA deadline of a ticket (tests).
    pub fn armed_deadline(&self, org: OrgId, ticket: TicketId) -> Option<OffsetDateTime> {
        self.ctx.ticket_timers.armed(TicketKey { org, ticket })
    }

    /// Test hook: makes a running ticket actor panic.
    #[cfg(feature = "fault-injection")]
    pub fn crash(&self, org: OrgId, ticket: TicketId) -> bool {
        self.ctx
            .tickets
            .dispatch(&self.ctx, TicketKey { org, ticket }, TicketMsg::Crash)
            .is_ok()
    }
}

/// Input rules for ticket fields.
pub mod validate {
    use std::collections::BTreeSet;

    use atrium_core::ticket::records::{
        MAX_DESCRIPTION_CHARS, MAX_METADATA_BYTES, MAX_SUBJECT_CHARS, MAX_TAGS_PER_TICKET,
    };
    use atrium_core::ticket::tagging::MAX_TAG_CHARS;

    use crate::ticket::TicketError;

    /// Trimmed, 1–200 characters, no control characters.
    pub fn subject(s: &str) -> Result<String, TicketError> {
        let s = s.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(TicketError::Invalid("subject: must not be empty".into()));
        }
        if len > MAX_SUBJECT_CHARS {
            return Err(TicketError::Invalid(format!(
                "subject: must be at most {MAX_SUBJECT_CHARS} characters long (got {len})"
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(TicketError::Invalid(
                "subject: must not contain control characters".into(),
            ));
        }
        Ok(s.to_owned())
    }

    /// Trimmed, at most 20,000 characters (may be empty).
    pub fn description(s: &str) -> Result<String, TicketError> {
        let s = s.trim();
        let len = s.chars().count();
        if len > MAX_DESCRIPTION_CHARS {
            return Err(TicketError::Invalid(format!(
                "description: must be at most {MAX_DESCRIPTION_CHARS} characters long (got {len})"
            )));
        }
        Ok(s.to_owned())
    }

    /// Lower-cased; each 1–32 characters of `a-z`, `0-9`, `_`, `-`; at most 20.
    pub fn tags(tags: BTreeSet<String>) -> Result<BTreeSet<String>, TicketError> {
        let tags: BTreeSet<String> = tags.into_iter().map(|t| t.trim().to_lowercase()).collect();
        if tags.len() > MAX_TAGS_PER_TICKET {
            return Err(TicketError::Invalid(format!(
                "tags: at most {MAX_TAGS_PER_TICKET} tags per ticket (got {})",
                tags.len()
            )));
        }
        for tag in &tags {
            let ok = !tag.is_empty()
                && tag.len() <= MAX_TAG_CHARS
                && tag.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !ok {
                return Err(TicketError::Invalid(format!(
                    "tags: {tag:?} is not a tag (1 to {MAX_TAG_CHARS} characters of a-z, 0-9, _ and -)"
                )));
            }
        }
        Ok(tags)
    }

    /// At most 8 KiB of JSON.
    pub fn metadata(m: &serde_json::Map<String, serde_json::Value>) -> Result<(), TicketError> {
        let size = serde_json::to_string(m)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        if size > MAX_METADATA_BYTES {
            return Err(TicketError::Invalid(format!(
                "metadata: must be at most {MAX_METADATA_BYTES} bytes of JSON (got {size})"
            )));
        }
        Ok(())
    }
}
