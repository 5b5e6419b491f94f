//! `/api/v1/admin/{models,providers,usage,budgets,stats}`: AI administration.

use atrium_core::ai::{AiModel, BudgetMetric, BudgetPeriod, UsageTotals};
use atrium_core::ids::{AiModelId, BudgetId, UserId};
use atrium_persistence::ai_store::UsageWindow;
use axum::http::StatusCode;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::ai::present;
use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::views::Pagination;
use crate::AppState;
use crate::service::ai_admin::{self, ModelFields, ProviderInput, ProviderView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/models", get(list_models).post(create_model))
        .route(
            "/api/v1/admin/models/{id}",
            patch(update_model).delete(delete_model),
        )
        .route("/api/v1/admin/providers", get(list_providers))
        .route(
            "/api/v1/admin/providers/{name}",
            put(put_provider).delete(delete_provider),
        )
        .route("/api/v1/admin/providers/{name}/test", post(test_provider))
        .route("/api/v1/admin/usage", get(usage))
        .route("/api/v1/admin/usage/records", get(usage_records))
        .route("/api/v1/admin/budgets", get(list_budgets).put(put_budget))
        .route(
            "/api/v1/admin/budgets/{id}",
            axum::routing::delete(delete_budget),
        )
        .route("/api/v1/admin/stats", get(stats))
}

#[derive(OpenApi)]
#[openapi(paths(
    list_models,
    create_model,
    update_model,
    delete_model,
    list_providers,
    put_provider,
    delete_provider,
    test_provider,
    usage,
    usage_records,
    list_budgets,
    put_budget,
    delete_budget,
    stats,
))]
pub struct AiAdminApi;

/// A configured model.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelView {
    #[schema(value_type = uuid::Uuid)]
    pub id: AiModelId,
    pub name: String,
    pub display_name: String,
    pub provider: String,
    pub model_id: String,
    /// Azure OpenAI deployment name.
    pub deployment: Option<String>,
    pub enabled: bool,
    pub is_default: bool,
    pub supports_temperature: bool,
    pub uses_max_completion_tokens: bool,
    pub max_tokens: Option<u32>,
    pub fallback: Vec<String>,
    /// Micro-units of currency per million input tokens.
    pub input_price: i64,
    /// Micro-units of currency per million output tokens.
    pub output_price: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<AiModel> for ModelView {
    fn from(m: AiModel) -> Self {
        Self {
            id: m.id,
            name: m.name,
            display_name: m.display_name,
            provider: m.provider,
            model_id: m.model_id,
            deployment: m.deployment,
            enabled: m.enabled,
            is_default: m.is_default,
            supports_temperature: m.supports_temperature,
            uses_max_completion_tokens: m.uses_max_completion_tokens,
            max_tokens: m.max_tokens,
            fallback: m.fallback,
            input_price: m.input_price.0,
            output_price: m.output_price.0,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    pub items: Vec<ModelView>,
}

/// A model to create (`name`, `provider`, `model_id` required) or changes (`null` clears).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelInput {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub provider: Option<String>,
    pub model_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub deployment: Option<Option<String>>,
    pub enabled: Option<bool>,
    /// Making a model the default unsets the previous default.
    pub is_default: Option<bool>,
    pub supports_temperature: Option<bool>,
    pub uses_max_completion_tokens: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub max_tokens: Option<Option<u32>>,
    pub fallback: Option<Vec<String>>,
    pub input_price: Option<i64>,
    pub output_price: Option<i64>,
}

impl ModelInput {
    fn fields(self) -> ModelFields {
        ModelFields {
            name: self.name,
            display_name: self.display_name,
            provider: self.provider,
            model_id: self.model_id,
            deployment: self.deployment,
            enabled: self.enabled,
            is_default: self.is_default,
            supports_temperature: self.supports_temperature,
            uses_max_completion_tokens: self.uses_max_completion_tokens,
            max_tokens: self.max_tokens,
            fallback: self.fallback,
            input_price: self.input_price,
            output_price: self.output_price,
        }
    }
}

/// Every configured model (administrators of the default organization).
#[utoipa::path(get, path = "/api/v1/admin/models", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ModelList), (status = 403, body = ErrorBody)))]
pub async fn list_models(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ModelList>, ApiError> {
    let items = ai_admin::list_models(&state, &caller).await?;
    Ok(Json(ModelList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Configure a model.
#[utoipa::path(post, path = "/api/v1/admin/models", tag = "admin", security(("bearer" = [])), request_body = ModelInput,
    responses((status = 201, body = ModelView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_model(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<ModelInput>,
) -> Result<(StatusCode, Json<ModelView>), ApiError> {
    let m = ai_admin::create_model(&state, &caller, req.fields()).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// Change a model.
#[utoipa::path(patch, path = "/api/v1/admin/models/{id}", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = ModelInput,
    responses((status = 200, body = ModelView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_model(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<AiModelId>,
    JsonBody(req): JsonBody<ModelInput>,
) -> Result<Json<ModelView>, ApiError> {
    Ok(Json(
        ai_admin::update_model(&state, &caller, id, req.fields())
            .await?
            .into(),
    ))
}

/// Remove a model.
#[utoipa::path(delete, path = "/api/v1/admin/models/{id}", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_model(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<AiModelId>,
) -> Result<StatusCode, ApiError> {
    ai_admin::delete_model(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A provider account; the key only masked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProviderAccountView {
    pub name: String,
    pub kind: String,
    pub base_url: Option<String>,
    pub api_version: Option<String>,
    /// Where the key comes from: `stored` (encrypted in the database), `config`, `none`.
    pub key_source: String,
    /// `********` and the key's last four characters; never the key.
    pub key: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<ProviderView> for ProviderAccountView {
    fn from(v: ProviderView) -> Self {
        Self {
            name: v.provider.name,
            kind: v.provider.kind,
            base_url: v.provider.base_url,
            api_version: v.provider.api_version,
            key_source: v.key_source.to_owned(),
            key: v.key_masked,
            updated_at: v.provider.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProviderList {
    pub items: Vec<ProviderAccountView>,
}

/// A provider account. `api_key` absent keeps the stored key, `null` removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInputBody {
    /// `openai`, `anthropic`, `gemini`, `mistral`, `xai` or `azure_openai`.
    pub kind: String,
    pub base_url: Option<String>,
    pub api_version: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
}

/// Provider accounts (administrators of the default organization).
#[utoipa::path(get, path = "/api/v1/admin/providers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ProviderList), (status = 403, body = ErrorBody)))]
pub async fn list_providers(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ProviderList>, ApiError> {
    let items = ai_admin::list_providers(&state, &caller).await?;
    Ok(Json(ProviderList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Create or replace a provider account; the key is stored encrypted and never returned.
#[utoipa::path(put, path = "/api/v1/admin/providers/{name}", tag = "admin", security(("bearer" = [])), params(("name" = String, Path)), request_body = ProviderInputBody,
    responses((status = 200, body = ProviderAccountView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_provider(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(name): PathParams<String>,
    JsonBody(req): JsonBody<ProviderInputBody>,
) -> Result<Json<ProviderAccountView>, ApiError> {
    let v = ai_admin::put_provider(
        &state,
        &caller,
        &name,
        ProviderInput {
            kind: req.kind,
            base_url: req.base_url,
            api_version: req.api_version,
            api_key: req.api_key,
        },
    )
    .await?;
    Ok(Json(v.into()))
}

/// Remove a provider account no model uses.
#[utoipa::path(delete, path = "/api/v1/admin/providers/{name}", tag = "admin", security(("bearer" = [])), params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_provider(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(name): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    ai_admin::delete_provider(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which upstream model id to test with (default: the first enabled model of the provider).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderTestBody {
    pub model_id: Option<String>,
}

/// The result of a live provider test.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProviderTestView {
    pub ok: bool,
    pub model_id: String,
    pub latency_ms: u64,
    pub reply: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// Send one small real request through the provider (key, endpoint and model id together).
#[utoipa::path(post, path = "/api/v1/admin/providers/{name}/test", tag = "admin", security(("bearer" = [])), params(("name" = String, Path)), request_body = ProviderTestBody,
    responses((status = 200, description = "The test ran (see `ok`)", body = ProviderTestView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_provider(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(name): PathParams<String>,
    JsonBody(req): JsonBody<ProviderTestBody>,
) -> Result<Json<ProviderTestView>, ApiError> {
    let o = ai_admin::test_provider(&state, &caller, &name, req.model_id).await?;
    Ok(Json(ProviderTestView {
        ok: o.ok,
        model_id: o.model_id,
        latency_ms: o.latency_ms,
        reply: o.reply,
        error_code: o.error_code,
        error: o.error,
        input_tokens: o.usage.input_tokens,
        output_tokens: o.usage.output_tokens,
    }))
}

/// Usage summed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TotalsView {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Micro-units of currency.
    pub cost_micros: i64,
}

impl From<UsageTotals> for TotalsView {
    fn from(t: UsageTotals) -> Self {
        Self {
            requests: t.requests,
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            cost_micros: t.cost_micros,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelUsage {
    pub model: String,
    #[serde(flatten)]
    pub totals: TotalsView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserUsage {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    pub username: Option<String>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

/// The organization's usage and spend.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageView {
    pub totals: TotalsView,
    pub by_model: Vec<ModelUsage>,
    pub by_user: Vec<UserUsage>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// From this instant (RFC 3339).
    pub since: Option<String>,
    /// Before this instant (RFC 3339).
    pub until: Option<String>,
}

fn instant(field: &str, v: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    v.map(|v| {
        OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
            ApiError::invalid(format!("{field}: expected an RFC 3339 time, got {v:?}"))
        })
    })
    .transpose()
}

/// Usage totals, per model and per user (the organization's administrators).
#[utoipa::path(get, path = "/api/v1/admin/usage", tag = "admin", security(("bearer" = [])), params(WindowQuery),
    responses((status = 200, body = UsageView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn usage(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<WindowQuery>,
) -> Result<Json<UsageView>, ApiError> {
    let window = UsageWindow {
        since: instant("since", q.since.as_deref())?,
        until: instant("until", q.until.as_deref())?,
    };
    let r = ai_admin::usage(state.store.as_ref(), &caller, window).await?;
    Ok(Json(UsageView {
        totals: r.totals.into(),
        by_model: r
            .by_model
            .into_iter()
            .map(|(model, t)| ModelUsage {
                model,
                totals: t.into(),
            })
            .collect(),
        by_user: r
            .by_user
            .into_iter()
            .map(|(user_id, username, t)| UserUsage {
                user_id,
                username,
                totals: t.into(),
            })
            .collect(),
    }))
}

/// One provider request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageRecordView {
    pub id: i64,
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub conversation_id: Option<atrium_core::ids::ConversationId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub stream_id: Option<atrium_core::ids::StreamId>,
    pub model: String,
    pub provider: String,
    /// `chat`, `title` or `test`.
    pub purpose: String,
    /// `completed`, `cancelled` or `failed`.
    pub outcome: String,
    pub streamed: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_micros: i64,
    pub error_code: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageRecordPage {
    pub items: Vec<UsageRecordView>,
    pub total: u64,
}

/// The organization's provider requests, newest first.
#[utoipa::path(get, path = "/api/v1/admin/usage/records", tag = "admin", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = UsageRecordPage), (status = 403, body = ErrorBody)))]
pub async fn usage_records(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<Pagination>,
) -> Result<Json<UsageRecordPage>, ApiError> {
    let page = ai_admin::usage_records(state.store.as_ref(), &caller, q.page()?).await?;
    Ok(Json(UsageRecordPage {
        total: page.total,
        items: page
            .items
            .into_iter()
            .map(|u| UsageRecordView {
                id: u.id,
                user_id: u.user_id,
                conversation_id: u.conversation_id,
                stream_id: u.stream_id,
                model: u.model,
                provider: u.provider,
                purpose: u.purpose.as_str().to_owned(),
                outcome: u.outcome.as_str().to_owned(),
                streamed: u.streamed,
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                cost_micros: u.cost_micros,
                error_code: u.error_code,
                at: u.at,
            })
            .collect(),
    }))
}

/// A budget and its current period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BudgetView {
    #[schema(value_type = uuid::Uuid)]
    pub id: BudgetId,
    /// Absent for the organization's budget.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<UserId>,
    /// `tokens` or `cost` (micro-units).
    pub metric: String,
    pub limit: i64,
    /// `day`, `week` or `month` (UTC).
    pub period: String,
    pub spent: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub period_start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub resets_at: OffsetDateTime,
}

impl From<ai_admin::BudgetStatus> for BudgetView {
    fn from(s: ai_admin::BudgetStatus) -> Self {
        Self {
            id: s.budget.id,
            user_id: s.budget.user_id,
            metric: s.budget.metric.as_str().to_owned(),
            limit: s.budget.limit,
            period: s.budget.period.as_str().to_owned(),
            spent: s.spent,
            period_start: s.period_start,
            resets_at: s.resets_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BudgetList {
    pub items: Vec<BudgetView>,
}

/// A budget to set (one per subject and metric; setting it again replaces it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    /// A user of your organization; absent sets the organization's budget.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<UserId>,
    #[schema(value_type = String, example = "tokens")]
    pub metric: BudgetMetric,
    pub limit: i64,
    #[schema(value_type = String, example = "month")]
    pub period: BudgetPeriod,
}

/// The organization's budgets with their spend in the current period.
#[utoipa::path(get, path = "/api/v1/admin/budgets", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = BudgetList), (status = 403, body = ErrorBody)))]
pub async fn list_budgets(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<BudgetList>, ApiError> {
    let items = ai_admin::list_budgets(state.store.as_ref(), &caller).await?;
    Ok(Json(BudgetList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Set a budget of the organization or of one of its users.
#[utoipa::path(put, path = "/api/v1/admin/budgets", tag = "admin", security(("bearer" = [])), request_body = BudgetInput,
    responses((status = 200, body = BudgetView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_budget(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(req): JsonBody<BudgetInput>,
) -> Result<Json<BudgetView>, ApiError> {
    let s = ai_admin::put_budget(
        state.store.as_ref(),
        &caller,
        req.user_id,
        req.metric,
        req.limit,
        req.period,
    )
    .await?;
    Ok(Json(s.into()))
}

/// Remove a budget.
#[utoipa::path(delete, path = "/api/v1/admin/budgets/{id}", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_budget(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<BudgetId>,
) -> Result<StatusCode, ApiError> {
    ai_admin::delete_budget(state.store.as_ref(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization at a glance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatsView {
    pub users: u64,
    pub active_users: u64,
    pub channels: u64,
    pub messages: u64,
    pub conversations: u64,
    pub conversation_messages: u64,
    pub assistants: u64,
    pub templates: u64,
    pub tickets: u64,
    /// On this node right now (absent without the realtime core).
    pub live_sessions: Option<usize>,
    pub live_channels: Option<usize>,
    pub live_generations: Option<usize>,
}

/// Counts of users, channels, messages, conversations, assistants and templates.
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = StatsView), (status = 403, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<StatsView>, ApiError> {
    let s = ai_admin::stats(state.store.as_ref(), &caller).await?;
    let live = state
        .realtime
        .as_ref()
        .map(|l| (l.realtime.stats(), l.realtime.ai().streams.len()));
    Ok(Json(StatsView {
        users: s.users,
        active_users: s.active_users,
        channels: s.channels,
        messages: s.messages,
        conversations: s.conversations,
        conversation_messages: s.conversation_messages,
        assistants: s.assistants,
        templates: s.templates,
        tickets: s.tickets,
        live_sessions: live.map(|(l, _)| l.sessions),
        live_channels: live.map(|(l, _)| l.channels),
        live_generations: live.map(|(_, g)| g),
    }))
}
