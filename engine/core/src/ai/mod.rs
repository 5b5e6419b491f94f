//! The AI hub's domain: conversations, assistants, prompt templates, model configurations,
//! usage and budgets, as plain records and pure rules.
//!
//! - [`model`]: the records the store keeps and the HTTP API shows.
//! - [`template`]: `{{variable}}` rendering, with the variables that were missing.
//! - [`budget`]: budget periods (when a period starts, so spend resets on schedule) and the
//!   over-budget rule.
//! - [`pricing`]: the cost of a generation from a per-model price table, in integer micro-units.
//! - [`temperature`]: a sampling temperature that is always a finite number.
//! - [`title`]: the fallback title of a conversation, taken from its first message.

pub mod budget;
pub mod model;
pub mod pricing;
pub mod temperature;
pub mod template;
pub mod title;

pub use budget::{BudgetMetric, BudgetPeriod};
pub use model::{
    AiModel, AiProvider, Assistant, Budget, Conversation, ConversationMessage, ConversationRole,
    MessageStatus, PromptTemplate, SealedKey, UsageOutcome, UsagePurpose, UsageRecord, UsageTotals,
};
pub use pricing::Price;
pub use temperature::Temperature;
pub use template::{Rendered, render, variables};
