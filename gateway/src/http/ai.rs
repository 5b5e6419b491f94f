//! `/api/v1/ai/*`: models users may pick, conversations and their messages, assistants, prompt
//! templates and their rendering.

use std::collections::BTreeMap;

use atrium_core::ai::{Assistant, Conversation, ConversationMessage, PromptTemplate, Temperature};
use atrium_core::ids::{
    AssistantId, ChannelId, ConversationId, PromptTemplateId, StreamId, UserId,
};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody, codes};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::views::Pagination;
use crate::AppState;
use crate::service::ai::{
    self, AssistantFields, ConversationChange, NewConversation, TemplateFields,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ai/models", get(list_models))
        .route(
            "/api/v1/ai/conversations",
            get(list_conversations).post(create_conversation),
        )
        .route(
            "/api/v1/ai/conversations/{id}",
            get(get_conversation)
                .patch(update_conversation)
                .delete(delete_conversation),
        )
        .route("/api/v1/ai/conversations/{id}/messages", get(list_messages))
        .route(
            "/api/v1/ai/assistants",
            get(list_assistants).post(create_assistant),
        )
        .route(
            "/api/v1/ai/assistants/{id}",
            get(get_assistant)
                .patch(update_assistant)
                .delete(delete_assistant),
        )
        .route(
            "/api/v1/ai/templates",
            get(list_templates).post(create_template),
        )
        .route("/api/v1/ai/templates/render", post(render_body))
        .route(
            "/api/v1/ai/templates/{id}",
            get(get_template)
                .patch(update_template)
                .delete(delete_template),
        )
        .route("/api/v1/ai/templates/{id}/render", post(render_template))
}

#[derive(OpenApi)]
#[openapi(paths(
    list_models,
    list_conversations,
    create_conversation,
    get_conversation,
    update_conversation,
    delete_conversation,
    list_messages,
    list_assistants,
    create_assistant,
    get_assistant,
    update_assistant,
    delete_assistant,
    list_templates,
    create_template,
    get_template,
    update_template,
    delete_template,
    render_template,
    render_body,
))]
pub struct AiApi;

/// Deserialises a present field (even `null`) as `Some`, so absent and `null` differ.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn temperature_value(t: Option<Temperature>) -> Option<f32> {
    t.map(Temperature::get)
}

/// A model users may pick.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelChoice {
    #[schema(example = "gpt-4o")]
    pub name: String,
    pub display_name: String,
    pub provider: String,
    /// Used when a request names no model.
    pub is_default: bool,
    /// Its provider has a key (the local bot is always ready).
    pub ready: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelChoices {
    pub items: Vec<ModelChoice>,
}

/// The models you may use (enabled models and the local bot).
#[utoipa::path(get, path = "/api/v1/ai/models", tag = "ai", security(("bearer" = [])),
    responses((status = 200, body = ModelChoices), (status = 503, description = "No LLM hub on this node", body = ErrorBody)))]
pub async fn list_models(
    State(state): State<AppState>,
    Authenticated(_caller): Authenticated,
) -> Result<Json<ModelChoices>, ApiError> {
    let live = state.realtime.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            "the LLM hub is not running on this node",
        )
    })?;
    let catalog = live.realtime.ai().catalog();
    Ok(Json(ModelChoices {
        items: catalog
            .models()
            .iter()
            .map(|m| ModelChoice {
                name: m.name.clone(),
                display_name: m.display_name.clone(),
                provider: m.provider.clone(),
                is_default: m.is_default,
                ready: m.ready,
            })
            .collect(),
    }))
}

/// A conversation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ConversationId,
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    /// Set when the conversation is shared with a channel.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub channel_id: Option<ChannelId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assistant_id: Option<AssistantId>,
    pub title: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub system_prompt: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id,
            channel_id: c.channel_id,
            assistant_id: c.assistant_id,
            title: c.title,
            model: c.model,
            temperature: temperature_value(c.temperature),
            system_prompt: c.system_prompt,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<ConversationView>,
    pub total: u64,
}

/// A new conversation. Every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    pub title: Option<String>,
    /// Share it with a channel you are a member of.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub channel_id: Option<ChannelId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assistant_id: Option<AssistantId>,
    pub model: Option<String>,
    #[schema(value_type = Option<f32>)]
    pub temperature: Option<Temperature>,
    pub system_prompt: Option<String>,
}

/// Changes; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConversation {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assistant_id: Option<Option<AssistantId>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f32>)]
    pub temperature: Option<Option<Temperature>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub system_prompt: Option<Option<String>>,
}

/// Your conversations and those of your channels, most recently active first.
#[utoipa::path(get, path = "/api/v1/ai/conversations", tag = "ai", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ConversationPage)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<Pagination>,
) -> Result<Json<ConversationPage>, ApiError> {
    let page = ai::list_conversations(state.store.as_ref(), &caller, q.page()?).await?;
    Ok(Json(ConversationPage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
    }))
}

/// Start a conversation.
#[utoipa::path(post, path = "/api/v1/ai/conversations", tag = "ai", security(("bearer" = [])), request_body = CreateConversation,
    responses((status = 201, body = ConversationView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_conversation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<CreateConversation>,
) -> Result<(StatusCode, Json<ConversationView>), ApiError> {
    let c = ai::create_conversation(
        state.store.as_ref(),
        &caller,
        NewConversation {
            title: req.title,
            channel_id: req.channel_id,
            assistant_id: req.assistant_id,
            model: req.model,
            temperature: req.temperature,
            system_prompt: req.system_prompt,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// A conversation.
#[utoipa::path(get, path = "/api/v1/ai/conversations/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ConversationId>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(
        ai::visible_conversation(state.store.as_ref(), &caller, id)
            .await?
            .into(),
    ))
}

/// Rename it or change its assistant, model, temperature or system prompt (owner only).
#[utoipa::path(patch, path = "/api/v1/ai/conversations/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateConversation,
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_conversation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ConversationId>,
    JsonBody(req): JsonBody<UpdateConversation>,
) -> Result<Json<ConversationView>, ApiError> {
    let c = ai::update_conversation(
        state.store.as_ref(),
        &caller,
        id,
        ConversationChange {
            title: req.title,
            assistant_id: req.assistant_id,
            model: req.model,
            temperature: req.temperature,
            system_prompt: req.system_prompt,
        },
    )
    .await?;
    Ok(Json(c.into()))
}

/// Delete it with its messages (owner, or an admin).
#[utoipa::path(delete, path = "/api/v1/ai/conversations/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_conversation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ConversationId>,
) -> Result<StatusCode, ApiError> {
    ai::delete_conversation(state.store.as_ref(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One message of a conversation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationMessageView {
    #[schema(value_type = uuid::Uuid)]
    pub id: atrium_core::ids::ConversationMessageId,
    pub seq: i64,
    /// `user`, `assistant` or `system`.
    pub role: String,
    pub content: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub author_id: Option<UserId>,
    pub model: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub stream_id: Option<StreamId>,
    /// `complete`, or `partial` for an answer cut short (cancelled or failed mid-stream).
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<ConversationMessage> for ConversationMessageView {
    fn from(m: ConversationMessage) -> Self {
        Self {
            id: m.id,
            seq: m.seq,
            role: m.role.as_str().to_owned(),
            content: m.content,
            author_id: m.author_id,
            model: m.model,
            stream_id: m.stream_id,
            status: m.status.as_str().to_owned(),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationMessages {
    /// Oldest first.
    pub items: Vec<ConversationMessageView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Only messages with a smaller seq (absent: the newest page).
    pub before_seq: Option<i64>,
    /// 1–200 (default 50).
    pub limit: Option<u32>,
}

/// A page of the conversation's messages, oldest first.
#[utoipa::path(get, path = "/api/v1/ai/conversations/{id}/messages", tag = "ai", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), MessagesQuery), responses((status = 200, body = ConversationMessages), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<ConversationId>,
    QueryParams(q): QueryParams<MessagesQuery>,
) -> Result<Json<ConversationMessages>, ApiError> {
    let items = ai::list_messages(state.store.as_ref(), &caller, id, q.before_seq, q.limit).await?;
    Ok(Json(ConversationMessages {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// An assistant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssistantView {
    #[schema(value_type = uuid::Uuid)]
    pub id: AssistantId,
    /// Global assistants (managed by admins) have no owner.
    pub global: bool,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub owner_id: Option<UserId>,
    pub name: String,
    pub description: String,
    pub icon: Option<String>,
    pub system_prompt: String,
    pub model: Option<String>,
    pub temperature: Option<f32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Assistant> for AssistantView {
    fn from(a: Assistant) -> Self {
        Self {
            id: a.id,
            global: a.owner_id.is_none(),
            owner_id: a.owner_id,
            name: a.name,
            description: a.description,
            icon: a.icon,
            system_prompt: a.system_prompt,
            model: a.model,
            temperature: temperature_value(a.temperature),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssistantList {
    pub items: Vec<AssistantView>,
}

/// An assistant to create (`global: true` needs an admin), or changes (`null` clears).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistantInput {
    /// Create only: a global assistant of the organization (admins).
    #[serde(default)]
    pub global: Option<bool>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
    pub system_prompt: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f32>)]
    pub temperature: Option<Option<Temperature>>,
}

impl AssistantInput {
    fn fields(self) -> AssistantFields {
        AssistantFields {
            name: self.name,
            description: self.description,
            icon: self.icon,
            system_prompt: self.system_prompt,
            model: self.model,
            temperature: self.temperature,
        }
    }
}

/// The organization's global assistants and your own.
#[utoipa::path(get, path = "/api/v1/ai/assistants", tag = "ai", security(("bearer" = [])), responses((status = 200, body = AssistantList)))]
pub async fn list_assistants(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<AssistantList>, ApiError> {
    let items = ai::list_assistants(state.store.as_ref(), &caller).await?;
    Ok(Json(AssistantList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Create an assistant (personal; `global: true` for admins).
#[utoipa::path(post, path = "/api/v1/ai/assistants", tag = "ai", security(("bearer" = [])), request_body = AssistantInput,
    responses((status = 201, body = AssistantView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_assistant(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<AssistantInput>,
) -> Result<(StatusCode, Json<AssistantView>), ApiError> {
    let global = req.global.unwrap_or(false);
    let a = ai::create_assistant(state.store.as_ref(), &caller, global, req.fields()).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// An assistant.
#[utoipa::path(get, path = "/api/v1/ai/assistants/{id}", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AssistantView), (status = 404, body = ErrorBody)))]
pub async fn get_assistant(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<AssistantId>,
) -> Result<Json<AssistantView>, ApiError> {
    Ok(Json(
        ai::get_assistant(state.store.as_ref(), &caller, id)
            .await?
            .into(),
    ))
}

/// Change an assistant (yours; global ones: admins).
#[utoipa::path(patch, path = "/api/v1/ai/assistants/{id}", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = AssistantInput,
    responses((status = 200, body = AssistantView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_assistant(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<AssistantId>,
    JsonBody(req): JsonBody<AssistantInput>,
) -> Result<Json<AssistantView>, ApiError> {
    if req.global.is_some() {
        return Err(ApiError::invalid("global: cannot be changed"));
    }
    Ok(Json(
        ai::update_assistant(state.store.as_ref(), &caller, id, req.fields())
            .await?
            .into(),
    ))
}

/// Delete an assistant (yours; global ones: admins).
#[utoipa::path(delete, path = "/api/v1/ai/assistants/{id}", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_assistant(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<AssistantId>,
) -> Result<StatusCode, ApiError> {
    ai::delete_assistant(state.store.as_ref(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A prompt template.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    #[schema(value_type = uuid::Uuid)]
    pub id: PromptTemplateId,
    pub global: bool,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub owner_id: Option<UserId>,
    pub name: String,
    pub description: String,
    /// Text with `{{variable}}` placeholders.
    pub body: String,
    /// The placeholders of `body`, in order of first appearance.
    pub variables: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<PromptTemplate> for TemplateView {
    fn from(t: PromptTemplate) -> Self {
        Self {
            id: t.id,
            global: t.owner_id.is_none(),
            owner_id: t.owner_id,
            variables: atrium_core::ai::variables(&t.body),
            name: t.name,
            description: t.description,
            body: t.body,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateView>,
}

/// A template to create (`global: true` needs an admin), or changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    #[serde(default)]
    pub global: Option<bool>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
}

/// Values for a template's placeholders.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// An ad-hoc template and values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderBodyRequest {
    pub body: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// A rendered template.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RenderView {
    /// The text, with placeholders that had no value left as they were.
    pub text: String,
    /// Placeholders without a value, in order of first appearance.
    pub missing: Vec<String>,
    /// No placeholder is missing.
    pub complete: bool,
}

impl From<atrium_core::ai::Rendered> for RenderView {
    fn from(r: atrium_core::ai::Rendered) -> Self {
        Self {
            complete: r.is_complete(),
            text: r.text,
            missing: r.missing,
        }
    }
}

/// The organization's global templates and your own.
#[utoipa::path(get, path = "/api/v1/ai/templates", tag = "ai", security(("bearer" = [])), responses((status = 200, body = TemplateList)))]
pub async fn list_templates(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TemplateList>, ApiError> {
    let items = ai::list_templates(state.store.as_ref(), &caller).await?;
    Ok(Json(TemplateList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Create a template (personal; `global: true` for admins).
#[utoipa::path(post, path = "/api/v1/ai/templates", tag = "ai", security(("bearer" = [])), request_body = TemplateInput,
    responses((status = 201, body = TemplateView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<TemplateInput>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let t = ai::create_template(
        state.store.as_ref(),
        &caller,
        req.global.unwrap_or(false),
        TemplateFields {
            name: req.name,
            description: req.description,
            body: req.body,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A template.
#[utoipa::path(get, path = "/api/v1/ai/templates/{id}", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<PromptTemplateId>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(
        ai::get_template(state.store.as_ref(), &caller, id)
            .await?
            .into(),
    ))
}

/// Change a template (yours; global ones: admins).
#[utoipa::path(patch, path = "/api/v1/ai/templates/{id}", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = TemplateInput,
    responses((status = 200, body = TemplateView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<PromptTemplateId>,
    JsonBody(req): JsonBody<TemplateInput>,
) -> Result<Json<TemplateView>, ApiError> {
    if req.global.is_some() {
        return Err(ApiError::invalid("global: cannot be changed"));
    }
    let t = ai::update_template(
        state.store.as_ref(),
        &caller,
        id,
        TemplateFields {
            name: req.name,
            description: req.description,
            body: req.body,
        },
    )
    .await?;
    Ok(Json(t.into()))
}

/// Delete a template (yours; global ones: admins).
#[utoipa::path(delete, path = "/api/v1/ai/templates/{id}", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<PromptTemplateId>,
) -> Result<StatusCode, ApiError> {
    ai::delete_template(state.store.as_ref(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fill a template's placeholders; reports the ones without a value.
#[utoipa::path(post, path = "/api/v1/ai/templates/{id}/render", tag = "ai", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = RenderRequest,
    responses((status = 200, body = RenderView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn render_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<PromptTemplateId>,
    JsonBody(req): JsonBody<RenderRequest>,
) -> Result<Json<RenderView>, ApiError> {
    Ok(Json(
        ai::render_template(state.store.as_ref(), &caller, id, &req.variables)
            .await?
            .into(),
    ))
}

/// Fill the placeholders of a template given in the request (to preview before saving).
#[utoipa::path(post, path = "/api/v1/ai/templates/render", tag = "ai", security(("bearer" = [])), request_body = RenderBodyRequest,
    responses((status = 200, body = RenderView), (status = 400, body = ErrorBody)))]
pub async fn render_body(
    Authenticated(_caller): Authenticated,
    JsonBody(req): JsonBody<RenderBodyRequest>,
) -> Result<Json<RenderView>, ApiError> {
    ai::check_variables(&req.variables)?;
    if req.body.chars().count() > ai::TEMPLATE_BODY_MAX {
        return Err(ApiError::invalid(format!(
            "body: at most {} characters",
            ai::TEMPLATE_BODY_MAX
        )));
    }
    Ok(Json(
        atrium_core::ai::render(&req.body, &req.variables).into(),
    ))
}
