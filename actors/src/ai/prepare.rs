//! Everything a generation settles before it asks a model.
//!
//! - **Who may ask**: the conversation's owner, or, for a conversation shared with a channel,
//!   the channel's members; roles without `messages.write` (guests) may not. Another tenant's
//!   conversation id reads as unknown.
//! - **Which model, temperature and system prompt**: the first that is set of the request
//!   (`llm.start`), the conversation, the conversation's assistant, and the default (the
//!   catalog's default model; the model's own temperature; no system prompt). See [`choose`].
//! - **Budget**: every budget that applies to the user (theirs and the organization's) must have
//!   room left in its current period; otherwise the request is refused with `budget_exceeded`.
//! - **Context**: the user's message is stored first, then the latest
//!   `context_messages` messages of the conversation (the new one included) become the request.

use time::OffsetDateTime;

use atrium_core::ai::budget::exhausted;
use atrium_core::ai::{
    Assistant, Conversation, ConversationMessage, ConversationRole, MessageStatus, Temperature,
};
use atrium_core::ids::{ConversationMessageId, OrgId, UserId};
use atrium_core::protocol::ErrorCode;
use atrium_persistence::ai_store::UsageWindow;
use atrium_persistence::store::{Store, StoreError};

use super::catalog::Catalog;
use super::stream::StartRequest;
use crate::llm::{ChatMessage, ChatRequest, Role};

/// Permission needed to ask an assistant (the same as for writing in a channel).
pub const USE_PERMISSION: &str = "messages.write";

/// The request's own choices, the strongest layer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub model: Option<String>,
    pub temperature: Option<Temperature>,
    pub system: Option<String>,
}

/// What a generation runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub model: String,
    pub temperature: Option<Temperature>,
    pub system: Option<String>,
}

/// Applies the precedence request > conversation > assistant > default to each setting on its
/// own. Empty system prompts count as unset. `None` when no model is set anywhere and there is
/// no default either.
pub fn choose(
    request: &Overrides,
    conversation: &Conversation,
    assistant: Option<&Assistant>,
    default_model: Option<&str>,
) -> Option<Choice> {
    let model = request
        .model
        .clone()
        .or_else(|| conversation.model.clone())
        .or_else(|| assistant.and_then(|a| a.model.clone()))
        .or_else(|| default_model.map(str::to_owned))?;
    let temperature = request
        .temperature
        .or(conversation.temperature)
        .or_else(|| assistant.and_then(|a| a.temperature));
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let system = nonempty(&request.system)
        .or_else(|| nonempty(&conversation.system_prompt))
        .or_else(|| assistant.and_then(|a| nonempty(&Some(a.system_prompt.clone()))));
    Some(Choice {
        model,
        temperature,
        system,
    })
}

/// A refused `llm.start`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn internal(error: StoreError) -> Refusal {
    tracing::error!(%error, "llm.start: store failed");
    Refusal::new(
        ErrorCode::Internal,
        "the request could not be prepared; retry",
    )
}

/// A prepared generation.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub conversation: Conversation,
    pub choice: Choice,
    pub request: ChatRequest,
    /// The stored user message.
    pub question: ConversationMessage,
}

/// Checks access and budget, stores the user's message and builds the provider request.
pub async fn prepare(
    store: &dyn Store,
    catalog: &Catalog,
    request: &StartRequest,
    context_messages: u32,
) -> Result<Prepared, Refusal> {
    let (org, user) = (request.org, request.from.user);
    if !request.from.role.can(USE_PERMISSION) {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            format!("your role ({}) may not use assistants", request.from.role),
        ));
    }
    let unknown = || Refusal::new(ErrorCode::NotFound, "no such conversation");
    let conversation = match store.get_conversation(org, request.conversation).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(unknown()),
        Err(e) => return Err(internal(e)),
    };
    match conversation.channel_id {
        None if conversation.user_id != user => return Err(unknown()),
        None => {}
        Some(channel) => match store.get_member(channel, user).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(Refusal::new(
                    ErrorCode::Forbidden,
                    "this conversation belongs to a channel you are not a member of",
                ));
            }
            Err(e) => return Err(internal(e)),
        },
    }
    let assistant = match conversation.assistant_id {
        Some(id) => match store.get_assistant(org, id).await {
            Ok(a) => Some(a),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(internal(e)),
        },
        None => None,
    };
    let choice = choose(
        &request.overrides,
        &conversation,
        assistant.as_ref(),
        catalog.router.default_model(),
    )
    .ok_or_else(|| Refusal::new(ErrorCode::Internal, "no model is configured on this node"))?;
    if !catalog.knows(&choice.model) {
        return Err(Refusal::new(
            ErrorCode::Invalid,
            format!("unknown or disabled model '{}'", choice.model),
        ));
    }
    check_budgets(store, org, user, OffsetDateTime::now_utc()).await?;

    let question = ConversationMessage {
        id: ConversationMessageId::new(),
        conversation_id: conversation.id,
        seq: 0,
        role: ConversationRole::User,
        content: request.content.clone(),
        author_id: Some(user),
        model: None,
        stream_id: None,
        status: MessageStatus::Complete,
        created_at: now_ms(),
    };
    let question = store
        .append_conversation_message(org, &question)
        .await
        .map_err(internal)?;
    let history = store
        .list_conversation_messages(conversation.id, None, context_messages.max(1))
        .await
        .map_err(internal)?;
    let mut messages = Vec::with_capacity(history.len() + 1);
    if let Some(system) = &choice.system {
        messages.push(ChatMessage::system(system.clone()));
    }
    messages.extend(history.into_iter().map(|m| {
        let role = match m.role {
            ConversationRole::System => Role::System,
            ConversationRole::User => Role::User,
            ConversationRole::Assistant => Role::Assistant,
        };
        ChatMessage::new(role, m.content)
    }));
    let mut chat = ChatRequest::new(choice.model.clone(), messages);
    chat.temperature = choice.temperature.map(Temperature::get);
    Ok(Prepared {
        conversation,
        choice,
        request: chat,
        question,
    })
}

/// Refuses with `budget_exceeded` when any budget of the user or the organization has no room
/// left in its current period.
pub async fn check_budgets(
    store: &dyn Store,
    org: OrgId,
    user: UserId,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let budgets = store.budgets_for(org, user).await.map_err(internal)?;
    for budget in budgets {
        let window = UsageWindow {
            since: Some(budget.period.start(now)),
            until: None,
        };
        let spent = store
            .usage_totals(org, budget.user_id, window)
            .await
            .map_err(internal)?
            .spent(budget.metric);
        if exhausted(spent, budget.limit) {
            let whose = if budget.user_id.is_some() {
                "your"
            } else {
                "your organization's"
            };
            return Err(Refusal::new(
                ErrorCode::BudgetExceeded,
                format!(
                    "{whose} {} budget for this {} is used up ({spent} of {}); it resets at {}",
                    budget.metric.as_str(),
                    budget.period.as_str(),
                    budget.limit,
                    budget
                        .period
                        .end(now)
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// Now, cut to the millisecond the stores keep.
pub fn now_ms() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_millisecond(t.millisecond()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_core::ids::{AssistantId, ConversationId};

    fn t(v: f32) -> Option<Temperature> {
        Some(Temperature::new(v).unwrap())
    }

    fn conversation() -> Conversation {
        Conversation {
            id: ConversationId::new(),
            org_id: OrgId::new(),
            user_id: UserId::new(),
            channel_id: None,
            assistant_id: None,
            title: None,
            model: None,
            temperature: None,
            system_prompt: None,
            created_at: now_ms(),
            updated_at: now_ms(),
        }
    }

    fn assistant() -> Assistant {
        Assistant {
            id: AssistantId::new(),
            org_id: OrgId::new(),
            owner_id: None,
            name: "a".into(),
            description: String::new(),
            icon: None,
            system_prompt: "assistant prompt".into(),
            model: Some("assistant-model".into()),
            temperature: t(0.25),
            created_at: now_ms(),
            updated_at: now_ms(),
        }
    }

    #[test]
    fn each_setting_takes_the_strongest_layer_that_sets_it() {
        let mut c = conversation();
        let a = assistant();
        let none = Overrides::default();
        // Only the default.
        let got = choose(&none, &c, None, Some("default")).unwrap();
        assert_eq!(
            (got.model.as_str(), got.temperature, got.system),
            ("default", None, None)
        );
        // The assistant beats the default.
        let got = choose(&none, &c, Some(&a), Some("default")).unwrap();
        assert_eq!(got.model, "assistant-model");
        assert_eq!(got.temperature, t(0.25));
        assert_eq!(got.system.as_deref(), Some("assistant prompt"));
        // The conversation beats the assistant, setting by setting.
        c.model = Some("conversation-model".into());
        c.system_prompt = Some("   ".into()); // blank: does not count
        let got = choose(&none, &c, Some(&a), Some("default")).unwrap();
        assert_eq!(got.model, "conversation-model");
        assert_eq!(got.temperature, t(0.25));
        assert_eq!(got.system.as_deref(), Some("assistant prompt"));
        c.temperature = t(1.5);
        c.system_prompt = Some("conversation prompt".into());
        // The request beats everything.
        let request = Overrides {
            model: Some("request-model".into()),
            temperature: t(0.0),
            system: Some("request prompt".into()),
        };
        let got = choose(&request, &c, Some(&a), Some("default")).unwrap();
        assert_eq!(got.model, "request-model");
        assert_eq!(got.temperature, t(0.0));
        assert_eq!(got.system.as_deref(), Some("request prompt"));
        // Nothing anywhere: no model.
        assert!(choose(&none, &conversation(), None, None).is_none());
    }
}
