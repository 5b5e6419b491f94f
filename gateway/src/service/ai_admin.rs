//! AI administration: model configurations and provider accounts (node-wide, managed by the
//! administrators of the default organization), usage and spend, budgets and the system
//! overview (per organization, its administrators).
//!
//! Provider keys arrive in clear once (`PUT /admin/providers/{name}`), are sealed with AES-256-GCM
//! before they reach the store, and are only ever shown masked (`********abcd`).

use atrium_actors::ai::catalog::{masked, parse_kind};
use atrium_actors::ai::keys::{MIN_API_KEY_CHARS, hint};
use atrium_actors::ai::{LlmHub, ProbeOutcome};
use atrium_actors::llm::{ModelConfig, ProviderConfig, ProviderKind};
use atrium_core::ai::{
    AiModel, AiProvider, Budget, BudgetMetric, BudgetPeriod, Price, UsageOutcome, UsagePurpose,
    UsageRecord, UsageTotals,
};
use atrium_core::ids::{AiModelId, BudgetId, UserId};
use atrium_persistence::ai_store::{OrgStats, UsageWindow};
use atrium_persistence::store::{Page, Paged, Store, StoreError};
use serde_json::json;
use time::OffsetDateTime;

use super::ai::MANAGE;
use super::audit::{self, AuditEvent, actions};
use super::clock;
use super::error::OrNotFound;
use super::{Caller, ServiceError, ServiceResult};
use crate::AppState;

/// Longest provider name, in bytes (`[a-z0-9_-]`).
pub const PROVIDER_NAME_MAX: usize = 64;
/// Longest API key accepted, in bytes.
pub const API_KEY_MAX_BYTES: usize = 512;
/// Longest model name, display name or upstream id, in characters.
pub const MODEL_FIELD_MAX: usize = 128;
/// Most fallbacks of one model.
pub const MAX_FALLBACKS: usize = 8;

/// Providers and models belong to the node: only administrators of the default organization
/// change them.
pub fn require_instance_admin(state: &AppState, caller: &Caller) -> ServiceResult<()> {
    caller.require(MANAGE)?;
    if caller.org() != state.default_org {
        return Err(ServiceError::Forbidden(
            "models and providers are managed by the administrators of the default organization"
                .into(),
        ));
    }
    Ok(())
}

fn hub(state: &AppState) -> Option<&std::sync::Arc<LlmHub>> {
    state.realtime.as_ref().map(|live| live.realtime.ai())
}

async fn reload(state: &AppState) -> ServiceResult<()> {
    if let Some(hub) = hub(state) {
        hub.reload()
            .await
            .map_err(|e| ServiceError::Internal(format!("reloading the model catalog: {e}")))?;
    }
    Ok(())
}

async fn audit_admin(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: String,
    detail: serde_json::Value,
) {
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action,
            target: Some(target),
            detail,
        },
    )
    .await;
}

fn field(name: &str, value: &str, max: usize) -> ServiceResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ServiceError::Invalid(format!(
            "{name}: 1 to {max} characters"
        )));
    }
    Ok(value.to_owned())
}

// ---- providers ----

/// A provider account as administrators see it: the key only masked.
#[derive(Clone, Debug)]
pub struct ProviderView {
    pub provider: AiProvider,
    /// `stored` (sealed in the database), `config` (configuration or environment), `none`.
    pub key_source: &'static str,
    pub key_masked: Option<String>,
}

fn view(state: &AppState, provider: AiProvider) -> ProviderView {
    let configured = hub(state).is_some_and(|h| {
        let base = h.base();
        base.keys.contains_key(&provider.name)
            || base
                .providers
                .iter()
                .any(|p| p.name == provider.name && p.api_key.is_some())
    });
    let (key_source, key_masked) = match (&provider.key, configured) {
        (Some(k), _) => ("stored", Some(masked(&k.hint))),
        (None, true) => ("config", Some(masked(""))),
        (None, false) => ("none", None),
    };
    ProviderView {
        provider,
        key_source,
        key_masked,
    }
}

pub async fn list_providers(state: &AppState, caller: &Caller) -> ServiceResult<Vec<ProviderView>> {
    require_instance_admin(state, caller)?;
    let providers = state.store.list_providers().await?;
    Ok(providers.into_iter().map(|p| view(state, p)).collect())
}

/// What `PUT /admin/providers/{name}` carries.
#[derive(Clone, Debug)]
pub struct ProviderInput {
    pub kind: String,
    pub base_url: Option<String>,
    pub api_version: Option<String>,
    /// Absent keeps the stored key, `null` removes it, a string replaces it.
    pub api_key: super::ai::Change<String>,
}

fn provider_name(name: &str) -> ServiceResult<()> {
    let ok = !name.is_empty()
        && name.len() <= PROVIDER_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "provider name: 1 to {PROVIDER_NAME_MAX} of a-z, 0-9, '-', '_'"
        )))
    }
}

fn api_key(key: &str) -> ServiceResult<&str> {
    let key = key.trim();
    if key.chars().count() < MIN_API_KEY_CHARS
        || key.len() > API_KEY_MAX_BYTES
        || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServiceError::Invalid(format!(
            "api_key: {MIN_API_KEY_CHARS} to {API_KEY_MAX_BYTES} characters without spaces"
        )));
    }
    Ok(key)
}

pub async fn put_provider(
    state: &AppState,
    caller: &Caller,
    name: &str,
    input: ProviderInput,
) -> ServiceResult<ProviderView> {
    require_instance_admin(state, caller)?;
    provider_name(name)?;
    let kind: ProviderKind = parse_kind(&input.kind).ok_or_else(|| {
        ServiceError::Invalid(
            "kind: one of openai, anthropic, gemini, mistral, xai, azure_openai".into(),
        )
    })?;
    let base_url = input
        .base_url
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let mut check = ProviderConfig::new(name, kind);
    check.base_url = base_url.clone();
    check
        .api_root()
        .map_err(|e| ServiceError::Invalid(format!("base_url: {e}")))?;
    let existing = match state.store.get_provider(name).await {
        Ok(p) => Some(p),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let key = match input.api_key {
        None => existing.and_then(|p| p.key),
        Some(None) => None,
        Some(Some(key)) => {
            let key = api_key(&key)?;
            let hub = hub(state).ok_or_else(|| {
                ServiceError::Internal("the LLM hub is not running on this node".into())
            })?;
            let cipher = hub
                .cipher()
                .await
                .map_err(|e| ServiceError::Internal(format!("encryption key: {e}")))?;
            let sealed = cipher
                .seal(name, key)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            debug_assert_eq!(sealed.hint, hint(key));
            Some(sealed)
        }
    };
    let provider = AiProvider {
        name: name.to_owned(),
        kind: kind.as_str().to_owned(),
        base_url,
        api_version: input
            .api_version
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        key,
        updated_at: clock::now(),
    };
    state.store.put_provider(&provider).await?;
    audit_admin(
        state.store.as_ref(),
        caller,
        actions::AI_PROVIDER_PUT,
        name.to_owned(),
        json!({ "kind": provider.kind, "base_url": provider.base_url, "key_set": provider.key.is_some() }),
    )
    .await;
    reload(state).await?;
    Ok(view(state, provider))
}

pub async fn delete_provider(state: &AppState, caller: &Caller, name: &str) -> ServiceResult<()> {
    require_instance_admin(state, caller)?;
    let users: Vec<String> = state
        .store
        .list_models()
        .await?
        .into_iter()
        .filter(|m| m.provider == name)
        .map(|m| m.name)
        .collect();
    if !users.is_empty() {
        return Err(ServiceError::Conflict(format!(
            "models use this provider: {}",
            users.join(", ")
        )));
    }
    if !state.store.delete_provider(name).await? {
        return Err(ServiceError::NotFound("provider not found".into()));
    }
    audit_admin(
        state.store.as_ref(),
        caller,
        actions::AI_PROVIDER_DELETE,
        name.to_owned(),
        json!({}),
    )
    .await;
    reload(state).await
}

/// Sends one small real request through the provider.
pub async fn test_provider(
    state: &AppState,
    caller: &Caller,
    name: &str,
    model_id: Option<String>,
) -> ServiceResult<ProbeOutcome> {
    require_instance_admin(state, caller)?;
    let hub = hub(state)
        .ok_or_else(|| ServiceError::Internal("the LLM hub is not running on this node".into()))?;
    let catalog = hub.catalog();
    let account = catalog
        .account(name)
        .cloned()
        .ok_or_else(|| ServiceError::NotFound("provider not found".into()))?;
    let model = match model_id {
        Some(id) => ModelConfig::new("probe", name, field("model_id", &id, MODEL_FIELD_MAX)?),
        None => catalog.first_model_of(name).cloned().ok_or_else(|| {
            ServiceError::Invalid(
                "model_id: required (no enabled model uses this provider yet)".into(),
            )
        })?,
    };
    let outcome = atrium_actors::ai::probe::run(&hub.base(), account, model).await;
    let record = UsageRecord {
        id: 0,
        org_id: caller.org(),
        user_id: caller.id(),
        conversation_id: None,
        stream_id: None,
        model: outcome.model_id.clone(),
        provider: name.to_owned(),
        purpose: UsagePurpose::Test,
        outcome: if outcome.ok {
            UsageOutcome::Completed
        } else {
            UsageOutcome::Failed
        },
        streamed: false,
        input_tokens: u64::from(outcome.usage.input_tokens),
        output_tokens: u64::from(outcome.usage.output_tokens),
        cost_micros: 0,
        error_code: outcome.error_code.clone(),
        at: clock::now(),
    };
    if let Err(e) = state.store.record_usage(&record).await {
        tracing::warn!(error = %e, "could not record the provider test's usage");
    }
    audit_admin(
        state.store.as_ref(),
        caller,
        actions::AI_PROVIDER_TEST,
        name.to_owned(),
        json!({ "ok": outcome.ok, "model_id": outcome.model_id, "error_code": outcome.error_code }),
    )
    .await;
    Ok(outcome)
}

// ---- models ----

/// A model's fields as an administrator sends them (create: `name`, `provider`, `model_id`
/// required; update: only what changes).
#[derive(Clone, Debug, Default)]
pub struct ModelFields {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub provider: Option<String>,
    pub model_id: Option<String>,
    pub deployment: super::ai::Change<String>,
    pub enabled: Option<bool>,
    pub is_default: Option<bool>,
    pub supports_temperature: Option<bool>,
    pub uses_max_completion_tokens: Option<bool>,
    pub max_tokens: super::ai::Change<u32>,
    pub fallback: Option<Vec<String>>,
    pub input_price: Option<i64>,
    pub output_price: Option<i64>,
}

pub async fn list_models(state: &AppState, caller: &Caller) -> ServiceResult<Vec<AiModel>> {
    require_instance_admin(state, caller)?;
    Ok(state.store.list_models().await?)
}

async fn apply_model(state: &AppState, m: &mut AiModel, f: ModelFields) -> ServiceResult<()> {
    if let Some(name) = f.name {
        m.name = field("name", &name, MODEL_FIELD_MAX)?;
    }
    if let Some(d) = f.display_name {
        m.display_name = field("display_name", &d, MODEL_FIELD_MAX)?;
    }
    if let Some(p) = f.provider {
        m.provider = p.trim().to_owned();
    }
    if let Some(id) = f.model_id {
        m.model_id = field("model_id", &id, MODEL_FIELD_MAX)?;
    }
    if let Some(d) = f.deployment {
        m.deployment = d
            .map(|d| field("deployment", &d, MODEL_FIELD_MAX))
            .transpose()?;
    }
    if let Some(v) = f.enabled {
        m.enabled = v;
    }
    if let Some(v) = f.is_default {
        m.is_default = v;
    }
    if let Some(v) = f.supports_temperature {
        m.supports_temperature = v;
    }
    if let Some(v) = f.uses_max_completion_tokens {
        m.uses_max_completion_tokens = v;
    }
    if let Some(v) = f.max_tokens {
        if v == Some(0) {
            return Err(ServiceError::Invalid("max_tokens: at least 1".into()));
        }
        m.max_tokens = v;
    }
    if let Some(p) = f.input_price {
        m.input_price = Price(p);
    }
    if let Some(p) = f.output_price {
        m.output_price = Price(p);
    }
    if m.input_price.0 < 0 || m.output_price.0 < 0 {
        return Err(ServiceError::Invalid("prices: must not be negative".into()));
    }
    if m.is_default && !m.enabled {
        return Err(ServiceError::Invalid(
            "is_default: a disabled model cannot be the default".into(),
        ));
    }
    let local = hub(state).map(|h| h.base().local_bot).unwrap_or_default();
    if local.enabled && m.name == local.model {
        return Err(ServiceError::Invalid(format!(
            "name: '{}' is the local bot's name",
            m.name
        )));
    }
    // The provider must exist.
    let providers = state.store.list_providers().await?;
    let provider = providers
        .iter()
        .find(|p| p.name == m.provider)
        .ok_or_else(|| {
            ServiceError::Invalid(format!("provider: no provider named '{}'", m.provider))
        })?;
    if provider.kind == ProviderKind::AzureOpenAi.as_str() && m.deployment.is_none() {
        m.deployment = Some(m.model_id.clone());
    }
    if let Some(fallback) = f.fallback {
        if fallback.len() > MAX_FALLBACKS {
            return Err(ServiceError::Invalid(format!(
                "fallback: at most {MAX_FALLBACKS} models"
            )));
        }
        let models = state.store.list_models().await?;
        for name in &fallback {
            let known =
                models.iter().any(|x| &x.name == name) || (local.enabled && *name == local.model);
            if !known || *name == m.name {
                return Err(ServiceError::Invalid(format!(
                    "fallback: '{name}' is not another configured model"
                )));
            }
        }
        m.fallback = fallback;
    }
    Ok(())
}

fn conflict(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => ServiceError::Conflict("a model with this name exists".into()),
        other => other.into(),
    }
}

pub async fn create_model(
    state: &AppState,
    caller: &Caller,
    fields: ModelFields,
) -> ServiceResult<AiModel> {
    require_instance_admin(state, caller)?;
    if fields.name.is_none() || fields.provider.is_none() || fields.model_id.is_none() {
        return Err(ServiceError::Invalid(
            "name, provider and model_id: required".into(),
        ));
    }
    let now = clock::now();
    let mut m = AiModel {
        id: AiModelId::new(),
        name: String::new(),
        display_name: String::new(),
        provider: String::new(),
        model_id: String::new(),
        deployment: None,
        enabled: true,
        is_default: false,
        supports_temperature: true,
        uses_max_completion_tokens: false,
        max_tokens: None,
        fallback: Vec::new(),
        input_price: Price(0),
        output_price: Price(0),
        created_at: now,
        updated_at: now,
    };
    let display = fields.display_name.is_none();
    apply_model(state, &mut m, fields).await?;
    if display {
        m.display_name = m.name.clone();
    }
    state.store.create_model(&m).await.map_err(conflict)?;
    audit_admin(
        state.store.as_ref(),
        caller,
        actions::AI_MODEL_CREATE,
        m.id.to_string(),
        json!({ "name": m.name, "provider": m.provider, "default": m.is_default }),
    )
    .await;
    reload(state).await?;
    Ok(m)
}

pub async fn update_model(
    state: &AppState,
    caller: &Caller,
    id: AiModelId,
    fields: ModelFields,
) -> ServiceResult<AiModel> {
    require_instance_admin(state, caller)?;
    let mut m = state.store.get_model(id).await.or_not_found("model")?;
    apply_model(state, &mut m, fields).await?;
    m.updated_at = clock::now();
    let m = state.store.update_model(&m).await.map_err(conflict)?;
    audit_admin(
        state.store.as_ref(),
        caller,
        actions::AI_MODEL_UPDATE,
        m.id.to_string(),
        json!({ "name": m.name, "enabled": m.enabled, "default": m.is_default }),
    )
    .await;
    reload(state).await?;
    Ok(m)
}

pub async fn delete_model(state: &AppState, caller: &Caller, id: AiModelId) -> ServiceResult<()> {
    require_instance_admin(state, caller)?;
    let m = state.store.get_model(id).await.or_not_found("model")?;
    state.store.delete_model(id).await?;
    audit_admin(
        state.store.as_ref(),
        caller,
        actions::AI_MODEL_DELETE,
        id.to_string(),
        json!({ "name": m.name }),
    )
    .await;
    reload(state).await
}

// ---- usage, budgets, stats ----

/// Spend of the caller's organization in a window.
pub struct UsageReport {
    pub totals: UsageTotals,
    pub by_model: Vec<(String, UsageTotals)>,
    pub by_user: Vec<(UserId, Option<String>, UsageTotals)>,
}

pub async fn usage(
    store: &dyn Store,
    caller: &Caller,
    window: UsageWindow,
) -> ServiceResult<UsageReport> {
    caller.require(MANAGE)?;
    let org = caller.org();
    let totals = store.usage_totals(org, None, window).await?;
    let by_model = store.usage_by_model(org, window).await?;
    let mut by_user = Vec::new();
    for (user, t) in store.usage_by_user(org, window).await? {
        let name = store.get_user(user).await.ok().map(|u| u.username);
        by_user.push((user, name, t));
    }
    Ok(UsageReport {
        totals,
        by_model,
        by_user,
    })
}

pub async fn usage_records(
    store: &dyn Store,
    caller: &Caller,
    page: Page,
) -> ServiceResult<Paged<UsageRecord>> {
    caller.require(MANAGE)?;
    Ok(store.list_usage(caller.org(), page).await?)
}

/// A budget with what was spent against it in the current period.
pub struct BudgetStatus {
    pub budget: Budget,
    pub spent: i64,
    pub period_start: OffsetDateTime,
    pub resets_at: OffsetDateTime,
}

async fn status(store: &dyn Store, budget: Budget) -> ServiceResult<BudgetStatus> {
    let now = OffsetDateTime::now_utc();
    let period_start = budget.period.start(now);
    let spent = store
        .usage_totals(
            budget.org_id,
            budget.user_id,
            UsageWindow {
                since: Some(period_start),
                until: None,
            },
        )
        .await?
        .spent(budget.metric);
    Ok(BudgetStatus {
        resets_at: budget.period.end(now),
        period_start,
        spent,
        budget,
    })
}

pub async fn list_budgets(store: &dyn Store, caller: &Caller) -> ServiceResult<Vec<BudgetStatus>> {
    caller.require(MANAGE)?;
    let mut out = Vec::new();
    for b in store.list_budgets(caller.org()).await? {
        out.push(status(store, b).await?);
    }
    Ok(out)
}

pub async fn put_budget(
    store: &dyn Store,
    caller: &Caller,
    user: Option<UserId>,
    metric: BudgetMetric,
    limit: i64,
    period: BudgetPeriod,
) -> ServiceResult<BudgetStatus> {
    caller.require(MANAGE)?;
    if limit < 0 {
        return Err(ServiceError::Invalid("limit: must not be negative".into()));
    }
    let now = clock::now();
    let budget = Budget {
        id: BudgetId::new(),
        org_id: caller.org(),
        user_id: user,
        metric,
        limit,
        period,
        created_at: now,
        updated_at: now,
    };
    let stored = store.put_budget(&budget).await.or_not_found("user")?;
    audit_admin(store, caller, actions::AI_BUDGET_PUT, stored.id.to_string(), json!({ "user_id": user, "metric": metric.as_str(), "limit": limit, "period": period.as_str() })).await;
    status(store, stored).await
}

pub async fn delete_budget(store: &dyn Store, caller: &Caller, id: BudgetId) -> ServiceResult<()> {
    caller.require(MANAGE)?;
    if !store.delete_budget(caller.org(), id).await? {
        return Err(ServiceError::NotFound("budget not found".into()));
    }
    audit_admin(
        store,
        caller,
        actions::AI_BUDGET_DELETE,
        id.to_string(),
        json!({}),
    )
    .await;
    Ok(())
}

/// The organization's overview.
pub async fn stats(store: &dyn Store, caller: &Caller) -> ServiceResult<OrgStats> {
    caller.require(MANAGE)?;
    Ok(store.org_stats(caller.org()).await?)
}
