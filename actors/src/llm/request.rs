//! The provider-neutral chat request: what every adapter translates into its own wire format.

use serde::{Deserialize, Serialize};

/// Who wrote a message of the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model (an assistant's system prompt). Providers that keep them apart
    /// from the turns (Anthropic, Gemini) receive them in their dedicated field.
    System,
    User,
    Assistant,
}

impl Role {
    /// The lowercase name used by OpenAI-compatible APIs and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of the conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// A request for one streamed completion.
///
/// `model` is a model *name* from the configuration (see [`crate::llm::ModelConfig::name`]),
/// not the provider's model id: the [`crate::llm::ModelRouter`] resolves it, so a fallback can
/// rerun the same request against another model by changing only this field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature. Adapters clamp it to the provider's accepted range and drop it for
    /// models configured with `supports_temperature = false`.
    pub temperature: Option<f32>,
    /// Upper bound on generated tokens; when absent the model's configured default applies.
    pub max_tokens: Option<u32>,
}

impl ChatRequest {
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            temperature: None,
            max_tokens: None,
        }
    }

    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// The same request addressed to another model (used when falling back).
    pub fn for_model(&self, model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..self.clone()
        }
    }

    /// The system messages joined by blank lines, for providers with a separate system field.
    pub(crate) fn system_prompt(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }
}
