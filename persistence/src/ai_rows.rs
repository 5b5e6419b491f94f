//! AI hub rows to records, once for both back ends.
//!
//! The AI tables use the same column names and compatible types on SQLite and PostgreSQL; only
//! ids (blob vs uuid) and times (unix milliseconds vs timestamptz) decode differently. [`AiRow`]
//! hides that, so each mapper below is written once.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

use atrium_core::ai::{
    AiModel, AiProvider, Assistant, Budget, BudgetMetric, BudgetPeriod, Conversation,
    ConversationMessage, ConversationRole, MessageStatus, Price, PromptTemplate, SealedKey,
    Temperature, UsageOutcome, UsagePurpose, UsageRecord, UsageTotals,
};

use crate::millis;
use crate::sql_error::corrupt;
use crate::store::StoreResult;

/// Typed column access shared by both back ends.
pub(crate) trait AiRow {
    fn uuid(&self, column: &str) -> StoreResult<Uuid>;
    fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>>;
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn boolean(&self, column: &str) -> StoreResult<bool>;
    fn time(&self, column: &str) -> StoreResult<OffsetDateTime>;
    fn opt_f32(&self, column: &str) -> StoreResult<Option<f32>>;
    fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>>;
}

macro_rules! impl_ai_row {
    ($row:ty, $time:expr) => {
        impl AiRow for $row {
            fn uuid(&self, c: &str) -> StoreResult<Uuid> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn opt_uuid(&self, c: &str) -> StoreResult<Option<Uuid>> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn text(&self, c: &str) -> StoreResult<String> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn opt_text(&self, c: &str) -> StoreResult<Option<String>> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn int(&self, c: &str) -> StoreResult<i64> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn opt_int(&self, c: &str) -> StoreResult<Option<i64>> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn boolean(&self, c: &str) -> StoreResult<bool> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn time(&self, c: &str) -> StoreResult<OffsetDateTime> {
                let decode: fn(&$row, &str) -> StoreResult<OffsetDateTime> = $time;
                decode(self, c)
            }
            fn opt_f32(&self, c: &str) -> StoreResult<Option<f32>> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
            fn opt_bytes(&self, c: &str) -> StoreResult<Option<Vec<u8>>> {
                self.try_get(c).map_err(|e| corrupt(c, e))
            }
        }
    };
}

impl_ai_row!(SqliteRow, |row, c| {
    let ms: i64 = row.try_get(c).map_err(|e| corrupt(c, e))?;
    millis::from_millis(ms)
});
impl_ai_row!(PgRow, |row, c| row.try_get(c).map_err(|e| corrupt(c, e)));

fn temperature(row: &impl AiRow, c: &str) -> StoreResult<Option<Temperature>> {
    row.opt_f32(c)?
        .map(|t| Temperature::new(t).map_err(|e| corrupt(c, e)))
        .transpose()
}

fn unsigned(row: &impl AiRow, c: &str) -> StoreResult<u64> {
    u64::try_from(row.int(c)?).map_err(|e| corrupt(c, e))
}

fn parsed<T>(row: &impl AiRow, c: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let raw = row.text(c)?;
    parse(&raw).ok_or_else(|| corrupt(c, &raw))
}

pub(crate) fn conversation(row: &impl AiRow) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: row.uuid("id")?.into(),
        org_id: row.uuid("org_id")?.into(),
        user_id: row.uuid("user_id")?.into(),
        channel_id: row.opt_uuid("channel_id")?.map(Into::into),
        assistant_id: row.opt_uuid("assistant_id")?.map(Into::into),
        title: row.opt_text("title")?,
        model: row.opt_text("model")?,
        temperature: temperature(row, "temperature")?,
        system_prompt: row.opt_text("system_prompt")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn message(row: &impl AiRow) -> StoreResult<ConversationMessage> {
    Ok(ConversationMessage {
        id: row.uuid("id")?.into(),
        conversation_id: row.uuid("conversation_id")?.into(),
        seq: row.int("seq")?,
        role: parsed(row, "role", ConversationRole::parse)?,
        content: row.text("content")?,
        author_id: row.opt_uuid("author_id")?.map(Into::into),
        model: row.opt_text("model")?,
        stream_id: row.opt_uuid("stream_id")?.map(Into::into),
        status: parsed(row, "status", MessageStatus::parse)?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn assistant(row: &impl AiRow) -> StoreResult<Assistant> {
    Ok(Assistant {
        id: row.uuid("id")?.into(),
        org_id: row.uuid("org_id")?.into(),
        owner_id: row.opt_uuid("owner_id")?.map(Into::into),
        name: row.text("name")?,
        description: row.text("description")?,
        icon: row.opt_text("icon")?,
        system_prompt: row.text("system_prompt")?,
        model: row.opt_text("model")?,
        temperature: temperature(row, "temperature")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn template(row: &impl AiRow) -> StoreResult<PromptTemplate> {
    Ok(PromptTemplate {
        id: row.uuid("id")?.into(),
        org_id: row.uuid("org_id")?.into(),
        owner_id: row.opt_uuid("owner_id")?.map(Into::into),
        name: row.text("name")?,
        description: row.text("description")?,
        body: row.text("body")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn provider(row: &impl AiRow) -> StoreResult<AiProvider> {
    let key = match (row.opt_bytes("key_cipher")?, row.opt_text("key_hint")?) {
        (Some(ciphertext), hint) => Some(SealedKey {
            ciphertext,
            hint: hint.unwrap_or_default(),
        }),
        (None, _) => None,
    };
    Ok(AiProvider {
        name: row.text("name")?,
        kind: row.text("kind")?,
        base_url: row.opt_text("base_url")?,
        api_version: row.opt_text("api_version")?,
        key,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn model(row: &impl AiRow) -> StoreResult<AiModel> {
    let fallback = row.text("fallback")?;
    Ok(AiModel {
        id: row.uuid("id")?.into(),
        name: row.text("name")?,
        display_name: row.text("display_name")?,
        provider: row.text("provider")?,
        model_id: row.text("model_id")?,
        deployment: row.opt_text("deployment")?,
        enabled: row.boolean("enabled")?,
        is_default: row.boolean("is_default")?,
        supports_temperature: row.boolean("supports_temperature")?,
        uses_max_completion_tokens: row.boolean("uses_max_completion_tokens")?,
        max_tokens: row
            .opt_int("max_tokens")?
            .map(|t| u32::try_from(t).map_err(|e| corrupt("max_tokens", e)))
            .transpose()?,
        fallback: serde_json::from_str(&fallback).map_err(|e| corrupt("fallback", e))?,
        input_price: Price(row.int("input_price")?),
        output_price: Price(row.int("output_price")?),
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn usage(row: &impl AiRow) -> StoreResult<UsageRecord> {
    Ok(UsageRecord {
        id: row.int("id")?,
        org_id: row.uuid("org_id")?.into(),
        user_id: row.uuid("user_id")?.into(),
        conversation_id: row.opt_uuid("conversation_id")?.map(Into::into),
        stream_id: row.opt_uuid("stream_id")?.map(Into::into),
        model: row.text("model")?,
        provider: row.text("provider")?,
        purpose: parsed(row, "purpose", UsagePurpose::parse)?,
        outcome: parsed(row, "outcome", UsageOutcome::parse)?,
        streamed: row.boolean("streamed")?,
        input_tokens: unsigned(row, "input_tokens")?,
        output_tokens: unsigned(row, "output_tokens")?,
        cost_micros: row.int("cost_micros")?,
        error_code: row.opt_text("error_code")?,
        at: row.time("at")?,
    })
}

/// Columns `requests, input_tokens, output_tokens, cost_micros` of an aggregate query.
pub(crate) fn totals(row: &impl AiRow) -> StoreResult<UsageTotals> {
    Ok(UsageTotals {
        requests: unsigned(row, "requests")?,
        input_tokens: unsigned(row, "input_tokens")?,
        output_tokens: unsigned(row, "output_tokens")?,
        cost_micros: row.int("cost_micros")?,
    })
}

pub(crate) fn budget(row: &impl AiRow) -> StoreResult<Budget> {
    Ok(Budget {
        id: row.uuid("id")?.into(),
        org_id: row.uuid("org_id")?.into(),
        user_id: row.opt_uuid("user_id")?.map(Into::into),
        metric: parsed(row, "metric", BudgetMetric::parse)?,
        limit: row.int("limit_value")?,
        period: parsed(row, "period", BudgetPeriod::parse)?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// Column lists the AI queries select (both back ends read exactly these).
macro_rules! conversation_columns {
    () => {
        "id, org_id, user_id, channel_id, assistant_id, title, model, temperature, system_prompt, \
         created_at, updated_at"
    };
}
macro_rules! ai_message_columns {
    () => {
        "id, conversation_id, seq, role, content, author_id, model, stream_id, status, created_at"
    };
}
macro_rules! assistant_columns {
    () => {
        "id, org_id, owner_id, name, description, icon, system_prompt, model, temperature, \
         created_at, updated_at"
    };
}
macro_rules! template_columns {
    () => {
        "id, org_id, owner_id, name, description, body, created_at, updated_at"
    };
}
macro_rules! provider_columns {
    () => {
        "name, kind, base_url, api_version, key_cipher, key_hint, updated_at"
    };
}
macro_rules! model_columns {
    () => {
        "id, name, display_name, provider, model_id, deployment, enabled, is_default, \
         supports_temperature, uses_max_completion_tokens, max_tokens, fallback, input_price, \
         output_price, created_at, updated_at"
    };
}
macro_rules! usage_columns {
    () => {
        "id, org_id, user_id, conversation_id, stream_id, model, provider, purpose, outcome, \
         streamed, input_tokens, output_tokens, cost_micros, error_code, at"
    };
}
macro_rules! budget_columns {
    () => {
        "id, org_id, user_id, metric, limit_value, period, created_at, updated_at"
    };
}
/// The aggregate columns [`totals`] reads.
macro_rules! totals_columns {
    () => {
        "CAST(COUNT(*) AS BIGINT) AS requests, \
         CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens, \
         CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens, \
         CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS cost_micros"
    };
}

pub(crate) use {
    ai_message_columns, assistant_columns, budget_columns, conversation_columns, model_columns,
    provider_columns, template_columns, totals_columns, usage_columns,
};
