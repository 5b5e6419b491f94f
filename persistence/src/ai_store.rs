//! What the AI hub asks of the database: conversations and their messages, assistants, prompt
//! templates (the hub, [`AiHubStore`]), and provider accounts, model configurations, usage and
//! budgets (the administration, [`AiAdminStore`]).
//!
//! Tenant-owned records (conversations, assistants, templates, usage, budgets) are always read
//! through the caller's organization, so another tenant's id reads as `NotFound`. Provider
//! accounts and model configurations belong to the node: every organization on it uses the same
//! providers (administrators of the default organization manage them).

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ai::{
    AiModel, AiProvider, Assistant, Budget, Conversation, ConversationMessage, PromptTemplate,
    UsageRecord, UsageTotals,
};
use atrium_core::ids::{
    AiModelId, AssistantId, BudgetId, ChannelId, ConversationId, OrgId, PromptTemplateId, UserId,
};

use crate::store::{Page, Paged, StoreResult};

/// The most conversation messages one read returns; larger limits are clamped.
pub const MAX_CONVERSATION_MESSAGES_PER_READ: u32 = 500;

/// Counts for the admin's system overview.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrgStats {
    pub users: u64,
    pub active_users: u64,
    pub channels: u64,
    pub messages: u64,
    pub conversations: u64,
    pub conversation_messages: u64,
    pub assistants: u64,
    pub templates: u64,
    pub tickets: u64,
}

/// A window of time for usage queries; `None` ends are open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageWindow {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

#[async_trait]
pub trait AiHubStore: Send + Sync {
    /// Creates a conversation. `NotFound` if its user, channel or assistant is not in its
    /// organization.
    async fn create_conversation(&self, conversation: &Conversation) -> StoreResult<()>;
    async fn get_conversation(&self, org: OrgId, id: ConversationId) -> StoreResult<Conversation>;
    /// The conversations `user` may see: their own, and those of channels they belong to;
    /// most recently active first.
    async fn list_conversations(
        &self,
        org: OrgId,
        user: UserId,
        page: Page,
    ) -> StoreResult<Paged<Conversation>>;
    /// The conversations shared with a channel, most recently active first.
    async fn list_channel_conversations(
        &self,
        org: OrgId,
        channel: ChannelId,
    ) -> StoreResult<Vec<Conversation>>;
    /// Replaces title, assistant, model, temperature and system prompt; bumps `updated_at`.
    async fn update_conversation(&self, conversation: &Conversation) -> StoreResult<Conversation>;
    /// Sets the title only while the conversation has none (the auto-title never overwrites a
    /// title the user chose). Returns whether it was set.
    async fn set_conversation_title_if_unset(
        &self,
        org: OrgId,
        id: ConversationId,
        title: &str,
    ) -> StoreResult<bool>;
    /// Deletes the conversation and its messages; returns whether it existed.
    async fn delete_conversation(&self, org: OrgId, id: ConversationId) -> StoreResult<bool>;
    /// Appends a message, assigning the conversation's next seq (`message.seq` is ignored).
    async fn append_conversation_message(
        &self,
        org: OrgId,
        message: &ConversationMessage,
    ) -> StoreResult<ConversationMessage>;
    /// Up to `limit` messages with seq < `before_seq` (or the newest), oldest first.
    async fn list_conversation_messages(
        &self,
        conversation: ConversationId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ConversationMessage>>;

    async fn create_assistant(&self, assistant: &Assistant) -> StoreResult<()>;
    async fn get_assistant(&self, org: OrgId, id: AssistantId) -> StoreResult<Assistant>;
    /// The organization's global assistants and `user`'s own, by name.
    async fn list_assistants(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Assistant>>;
    async fn update_assistant(&self, assistant: &Assistant) -> StoreResult<Assistant>;
    async fn delete_assistant(&self, org: OrgId, id: AssistantId) -> StoreResult<bool>;

    async fn create_template(&self, template: &PromptTemplate) -> StoreResult<()>;
    async fn get_template(&self, org: OrgId, id: PromptTemplateId) -> StoreResult<PromptTemplate>;
    /// The organization's global templates and `user`'s own, by name.
    async fn list_templates(&self, org: OrgId, user: UserId) -> StoreResult<Vec<PromptTemplate>>;
    async fn update_template(&self, template: &PromptTemplate) -> StoreResult<PromptTemplate>;
    async fn delete_template(&self, org: OrgId, id: PromptTemplateId) -> StoreResult<bool>;

    /// Counts of the organization's records.
    async fn org_stats(&self, org: OrgId) -> StoreResult<OrgStats>;
}

#[async_trait]
pub trait AiAdminStore: Send + Sync {
    /// Creates or replaces a provider account (by name).
    async fn put_provider(&self, provider: &AiProvider) -> StoreResult<()>;
    /// Creates a provider account unless one of that name exists; returns whether it did.
    async fn insert_provider_if_absent(&self, provider: &AiProvider) -> StoreResult<bool>;
    async fn get_provider(&self, name: &str) -> StoreResult<AiProvider>;
    async fn list_providers(&self) -> StoreResult<Vec<AiProvider>>;
    async fn delete_provider(&self, name: &str) -> StoreResult<bool>;

    /// Creates a model; `Conflict("name")` if the name is taken. A model created as the default
    /// takes that role from every other model in the same transaction.
    async fn create_model(&self, model: &AiModel) -> StoreResult<()>;
    /// Creates a model unless one of that name exists; returns whether it did.
    async fn insert_model_if_absent(&self, model: &AiModel) -> StoreResult<bool>;
    async fn get_model(&self, id: AiModelId) -> StoreResult<AiModel>;
    /// Every model, by name.
    async fn list_models(&self) -> StoreResult<Vec<AiModel>>;
    /// Replaces a model (by id); setting `is_default` unsets it on every other model.
    async fn update_model(&self, model: &AiModel) -> StoreResult<AiModel>;
    async fn delete_model(&self, id: AiModelId) -> StoreResult<bool>;

    /// Records one provider request; returns its id.
    async fn record_usage(&self, usage: &UsageRecord) -> StoreResult<i64>;
    /// Totals of the organization (or of one user of it) in a window.
    async fn usage_totals(
        &self,
        org: OrgId,
        user: Option<UserId>,
        window: UsageWindow,
    ) -> StoreResult<UsageTotals>;
    /// Totals per user in a window, highest cost first.
    async fn usage_by_user(
        &self,
        org: OrgId,
        window: UsageWindow,
    ) -> StoreResult<Vec<(UserId, UsageTotals)>>;
    /// Totals per model in a window, highest cost first.
    async fn usage_by_model(
        &self,
        org: OrgId,
        window: UsageWindow,
    ) -> StoreResult<Vec<(String, UsageTotals)>>;
    /// The most recent usage records of the organization, newest first.
    async fn list_usage(&self, org: OrgId, page: Page) -> StoreResult<Paged<UsageRecord>>;

    /// Creates or replaces the budget of its subject (user, or the organization) and metric;
    /// returns the stored budget (an existing one keeps its id and creation time).
    async fn put_budget(&self, budget: &Budget) -> StoreResult<Budget>;
    /// The organization's budgets (its own and its users').
    async fn list_budgets(&self, org: OrgId) -> StoreResult<Vec<Budget>>;
    /// The budgets that apply to `user`: theirs and the organization's.
    async fn budgets_for(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Budget>>;
    async fn delete_budget(&self, org: OrgId, id: BudgetId) -> StoreResult<bool>;
}

/// Both halves.
pub trait AiStore: AiHubStore + AiAdminStore {}

impl<T: AiHubStore + AiAdminStore> AiStore for T {}
