//! The AI hub's records: plain data the store keeps, the actors use and the HTTP API shows.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ai::budget::{BudgetMetric, BudgetPeriod};
use crate::ai::pricing::Price;
use crate::ai::temperature::Temperature;
use crate::ids::{
    AiModelId, AssistantId, BudgetId, ChannelId, ConversationId, ConversationMessageId, OrgId,
    PromptTemplateId, StreamId, UserId,
};

/// A conversation with an assistant. Personal (only its owner sees it) unless `channel_id` is
/// set: then it is shared with the channel's members, and its generations stream to the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub org_id: OrgId,
    /// Who created it.
    pub user_id: UserId,
    pub channel_id: Option<ChannelId>,
    pub assistant_id: Option<AssistantId>,
    /// Set by the auto-title after the first exchange (or by the user).
    pub title: Option<String>,
    /// Overrides the assistant's and the default model.
    pub model: Option<String>,
    pub temperature: Option<Temperature>,
    /// Overrides the assistant's system prompt.
    pub system_prompt: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Who wrote a conversation message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationRole {
    System,
    User,
    Assistant,
}

impl ConversationRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationRole::System => "system",
            ConversationRole::User => "user",
            ConversationRole::Assistant => "assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "system" => Some(ConversationRole::System),
            "user" => Some(ConversationRole::User),
            "assistant" => Some(ConversationRole::Assistant),
            _ => None,
        }
    }
}

/// Whether an assistant answer is whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// A user message, or an answer that finished normally.
    Complete,
    /// An answer cut short: cancelled, or the provider failed after text was shown. The text is
    /// what the user saw, exactly once.
    Partial,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Partial => "partial",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complete" => Some(MessageStatus::Complete),
            "partial" => Some(MessageStatus::Partial),
            _ => None,
        }
    }
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationMessage {
    pub id: ConversationMessageId,
    pub conversation_id: ConversationId,
    /// 1, 2, 3, … in the conversation.
    pub seq: i64,
    pub role: ConversationRole,
    pub content: String,
    /// The user who wrote it (user messages).
    pub author_id: Option<UserId>,
    /// The model that answered (assistant messages).
    pub model: Option<String>,
    /// The generation that produced it (assistant messages).
    pub stream_id: Option<StreamId>,
    pub status: MessageStatus,
    pub created_at: OffsetDateTime,
}

/// An assistant persona. Global (`owner_id` is `None`, managed by admins, visible to the whole
/// organization) or personal (visible to and managed by its owner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assistant {
    pub id: AssistantId,
    pub org_id: OrgId,
    pub owner_id: Option<UserId>,
    pub name: String,
    pub description: String,
    /// An emoji or an icon name, for clients.
    pub icon: Option<String>,
    pub system_prompt: String,
    pub model: Option<String>,
    pub temperature: Option<Temperature>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A prompt template. Global (`owner_id` `None`, admins) or personal, like assistants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptTemplate {
    pub id: PromptTemplateId,
    pub org_id: OrgId,
    pub owner_id: Option<UserId>,
    pub name: String,
    pub description: String,
    /// Text with `{{variable}}` placeholders (see [`crate::ai::template`]).
    pub body: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A model administrators configured: what users may pick, how to reach it, what it costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AiModel {
    pub id: AiModelId,
    /// The name requests use (`llm.start {model}`); unique.
    pub name: String,
    pub display_name: String,
    /// The provider account (see [`AiProvider::name`]).
    pub provider: String,
    /// The provider's model id (`gpt-4o`, `claude-sonnet-4-5`).
    pub model_id: String,
    /// Azure OpenAI: the deployment name (the URL names it instead of the model id).
    pub deployment: Option<String>,
    /// Disabled models are not offered and not used, not even as fallbacks.
    pub enabled: bool,
    /// The model for requests that name none; at most one model is the default.
    pub is_default: bool,
    /// `false` for models that reject a `temperature` parameter.
    pub supports_temperature: bool,
    /// `true` for models that need `max_completion_tokens` instead of `max_tokens`.
    pub uses_max_completion_tokens: bool,
    pub max_tokens: Option<u32>,
    /// Models tried, in order, when this one fails before its first delta.
    pub fallback: Vec<String>,
    pub input_price: Price,
    pub output_price: Price,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A provider API key as stored: AES-256-GCM ciphertext (nonce first) and the last characters
/// of the key for recognising it in a masked listing. The plaintext never reaches the store.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub ciphertext: Vec<u8>,
    /// The key's last four characters.
    pub hint: String,
}

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedKey(****{})", self.hint)
    }
}

/// A provider account administrators configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AiProvider {
    /// What models refer to (`openai`, `anthropic`, `azure-eu`).
    pub name: String,
    /// The wire format: `openai`, `anthropic`, `gemini`, `mistral`, `xai`, `azure_openai`.
    pub kind: String,
    /// API root (required for Azure); `None` uses the kind's public endpoint.
    pub base_url: Option<String>,
    pub api_version: Option<String>,
    pub key: Option<SealedKey>,
    pub updated_at: OffsetDateTime,
}

/// Why a request was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsagePurpose {
    /// A user's `llm.start`.
    Chat,
    /// The background auto-title.
    Title,
    /// An administrator's live provider test.
    Test,
}

impl UsagePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            UsagePurpose::Chat => "chat",
            UsagePurpose::Title => "title",
            UsagePurpose::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "chat" => Some(UsagePurpose::Chat),
            "title" => Some(UsagePurpose::Title),
            "test" => Some(UsagePurpose::Test),
            _ => None,
        }
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageOutcome {
    Completed,
    Cancelled,
    Failed,
}

impl UsageOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageOutcome::Completed => "completed",
            UsageOutcome::Cancelled => "cancelled",
            UsageOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "completed" => Some(UsageOutcome::Completed),
            "cancelled" => Some(UsageOutcome::Cancelled),
            "failed" => Some(UsageOutcome::Failed),
            _ => None,
        }
    }
}

/// One provider request, recorded whatever its outcome. A generation that fell back records
/// one entry per model it tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRecord {
    /// Assigned by the store.
    pub id: i64,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub conversation_id: Option<ConversationId>,
    pub stream_id: Option<StreamId>,
    pub model: String,
    pub provider: String,
    pub purpose: UsagePurpose,
    pub outcome: UsageOutcome,
    /// Whether any text was streamed to the user.
    pub streamed: bool,
    /// As reported by the provider (0 when it reported nothing).
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_micros: i64,
    /// The failure's code (`provider_unavailable`, `provider_timeout`, …).
    pub error_code: Option<String>,
    pub at: OffsetDateTime,
}

/// Usage summed over many records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTotals {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_micros: i64,
}

impl UsageTotals {
    pub fn tokens(&self) -> i64 {
        i64::try_from(self.input_tokens.saturating_add(self.output_tokens)).unwrap_or(i64::MAX)
    }

    /// The amount `metric` counts.
    pub fn spent(&self, metric: BudgetMetric) -> i64 {
        match metric {
            BudgetMetric::Tokens => self.tokens(),
            BudgetMetric::Cost => self.cost_micros,
        }
    }
}

/// A budget: a user's (`user_id` set) or the whole organization's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub id: BudgetId,
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
    pub metric: BudgetMetric,
    /// Tokens, or micro-units of currency, per period.
    pub limit: i64,
    pub period: BudgetPeriod,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}
