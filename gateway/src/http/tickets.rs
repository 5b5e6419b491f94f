//! `/api/v1/tickets/*`: support tickets.
//!
//! The handlers parse and map; the rules (who sees what, the state machine, SLA, tagging,
//! assignment) live in the ticket subsystem of the realtime core (`atrium_actors::ticket`), so
//! HTTP and live sessions share them, and every change goes through the ticket's actor. A node
//! without the realtime core answers these routes with 503.
//!
//! Visibility: agents (moderators, admins, `tickets.agent`) see their organization's tickets,
//! everybody else only the tickets they reported; any other ticket, and every ticket of another
//! organization, is `404`.

use std::collections::BTreeSet;

use atrium_actors::ticket::service::{TicketDraft, TicketRef, TicketUser};
use atrium_actors::ticket::{
    TicketCommand, TicketError, TicketOutcome, TicketPatch, TicketView, TicketWithComments, Tickets,
};
use atrium_core::ids::UserId;
use atrium_core::ticket::records::{TicketActivity, TicketSettings};
use atrium_core::ticket::{Priority, SatisfactionSurvey, TicketStatus, TicketType};
use atrium_persistence::ticket_store::TicketFilter;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody, codes};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::views::Pagination;
use crate::AppState;
use crate::service::Caller;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", get(list_tickets).post(create_ticket))
        .route(
            "/api/v1/tickets/settings",
            get(get_settings).put(put_settings),
        )
        .route("/api/v1/tickets/{id}", get(get_ticket).patch(patch_ticket))
        .route("/api/v1/tickets/{id}/assign", post(assign_ticket))
        .route("/api/v1/tickets/{id}/comments", post(comment_ticket))
        .route("/api/v1/tickets/{id}/close", post(close_ticket))
        .route("/api/v1/tickets/{id}/reopen", post(reopen_ticket))
        .route("/api/v1/tickets/{id}/survey", post(survey_ticket))
        .route("/api/v1/tickets/{id}/sla", get(ticket_sla))
        .route("/api/v1/tickets/{id}/activity", get(ticket_activity))
}

#[derive(OpenApi)]
#[openapi(paths(
    list_tickets,
    create_ticket,
    get_settings,
    put_settings,
    get_ticket,
    patch_ticket,
    assign_ticket,
    comment_ticket,
    close_ticket,
    reopen_ticket,
    survey_ticket,
    ticket_sla,
    ticket_activity
))]
pub struct TicketsApi;

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        let message = e.to_string();
        match e {
            TicketError::NotFound(_) => ApiError::not_found(message),
            TicketError::Forbidden(_) => {
                ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
            }
            TicketError::Invalid(_) => ApiError::invalid(message),
            TicketError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, codes::CONFLICT, message)
            }
            TicketError::Unavailable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE, message)
            }
            TicketError::Internal => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                "internal error; see the server log",
            ),
        }
    }
}

fn tickets(state: &AppState) -> Result<Tickets, ApiError> {
    state
        .realtime
        .as_ref()
        .map(|live| live.realtime.tickets())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                "tickets need the realtime core, which is not running on this node",
            )
        })
}

fn user(caller: &Caller) -> TicketUser {
    TicketUser {
        id: caller.id(),
        org: caller.org(),
        role: caller.role(),
    }
}

fn reference(id: &str) -> Result<TicketRef, ApiError> {
    id.parse::<TicketRef>().map_err(ApiError::from)
}

// ---- documentation shapes (the JSON the handlers produce) ----

/// A ticket type, as it appears in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum TicketTypeName {
    Support,
    Bug,
    FeatureRequest,
    Question,
    Feedback,
}

/// A priority, as it appears in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum PriorityName {
    Low,
    Medium,
    High,
    Urgent,
}

/// A status, as it appears in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum TicketStatusName {
    New,
    Open,
    InProgress,
    WaitingForUser,
    Resolved,
    Closed,
}

/// A support ticket.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct TicketDoc {
    id: uuid::Uuid,
    org_id: uuid::Uuid,
    /// Per organization: `T-000042`.
    #[schema(example = "T-000042")]
    number: String,
    #[serde(rename = "type")]
    ticket_type: TicketTypeName,
    priority: PriorityName,
    status: TicketStatusName,
    subject: String,
    description: String,
    reporter_id: uuid::Uuid,
    assignee_id: Option<uuid::Uuid>,
    tags: Vec<String>,
    metadata: serde_json::Value,
    /// RFC 3339.
    created_at: String,
    updated_at: String,
    first_response_at: Option<String>,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    /// Whether an SLA target was breached (recorded).
    sla_breached: bool,
}

/// A comment; `internal` notes are only ever shown to agents.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct CommentDoc {
    id: uuid::Uuid,
    ticket_id: uuid::Uuid,
    /// `null` for automatic comments.
    author_id: Option<uuid::Uuid>,
    body: String,
    internal: bool,
    created_at: String,
}

/// A ticket with the comments the caller may see.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct TicketDetailDoc {
    #[serde(flatten)]
    ticket: TicketDoc,
    comments: Vec<CommentDoc>,
}

/// A page of tickets, most urgent first, then oldest first.
#[derive(Serialize, ToSchema)]
pub struct TicketList {
    #[schema(value_type = Vec<TicketDoc>)]
    pub items: Vec<TicketView>,
    pub total: u64,
}

/// The result of posting a comment: the comment and the ticket after it.
#[derive(Serialize, ToSchema)]
pub struct CommentPosted {
    #[schema(value_type = CommentDoc)]
    pub comment: Option<atrium_core::ticket::records::TicketComment>,
    #[schema(value_type = TicketDoc)]
    pub ticket: TicketView,
}

/// One activity entry: who changed what, with the value before and after.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct ActivityDoc {
    id: i64,
    ticket_id: uuid::Uuid,
    /// `null` for the system (auto-assignment, SLA timers).
    actor_id: Option<uuid::Uuid>,
    /// `created`, `status`, `priority`, `type`, `subject`, `description`, `assignee`, `tags`,
    /// `metadata`, `comment`, `sla_breach`, `survey`.
    action: String,
    before: serde_json::Value,
    after: serde_json::Value,
    at: String,
}

/// A page of the activity log, oldest first.
#[derive(Serialize, ToSchema)]
pub struct ActivityList {
    #[schema(value_type = Vec<ActivityDoc>)]
    pub items: Vec<TicketActivity>,
    pub total: u64,
}

/// The SLA of a ticket now (see docs/tickets.md for the fields).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct SlaDoc {
    ticket_id: uuid::Uuid,
    at: String,
    priority: PriorityName,
    /// `running`, `paused` or `stopped`.
    state: String,
    business_hours: bool,
    first_response_at: Option<String>,
    /// `{target_secs, elapsed_secs, remaining_secs, deadline, ended_at, outcome}`.
    response: serde_json::Value,
    resolution: serde_json::Value,
    paused_secs: i64,
    next_deadline: Option<String>,
    /// `[{ticket_id, org_id, target, deadline, recorded_at}]`
    breaches: Vec<serde_json::Value>,
}

/// An organization's ticket settings: `{"sla": {...}, "tag_rules": [...]}` (see docs/tickets.md).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct SettingsDoc {
    sla: serde_json::Value,
    tag_rules: Vec<serde_json::Value>,
}

// ---- requests ----

/// A ticket to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    #[serde(rename = "type")]
    #[schema(value_type = TicketTypeName)]
    pub ticket_type: TicketType,
    #[schema(value_type = PriorityName)]
    pub priority: Priority,
    /// 1–200 characters.
    pub subject: String,
    /// Up to 20,000 characters.
    #[serde(default)]
    pub description: String,
    /// Free-form context (app version, page); at most 8 KiB of JSON.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// Fields to change; absent fields stay. Reporters may only change `status` (within the state
/// machine); agents may change everything.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTicket {
    #[schema(value_type = Option<TicketStatusName>)]
    pub status: Option<TicketStatus>,
    #[schema(value_type = Option<PriorityName>)]
    pub priority: Option<Priority>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<TicketTypeName>)]
    pub ticket_type: Option<TicketType>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub tags: Option<BTreeSet<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An agent to assign, or `null` to unassign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTicket {
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assignee_id: Option<UserId>,
}

/// A comment to post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostComment {
    /// 1–10,000 characters.
    pub body: String,
    /// An internal note, for agents only (default `false`).
    #[serde(default)]
    pub internal: bool,
}

/// The satisfaction survey: a rating from 1 to 5 and an optional comment (≤ 2,000 characters).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documentation only
pub struct SurveyDoc {
    rating: u8,
    comment: Option<String>,
}

/// List filters (all optional) and pagination.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `new`, `open`, `in_progress`, `waiting_for_user`, `resolved`, `closed`.
    pub status: Option<String>,
    /// `low`, `medium`, `high`, `urgent`.
    pub priority: Option<String>,
    /// `support`, `bug`, `feature_request`, `question`, `feedback`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub ticket_type: Option<String>,
    /// A user id, or `none` for unassigned tickets.
    pub assignee: Option<String>,
    /// A user id.
    pub reporter: Option<String>,
    pub tag: Option<String>,
    /// `true` or `false`.
    pub breached: Option<String>,
    /// Items per page, 1–200 (default 50).
    pub limit: Option<u32>,
    /// Items to skip (default 0).
    pub offset: Option<u32>,
}

fn parse<T>(
    name: &str,
    value: Option<&str>,
    f: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            f(v).ok_or_else(|| ApiError::invalid(format!("{name}: {v:?} is not a valid value")))
        })
        .transpose()
}

impl ListQuery {
    fn filter(&self) -> Result<TicketFilter, ApiError> {
        let user = |v: &str| v.parse::<UserId>().ok();
        Ok(TicketFilter {
            status: parse("status", self.status.as_deref(), TicketStatus::parse)?,
            priority: parse("priority", self.priority.as_deref(), Priority::parse)?,
            ticket_type: parse("type", self.ticket_type.as_deref(), TicketType::parse)?,
            assignee: parse("assignee", self.assignee.as_deref(), |v| {
                if v == "none" {
                    Some(None)
                } else {
                    user(v).map(Some)
                }
            })?,
            reporter: parse("reporter", self.reporter.as_deref(), user)?,
            tag: self.tag.as_ref().map(|t| t.trim().to_lowercase()),
            breached: parse("breached", self.breached.as_deref(), |v| match v {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            })?,
        })
    }
}

// ---- handlers ----

/// Tickets you may see, filtered, most urgent first, then oldest first.
#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "tickets",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of tickets", body = TicketList),
        (status = 400, description = "A filter value that does not parse", body = ErrorBody),
        (status = 503, description = "The realtime core is not running", body = ErrorBody),
    )
)]
pub async fn list_tickets(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<TicketList>, ApiError> {
    let page = Pagination {
        limit: query.limit,
        offset: query.offset,
    }
    .page()?;
    let filter = query.filter()?;
    let paged = tickets(&state)?.list(user(&caller), filter, page).await?;
    Ok(Json(TicketList {
        items: paged.items,
        total: paged.total,
    }))
}

/// Open a ticket. It is auto-tagged; support and bug tickets are assigned to the least-loaded
/// agent.
#[utoipa::path(
    post, path = "/api/v1/tickets", tag = "tickets",
    security(("bearer" = [])),
    request_body = CreateTicket,
    responses(
        (status = 201, description = "The new ticket", body = TicketDoc),
        (status = 400, description = "A field breaks a rule", body = ErrorBody),
        (status = 403, description = "Your role cannot open tickets", body = ErrorBody),
        (status = 422, description = "Unknown type or priority, wrong JSON shape", body = ErrorBody),
    )
)]
pub async fn create_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<CreateTicket>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let view = tickets(&state)?
        .create(
            user(&caller),
            TicketDraft {
                ticket_type: req.ticket_type,
                priority: req.priority,
                subject: req.subject,
                description: req.description,
                metadata: req.metadata,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A ticket (by id or by number, `T-000042`) with the comments you may see.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    responses(
        (status = 200, description = "The ticket", body = TicketDetailDoc),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
pub async fn get_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
) -> Result<Json<TicketWithComments>, ApiError> {
    Ok(Json(
        tickets(&state)?.get(user(&caller), reference(&id)?).await?,
    ))
}

async fn command(
    state: &AppState,
    caller: &Caller,
    id: &str,
    command: TicketCommand,
) -> Result<TicketOutcome, ApiError> {
    Ok(tickets(state)?
        .command(user(caller), reference(id)?, command)
        .await?)
}

/// Change fields or the status (moves are checked against the state machine).
#[utoipa::path(
    patch, path = "/api/v1/tickets/{id}", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    request_body = PatchTicket,
    responses(
        (status = 200, description = "The ticket after the change", body = TicketDoc),
        (status = 400, description = "A field breaks a rule, or nothing to change", body = ErrorBody),
        (status = 403, description = "Not yours to change (or a move only an agent may make)", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
        (status = 409, description = "An illegal transition for the current status", body = ErrorBody),
    )
)]
pub async fn patch_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
    JsonBody(req): JsonBody<PatchTicket>,
) -> Result<Json<TicketView>, ApiError> {
    let patch = TicketPatch {
        status: req.status,
        priority: req.priority,
        ticket_type: req.ticket_type,
        subject: req.subject,
        description: req.description,
        tags: req.tags,
        metadata: req.metadata,
    };
    let out = command(&state, &caller, &id, TicketCommand::Patch(patch)).await?;
    Ok(Json(out.ticket))
}

/// Assign the ticket to an agent, or unassign it (agents only).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/assign", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    request_body = AssignTicket,
    responses(
        (status = 200, description = "The ticket after the change", body = TicketDoc),
        (status = 400, description = "The assignee is not an active agent of the organization", body = ErrorBody),
        (status = 403, description = "Only agents assign", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
pub async fn assign_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
    JsonBody(req): JsonBody<AssignTicket>,
) -> Result<Json<TicketView>, ApiError> {
    let out = command(&state, &caller, &id, TicketCommand::Assign(req.assignee_id)).await?;
    Ok(Json(out.ticket))
}

/// Post a comment (`internal` notes: agents only). The first public comment by someone other
/// than the reporter is the first response; a reporter's comment ends a wait for them.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/comments", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    request_body = PostComment,
    responses(
        (status = 201, description = "The comment and the ticket after it", body = CommentPosted),
        (status = 400, description = "Empty or too long", body = ErrorBody),
        (status = 403, description = "Internal notes are for agents", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
pub async fn comment_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
    JsonBody(req): JsonBody<PostComment>,
) -> Result<(StatusCode, Json<CommentPosted>), ApiError> {
    let out = command(
        &state,
        &caller,
        &id,
        TicketCommand::Comment {
            body: req.body,
            internal: req.internal,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CommentPosted {
            comment: out.comment,
            ticket: out.ticket,
        }),
    ))
}

/// Close the ticket (the reporter may withdraw it at any time).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/close", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    responses(
        (status = 200, description = "The closed ticket", body = TicketDoc),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
    )
)]
pub async fn close_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
) -> Result<Json<TicketView>, ApiError> {
    let patch = TicketPatch {
        status: Some(TicketStatus::Closed),
        ..TicketPatch::default()
    };
    let out = command(&state, &caller, &id, TicketCommand::Patch(patch)).await?;
    Ok(Json(out.ticket))
}

/// Reopen a resolved (reporter or agent) or closed (agent) ticket: it moves to `open`.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/reopen", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    responses(
        (status = 200, description = "The reopened ticket", body = TicketDoc),
        (status = 403, description = "A closed ticket is reopened by an agent only", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
        (status = 409, description = "The ticket is not resolved or closed", body = ErrorBody),
    )
)]
pub async fn reopen_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
) -> Result<Json<TicketView>, ApiError> {
    let out = command(&state, &caller, &id, TicketCommand::Reopen).await?;
    Ok(Json(out.ticket))
}

/// Answer the satisfaction survey of a closed ticket (the reporter, once).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/survey", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    request_body = SurveyDoc,
    responses(
        (status = 201, description = "Recorded", body = TicketDoc),
        (status = 403, description = "Only the reporter answers", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
        (status = 409, description = "Not closed yet, or already answered", body = ErrorBody),
        (status = 422, description = "Rating not a whole number 1–5, comment too long, unknown fields", body = ErrorBody),
    )
)]
pub async fn survey_ticket(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
    JsonBody(answer): JsonBody<SatisfactionSurvey>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let out = command(&state, &caller, &id, TicketCommand::Survey(answer)).await?;
    Ok((StatusCode::CREATED, Json(out.ticket)))
}

/// The SLA of the ticket now: deadlines, elapsed and paused time, met or breached.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/sla", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number")),
    responses(
        (status = 200, description = "The SLA report", body = SlaDoc),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
pub async fn ticket_sla(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
) -> Result<Json<atrium_actors::ticket::service::SlaView>, ApiError> {
    Ok(Json(
        tickets(&state)?.sla(user(&caller), reference(&id)?).await?,
    ))
}

/// The activity log, oldest first (agents only).
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/activity", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id or number"), Pagination),
    responses(
        (status = 200, description = "A page of the activity log", body = ActivityList),
        (status = 403, description = "Only agents read the activity log", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
pub async fn ticket_activity(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<String>,
    QueryParams(pagination): QueryParams<Pagination>,
) -> Result<Json<ActivityList>, ApiError> {
    let page = tickets(&state)?
        .activity(user(&caller), reference(&id)?, pagination.page()?)
        .await?;
    Ok(Json(ActivityList {
        items: page.items,
        total: page.total,
    }))
}

/// The organization's ticket settings (agents).
#[utoipa::path(
    get, path = "/api/v1/tickets/settings", tag = "tickets",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "SLA targets, calendar and tagging rules", body = SettingsDoc),
        (status = 403, description = "Agents only", body = ErrorBody),
    )
)]
pub async fn get_settings(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TicketSettings>, ApiError> {
    Ok(Json(tickets(&state)?.get_settings(user(&caller)).await?))
}

/// Replace the organization's ticket settings (`tickets.settings`: moderators, admins). Open
/// tickets switch to the new SLA policy at once.
#[utoipa::path(
    put, path = "/api/v1/tickets/settings", tag = "tickets",
    security(("bearer" = [])),
    request_body = SettingsDoc,
    responses(
        (status = 200, description = "The stored settings", body = SettingsDoc),
        (status = 400, description = "A tagging rule breaks a rule", body = ErrorBody),
        (status = 403, description = "Your role lacks tickets.settings", body = ErrorBody),
        (status = 422, description = "Bad SLA targets or calendar, unknown fields", body = ErrorBody),
    )
)]
pub async fn put_settings(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(settings): JsonBody<TicketSettings>,
) -> Result<Json<TicketSettings>, ApiError> {
    Ok(Json(
        tickets(&state)?
            .put_settings(user(&caller), settings)
            .await?,
    ))
}
