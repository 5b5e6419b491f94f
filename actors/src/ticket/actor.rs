//! `TicketActor`: one per ticket in use. It owns the ticket's state machine and SLA clock.
//!
//! Every change to a ticket is a command to its actor, so changes to one ticket are applied one
//! at a time, each checked against the state it really is in. A command is turned into activity
//! entries and SLA events, the events are folded into a copy of the clock, and the new state is
//! written in one transaction; only then does the actor adopt it, answer, push to watchers, and
//! arm the ticket's timer for the clock's next deadline. A target that the new state breaches
//! (a priority escalation can do that at once), or that breaches when the timer fires, is
//! recorded once, pushed as `ticket.sla_breach` and stored as a notification.
//!
//! The actor starts lazily, stops when idle (its timer stays armed in `SlaTimers`), and a new
//! incarnation rebuilds everything from the store: the ticket row, the organization's policy,
//! the activity log (replayed into the clock) and the recorded breaches.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde_json::json;
use time::OffsetDateTime;

use atrium_core::ids::{NotificationId, TicketCommentId, UserId};
use atrium_core::notification::{KIND_TICKET_SLA_BREACH, Notification};
use atrium_core::protocol::ServerFrame;
use atrium_core::protocol::ticket::CommentPush;
use atrium_core::ticket::records::{
    ActivityAction, MAX_COMMENT_CHARS, NewActivity, SlaBreach, SlaTarget, TicketComment,
    TicketSlaState, TicketSurvey, comment_author_kind, sla_events,
};
use atrium_core::ticket::sla::SlaReport;
use atrium_core::ticket::{
    ActorKind, SlaClock, SlaEvent, SlaOutcome, Ticket, TicketStatus, transition,
};
use atrium_persistence::store::StoreError;
use atrium_persistence::ticket_store::{BreachRecord, TicketChange};

use crate::context::Context;
use crate::ticket::service::{agent_roles, validate};
use crate::ticket::watchers::Audience;
use crate::ticket::{
    TicketCaller, TicketCommand, TicketError, TicketMsg, TicketOutcome, TicketPatch, TicketShared,
    TicketView,
};
use crate::wire;

pub struct TicketActor;

pub struct TicketState {
    ctx: Arc<Context>,
    shared: Arc<TicketShared>,
    /// `None` when the ticket does not exist in the key's organization.
    loaded: Option<Loaded>,
    last_command: Instant,
}

/// The ticket as this incarnation knows it (always equal to what the store holds).
struct Loaded {
    ticket: Ticket,
    sla: TicketSlaState,
    clock: SlaClock,
    /// Targets whose breach is already recorded.
    recorded: BTreeSet<SlaTarget>,
}

/// What a command changed, before it is written.
struct Draft {
    ticket: Ticket,
    activity: Vec<NewActivity>,
    events: Vec<SlaEvent>,
    changes: Vec<String>,
    comment: Option<TicketComment>,
}

impl Draft {
    fn status(
        &mut self,
        to: TicketStatus,
        kind: ActorKind,
        by: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<(), TicketError> {
        let from = self.ticket.status;
        transition(from, to, kind)?;
        self.activity
            .push(NewActivity::new(by, ActivityAction::Status, from, to, now));
        self.ticket.status = to;
        match to {
            TicketStatus::Resolved => self.ticket.resolved_at = Some(now),
            TicketStatus::Closed => self.ticket.closed_at = Some(now),
            _ if from.is_done() => {
                self.ticket.resolved_at = None;
                self.ticket.closed_at = None;
            }
            _ => {}
        }
        self.events.push(SlaEvent::StatusChanged { at: now, to });
        self.change("status");
        Ok(())
    }

    fn change(&mut self, field: &str) {
        if !self.changes.iter().any(|c| c == field) {
            self.changes.push(field.to_owned());
        }
    }
}

async fn load(ctx: &Context, shared: &TicketShared) -> Result<Option<Loaded>, StoreError> {
    let key = shared.key;
    let stored = match ctx.store.get_ticket(key.org, key.ticket).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let settings = ctx
        .store
        .get_ticket_settings(key.org)
        .await?
        .unwrap_or_default();
    let history = ctx.store.ticket_history(key.ticket).await?;
    let events = sla_events(&history);
    let clock = match SlaClock::replay(settings.sla.clone(), &events) {
        Ok(clock) => clock,
        Err(error) => {
            tracing::error!(ticket = %key.ticket, %error, "ticket history does not fold; SLA clock starts from the ticket row");
            SlaClock::new(
                settings.sla,
                stored.ticket.created_at,
                stored.ticket.priority,
            )
        }
    };
    let recorded = ctx
        .store
        .list_sla_breaches(key.ticket)
        .await?
        .into_iter()
        .map(|b| b.target)
        .collect();
    Ok(Some(Loaded {
        ticket: stored.ticket,
        sla: stored.sla,
        clock,
        recorded,
    }))
}

impl Actor for TicketActor {
    type Msg = TicketMsg;
    type State = TicketState;
    type Arguments = (Arc<Context>, Arc<TicketShared>);

    async fn pre_start(
        &self,
        myself: ActorRef<TicketMsg>,
        (ctx, shared): (Arc<Context>, Arc<TicketShared>),
    ) -> Result<TicketState, ActorProcessingErr> {
        let loaded = load(&ctx, &shared).await?;
        let tick = (ctx.config.tickets.idle_timeout / 2).max(Duration::from_millis(10));
        myself.send_interval(tick, || TicketMsg::IdleTick);
        Ok(TicketState {
            ctx,
            shared,
            loaded,
            last_command: Instant::now(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<TicketMsg>,
        message: TicketMsg,
        state: &mut TicketState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            TicketMsg::Command {
                caller,
                command,
                reply,
            } => {
                state.last_command = Instant::now();
                let result = match state.loaded.as_mut() {
                    None => Err(TicketError::not_found()),
                    Some(loaded) => {
                        execute(&state.ctx, &state.shared, loaded, caller, command).await
                    }
                };
                let _ = reply.send(result);
                state.shared.slot.handled();
            }
            TicketMsg::Deadline => {
                if let Some(loaded) = state.loaded.as_mut() {
                    let now = state.ctx.config.tickets.clock.now();
                    settle(&state.ctx, &state.shared, loaded, now).await?;
                }
            }
            TicketMsg::ReloadPolicy => {
                if let Some(loaded) = state.loaded.as_mut() {
                    let settings = state
                        .ctx
                        .store
                        .get_ticket_settings(state.shared.key.org)
                        .await?
                        .unwrap_or_default();
                    loaded.clock.set_policy(settings.sla);
                    let now = state.ctx.config.tickets.clock.now();
                    settle(&state.ctx, &state.shared, loaded, now).await?;
                }
            }
            TicketMsg::IdleTick => {
                let idle = state.loaded.is_none()
                    || state.last_command.elapsed() >= state.ctx.config.tickets.idle_timeout;
                if idle && state.ctx.tickets.retire(&state.shared, myself.get_id()) {
                    state.ctx.count(|c| c.tickets_retired += 1);
                    myself.stop(None);
                }
            }
            #[cfg(feature = "fault-injection")]
            TicketMsg::Crash => panic!(
                "fault injection: ticket {} crashed",
                state.shared.key.ticket
            ),
        }
        Ok(())
    }
}

/// Who the caller is to this ticket; a user who is neither its reporter nor an agent does not
/// see it at all.
fn actor_kind(ticket: &Ticket, caller: TicketCaller) -> Result<ActorKind, TicketError> {
    if caller.agent {
        Ok(ActorKind::Agent)
    } else if caller.user == ticket.reporter_id {
        Ok(ActorKind::Reporter)
    } else {
        Err(TicketError::not_found())
    }
}

async fn execute(
    ctx: &Arc<Context>,
    shared: &TicketShared,
    loaded: &mut Loaded,
    caller: TicketCaller,
    command: TicketCommand,
) -> Result<TicketOutcome, TicketError> {
    let kind = actor_kind(&loaded.ticket, caller)?;
    let now = ctx.config.tickets.clock.now().max(loaded.ticket.updated_at);
    let by = Some(caller.user);
    let mut draft = Draft {
        ticket: loaded.ticket.clone(),
        activity: Vec::new(),
        events: Vec::new(),
        changes: Vec::new(),
        comment: None,
    };
    match command {
        TicketCommand::Patch(patch) => apply_patch(&mut draft, patch, kind, by, now)?,
        TicketCommand::Assign(assignee) => {
            if kind != ActorKind::Agent {
                return Err(TicketError::Forbidden(
                    "only an agent may assign or unassign a ticket".into(),
                ));
            }
            if let Some(agent) = assignee {
                check_assignee(ctx, shared.key.org, agent).await?;
            }
            if draft.ticket.assignee_id != assignee {
                draft.activity.push(NewActivity::new(
                    by,
                    ActivityAction::Assignee,
                    draft.ticket.assignee_id,
                    assignee,
                    now,
                ));
                draft.ticket.assignee_id = assignee;
                draft.change("assignee");
            }
        }
        TicketCommand::Comment { body, internal } => {
            comment(&mut draft, caller.user, kind, &body, internal, now)?;
        }
        TicketCommand::Reopen => {
            if !draft.ticket.status.is_done() {
                return Err(TicketError::Conflict(format!(
                    "only a resolved or closed ticket can be reopened (this one is {})",
                    draft.ticket.status
                )));
            }
            draft.status(TicketStatus::Open, kind, by, now)?;
        }
        TicketCommand::Survey(answer) => {
            return survey(ctx, loaded, caller, answer, now).await;
        }
    }
    if draft.activity.is_empty() {
        // Nothing changed (a patch repeating current values): nothing to write or push.
        return Ok(TicketOutcome {
            ticket: view(loaded),
            comment: None,
        });
    }
    draft.ticket.updated_at = now;
    let mut clock = loaded.clock.clone();
    for event in &draft.events {
        if let Err(error) = clock.apply(event) {
            tracing::error!(ticket = %shared.key.ticket, %error, "SLA event refused");
        }
    }
    let report = clock.report(now);
    let sla = TicketSlaState {
        next_deadline: report.next_deadline,
        breached: loaded.sla.breached,
    };
    ctx.store
        .update_ticket(TicketChange {
            ticket: &draft.ticket,
            sla,
            comment: draft.comment.as_ref(),
            activity: &draft.activity,
        })
        .await
        .map_err(TicketError::store)?;
    loaded.ticket = draft.ticket;
    loaded.clock = clock;
    loaded.sla = sla;
    ctx.ticket_timers.arm(shared.key, sla.next_deadline);

    if !draft.changes.is_empty() {
        ctx.ticket_watchers.push(
            shared.key.org,
            shared.key.ticket,
            Audience::Everyone,
            &ServerFrame::TicketUpdated {
                ticket: Box::new(loaded.ticket.clone()),
                breached: loaded.sla.breached,
                changes: draft.changes,
            },
        );
    }
    if let Some(c) = &draft.comment {
        ctx.ticket_watchers.push(
            shared.key.org,
            shared.key.ticket,
            if c.internal {
                Audience::Agents
            } else {
                Audience::Everyone
            },
            &ServerFrame::TicketComment {
                ticket: c.ticket_id,
                comment: CommentPush {
                    id: c.id,
                    author: c.author_id,
                    body: c.body.clone(),
                    internal: c.internal,
                    ts: wire::unix_ms(c.created_at),
                },
            },
        );
    }
    record_breaches(ctx, shared, loaded, &report, now)
        .await
        .map_err(TicketError::store)?;
    Ok(TicketOutcome {
        ticket: view(loaded),
        comment: draft.comment,
    })
}

fn view(loaded: &Loaded) -> TicketView {
    TicketView {
        ticket: loaded.ticket.clone(),
        sla_breached: loaded.sla.breached,
    }
}

fn apply_patch(
    draft: &mut Draft,
    patch: TicketPatch,
    kind: ActorKind,
    by: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), TicketError> {
    if patch == TicketPatch::default() {
        return Err(TicketError::Invalid("nothing to change".into()));
    }
    let agent_only = [
        (patch.priority.is_some(), "priority"),
        (patch.ticket_type.is_some(), "type"),
        (patch.subject.is_some(), "subject"),
        (patch.description.is_some(), "description"),
        (patch.tags.is_some(), "tags"),
        (patch.metadata.is_some(), "metadata"),
    ];
    if kind != ActorKind::Agent
        && let Some((_, field)) = agent_only.iter().find(|(set, _)| *set)
    {
        return Err(TicketError::Forbidden(format!(
            "only an agent may change the {field} of a ticket"
        )));
    }
    let t = &mut draft.ticket;
    let mut activity = Vec::new();
    let mut changes = Vec::new();
    if let Some(subject) = patch.subject {
        let subject = validate::subject(&subject)?;
        if subject != t.subject {
            activity.push(NewActivity::new(
                by,
                ActivityAction::Subject,
                &t.subject,
                &subject,
                now,
            ));
            t.subject = subject;
            changes.push("subject");
        }
    }
    if let Some(description) = patch.description {
        let description = validate::description(&description)?;
        if description != t.description {
            activity.push(NewActivity::new(
                by,
                ActivityAction::Description,
                (),
                (),
                now,
            ));
            t.description = description;
            changes.push("description");
        }
    }
    if let Some(tags) = patch.tags {
        let tags = validate::tags(tags)?;
        if tags != t.tags {
            activity.push(NewActivity::new(
                by,
                ActivityAction::Tags,
                &t.tags,
                &tags,
                now,
            ));
            t.tags = tags;
            changes.push("tags");
        }
    }
    if let Some(metadata) = patch.metadata {
        validate::metadata(&metadata)?;
        if metadata != t.metadata {
            activity.push(NewActivity::new(
                by,
                ActivityAction::Metadata,
                &t.metadata,
                &metadata,
                now,
            ));
            t.metadata = metadata;
            changes.push("metadata");
        }
    }
    if let Some(kind_) = patch.ticket_type
        && kind_ != t.ticket_type
    {
        activity.push(NewActivity::new(
            by,
            ActivityAction::Type,
            t.ticket_type,
            kind_,
            now,
        ));
        t.ticket_type = kind_;
        changes.push("type");
    }
    if let Some(priority) = patch.priority
        && priority != t.priority
    {
        activity.push(NewActivity::new(
            by,
            ActivityAction::Priority,
            t.priority,
            priority,
            now,
        ));
        t.priority = priority;
        draft
            .events
            .push(SlaEvent::PriorityChanged { at: now, priority });
        changes.push("priority");
    }
    draft.activity.extend(activity);
    for c in changes {
        draft.change(c);
    }
    if let Some(status) = patch.status {
        draft.status(status, kind, by, now)?;
    }
    Ok(())
}

fn comment(
    draft: &mut Draft,
    author: UserId,
    kind: ActorKind,
    body: &str,
    internal: bool,
    now: OffsetDateTime,
) -> Result<(), TicketError> {
    let body = body.trim();
    let len = body.chars().count();
    if len == 0 {
        return Err(TicketError::Invalid("body: must not be empty".into()));
    }
    if len > MAX_COMMENT_CHARS {
        return Err(TicketError::Invalid(format!(
            "body: must be at most {MAX_COMMENT_CHARS} characters long (got {len})"
        )));
    }
    if internal && kind != ActorKind::Agent {
        return Err(TicketError::Forbidden(
            "only agents may write internal notes".into(),
        ));
    }
    let author_kind = comment_author_kind(Some(author), draft.ticket.reporter_id);
    let c = TicketComment {
        id: TicketCommentId::new(),
        ticket_id: draft.ticket.id,
        author_id: Some(author),
        body: body.to_owned(),
        internal,
        created_at: now,
    };
    draft.activity.push(NewActivity::new(
        Some(author),
        ActivityAction::Comment,
        (),
        json!({"comment_id": c.id, "internal": internal, "author": author_kind}),
        now,
    ));
    draft.events.push(SlaEvent::Commented {
        at: now,
        author: author_kind,
        internal,
    });
    if !internal && author_kind == ActorKind::Agent && draft.ticket.first_response_at.is_none() {
        draft.ticket.first_response_at = Some(now);
        draft.change("first_response_at");
    }
    // The reporter answered: the ticket stops waiting for them.
    if !internal
        && author_kind == ActorKind::Reporter
        && draft.ticket.status == TicketStatus::WaitingForUser
    {
        draft.status(TicketStatus::Open, ActorKind::Reporter, Some(author), now)?;
    }
    draft.comment = Some(c);
    Ok(())
}

async fn check_assignee(
    ctx: &Context,
    org: atrium_core::ids::OrgId,
    agent: UserId,
) -> Result<(), TicketError> {
    let not_agent = || {
        TicketError::Invalid(format!(
            "assignee_id: {agent} is not an active agent of this organization"
        ))
    };
    match ctx.store.get_user(agent).await {
        Ok(user) if user.org_id == org && user.active && agent_roles().contains(&user.role) => {
            Ok(())
        }
        Ok(_) | Err(StoreError::NotFound) => Err(not_agent()),
        Err(e) => Err(TicketError::store(e)),
    }
}

async fn survey(
    ctx: &Context,
    loaded: &Loaded,
    caller: TicketCaller,
    answer: atrium_core::ticket::SatisfactionSurvey,
    now: OffsetDateTime,
) -> Result<TicketOutcome, TicketError> {
    let t = &loaded.ticket;
    if caller.user != t.reporter_id {
        return Err(TicketError::Forbidden(
            "only the reporter may answer the survey".into(),
        ));
    }
    if t.status != TicketStatus::Closed {
        return Err(TicketError::Conflict(format!(
            "the survey opens when the ticket is closed (this one is {})",
            t.status
        )));
    }
    let survey = TicketSurvey {
        ticket_id: t.id,
        reporter_id: caller.user,
        rating: answer.rating(),
        comment: answer.comment().map(str::to_owned),
        created_at: now,
    };
    let activity = NewActivity::new(
        Some(caller.user),
        ActivityAction::Survey,
        (),
        json!({"rating": survey.rating.get()}),
        now,
    );
    match ctx
        .store
        .insert_ticket_survey(t.org_id, &survey, &activity)
        .await
    {
        Ok(()) => Ok(TicketOutcome {
            ticket: view(loaded),
            comment: None,
        }),
        Err(StoreError::Conflict(_)) => Err(TicketError::Conflict(
            "the survey of this ticket was already answered".into(),
        )),
        Err(e) => Err(TicketError::store(e)),
    }
}

/// A timer fired or the policy changed: record what breached by `now`, store the SLA state if
/// it moved, and arm the next deadline.
async fn settle(
    ctx: &Arc<Context>,
    shared: &TicketShared,
    loaded: &mut Loaded,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let report = loaded.clock.report(now);
    record_breaches(ctx, shared, loaded, &report, now).await?;
    let sla = TicketSlaState {
        next_deadline: report.next_deadline,
        breached: loaded.sla.breached,
    };
    if sla != loaded.sla {
        ctx.store.set_ticket_sla(shared.key.ticket, sla).await?;
        loaded.sla = sla;
    }
    ctx.ticket_timers.arm(shared.key, sla.next_deadline);
    Ok(())
}

/// Records (once each), pushes and notifies every target `report` shows breached.
async fn record_breaches(
    ctx: &Arc<Context>,
    shared: &TicketShared,
    loaded: &mut Loaded,
    report: &SlaReport,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let targets = [
        (SlaTarget::Response, &report.response),
        (SlaTarget::Resolution, &report.resolution),
    ];
    for (target, t) in targets {
        if t.outcome != SlaOutcome::Breached || loaded.recorded.contains(&target) {
            continue;
        }
        let Some(deadline) = t.deadline else { continue };
        let ticket = &loaded.ticket;
        let breach = SlaBreach {
            ticket_id: ticket.id,
            org_id: ticket.org_id,
            target,
            deadline,
            recorded_at: now,
        };
        let recipients = match ticket.assignee_id {
            Some(a) => vec![a],
            None => {
                ctx.store
                    .users_with_roles(ticket.org_id, &agent_roles())
                    .await?
            }
        };
        let payload = json!({
            "ticket_id": ticket.id,
            "number": ticket.number,
            "subject": ticket.subject,
            "target": target,
            "deadline": wire::unix_ms(deadline),
        });
        let notifications: Vec<Notification> = recipients
            .into_iter()
            .map(|user| Notification {
                id: NotificationId::new(),
                org_id: ticket.org_id,
                user_id: user,
                kind: KIND_TICKET_SLA_BREACH.to_owned(),
                payload: payload.clone(),
                created_at: now,
                read_at: None,
            })
            .collect();
        let activity = NewActivity::new(
            None,
            ActivityAction::SlaBreach,
            (),
            json!({"target": target, "deadline": wire::unix_ms(deadline)}),
            now,
        );
        let fresh = ctx
            .store
            .record_sla_breach(BreachRecord {
                breach: &breach,
                activity: &activity,
                notifications: &notifications,
            })
            .await?;
        loaded.recorded.insert(target);
        loaded.sla.breached = true;
        if fresh {
            tracing::info!(ticket = %ticket.id, number = %ticket.number, target = target.as_str(), "SLA target breached");
            ctx.count(|c| c.sla_breaches += 1);
            ctx.ticket_watchers.push(
                shared.key.org,
                shared.key.ticket,
                Audience::Everyone,
                &ServerFrame::TicketSlaBreach {
                    ticket: ticket.id,
                    number: ticket.number,
                    target,
                    deadline: wire::unix_ms(deadline),
                },
            );
        }
    }
    Ok(())
}
