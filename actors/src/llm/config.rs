//! Configuration of providers, models, timeouts and the local bot (the `[llm]` section of the
//! engine's TOML file).
//!
//! ```toml
//! [llm]
//! default_model = "claude"
//!
//! [llm.timeouts]
//! connect_ms = 5000
//! first_token_ms = 60000
//! idle_ms = 30000
//!
//! [[llm.providers]]
//! name = "anthropic"
//! kind = "anthropic"
//! api_key = "sk-ant-…"
//!
//! [[llm.providers]]
//! name = "azure"
//! kind = "azure_openai"
//! base_url = "https://my-resource.openai.azure.com"
//! api_key = "…"
//!
//! [[llm.models]]
//! name = "claude"
//! provider = "anthropic"
//! upstream = "claude-sonnet-4-5"
//! fallback = ["o4-mini", "local"]
//!
//! [[llm.models]]
//! name = "o4-mini"
//! provider = "azure"
//! upstream = "o4-mini-prod"          # the Azure deployment name
//! supports_temperature = false
//! uses_max_completion_tokens = true
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default time to establish a connection to a provider.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Default time from sending a request to its first text (reasoning models think first).
pub const DEFAULT_FIRST_TOKEN_TIMEOUT_MS: u64 = 60_000;
/// Default longest silence between two events once text is flowing.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 30_000;
/// The model name under which the local bot answers, unless configured otherwise.
pub const DEFAULT_LOCAL_BOT_MODEL: &str = "local";
/// The `anthropic-version` header sent when the provider config names none.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";
/// The Azure OpenAI `api-version` used when the provider config names none (the first GA
/// version that streams usage with `stream_options.include_usage`).
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";
/// Output limit sent to Anthropic (which requires one) when neither the request nor the model
/// config sets `max_tokens`.
pub const DEFAULT_ANTHROPIC_MAX_TOKENS: u32 = 4_096;

/// Default most generations one user may run at once.
pub const DEFAULT_MAX_STREAMS_PER_USER: usize = 4;
/// Default number of conversation messages sent to the model as context.
pub const DEFAULT_CONTEXT_MESSAGES: u32 = 40;

/// The whole LLM configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// The model used when a request names none. When absent: the first model whose provider
    /// has a key, else the local bot (so a fresh install answers).
    pub default_model: Option<String>,
    pub timeouts: LlmTimeouts,
    pub local_bot: LocalBotConfig,
    pub providers: Vec<ProviderConfig>,
    pub models: Vec<ModelConfig>,
    /// API keys by provider name, for providers whose entry (or stored account) has none. This
    /// is how keys come from the environment: `ATRIUM_LLM__KEYS__OPENAI=sk-…`.
    pub keys: BTreeMap<String, ApiKey>,
    /// The AES-256-GCM key sealing provider keys in the store: 32 bytes as base64 or 64 hex
    /// digits (`ATRIUM_LLM__ENCRYPTION_KEY`).
    pub encryption_key: Option<ApiKey>,
    pub streams: StreamSettings,
}

/// Limits of the stream actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSettings {
    /// Most generations one user may run at once; more are refused with `rate_limited`.
    pub max_per_user: usize,
    /// Conversation messages (the newest) sent to the model as context.
    pub context_messages: u32,
    /// Title new conversations in the background after their first exchange.
    pub auto_title: bool,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            max_per_user: DEFAULT_MAX_STREAMS_PER_USER,
            context_messages: DEFAULT_CONTEXT_MESSAGES,
            auto_title: true,
        }
    }
}

impl LlmConfig {
    /// A copy with every API key replaced by a mask, for `atrium config print` and logs.
    pub fn masked(&self) -> LlmConfig {
        let mut shown = self.clone();
        for provider in &mut shown.providers {
            if provider.api_key.is_some() {
                provider.api_key = Some(ApiKey::new(ApiKey::MASK));
            }
        }
        for key in shown.keys.values_mut() {
            *key = ApiKey::new(ApiKey::MASK);
        }
        if shown.encryption_key.is_some() {
            shown.encryption_key = Some(ApiKey::new(ApiKey::MASK));
        }
        shown
    }

    /// Checks non-zero timeouts and the cross references: unique names, models pointing at known
    /// providers, fallbacks and the default naming known models, base URLs that parse, Azure
    /// with an endpoint.
    pub fn validate(&self) -> Result<(), LlmConfigError> {
        let t = &self.timeouts;
        if t.connect_ms == 0 || t.first_token_ms == 0 || t.idle_ms == 0 {
            return Err(LlmConfigError::ZeroTimeout);
        }
        if self.streams.max_per_user == 0 || self.streams.context_messages == 0 {
            return Err(LlmConfigError::ZeroStreamLimit);
        }
        let mut providers = HashSet::new();
        for p in &self.providers {
            if !providers.insert(p.name.as_str()) {
                return Err(LlmConfigError::DuplicateProvider(p.name.clone()));
            }
            p.api_root()?;
        }
        let local = self
            .local_bot
            .enabled
            .then_some(self.local_bot.model.as_str());
        let mut models = HashSet::new();
        for m in &self.models {
            if Some(m.name.as_str()) == local {
                return Err(LlmConfigError::ReservedModelName(m.name.clone()));
            }
            if !models.insert(m.name.as_str()) {
                return Err(LlmConfigError::DuplicateModel(m.name.clone()));
            }
            if !providers.contains(m.provider.as_str()) {
                return Err(LlmConfigError::UnknownProvider {
                    model: m.name.clone(),
                    provider: m.provider.clone(),
                });
            }
        }
        let known = |name: &str| models.contains(name) || Some(name) == local;
        for m in &self.models {
            if let Some(missing) = m.fallback.iter().find(|f| !known(f)) {
                return Err(LlmConfigError::UnknownFallback {
                    model: m.name.clone(),
                    fallback: missing.clone(),
                });
            }
        }
        if let Some(default) = &self.default_model
            && !known(default)
        {
            return Err(LlmConfigError::UnknownDefaultModel(default.clone()));
        }
        Ok(())
    }
}

/// Timeouts every adapter enforces, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmTimeouts {
    /// Establishing the TCP/TLS connection.
    pub connect_ms: u64,
    /// From sending the request to the first text delta.
    pub first_token_ms: u64,
    /// Longest gap between two events after the first text.
    pub idle_ms: u64,
}

impl Default for LlmTimeouts {
    fn default() -> Self {
        Self {
            connect_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            first_token_ms: DEFAULT_FIRST_TOKEN_TIMEOUT_MS,
            idle_ms: DEFAULT_IDLE_TIMEOUT_MS,
        }
    }
}

impl LlmTimeouts {
    pub fn connect(&self) -> Duration {
        Duration::from_millis(self.connect_ms)
    }

    pub fn first_token(&self) -> Duration {
        Duration::from_millis(self.first_token_ms)
    }

    pub fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_ms)
    }
}

/// The built-in, network-free fallback bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalBotConfig {
    /// On by default so a node without any provider key still answers.
    pub enabled: bool,
    /// The model name that selects the bot (and may appear in fallback chains).
    pub model: String,
}

impl Default for LocalBotConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            model: DEFAULT_LOCAL_BOT_MODEL.to_owned(),
        }
    }
}

/// The wire format a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    #[serde(rename = "openai")]
    OpenAi,
    Anthropic,
    Gemini,
    /// OpenAI-compatible Chat Completions (usage arrives without `stream_options`).
    Mistral,
    /// OpenAI-compatible Chat Completions.
    Xai,
    #[serde(rename = "azure_openai")]
    AzureOpenAi,
}

impl ProviderKind {
    /// The API root used when the provider config has no `base_url`. Azure has none: every
    /// resource has its own endpoint.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com/v1"),
            ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com/v1beta"),
            ProviderKind::Mistral => Some("https://api.mistral.ai/v1"),
            ProviderKind::Xai => Some("https://api.x.ai/v1"),
            ProviderKind::AzureOpenAi => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Mistral => "mistral",
            ProviderKind::Xai => "xai",
            ProviderKind::AzureOpenAi => "azure_openai",
        }
    }
}

/// One provider account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// How models refer to this provider.
    pub name: String,
    pub kind: ProviderKind,
    /// The API root including its version segment (`https://api.openai.com/v1`); for Azure the
    /// resource endpoint (`https://NAME.openai.azure.com`). Tests point it at a local mock.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Without a key the provider's models fail with `NotConfigured` (and fall back).
    #[serde(default)]
    pub api_key: Option<ApiKey>,
    /// Azure: the `api-version` query parameter; Anthropic: the `anthropic-version` header.
    #[serde(default)]
    pub api_version: Option<String>,
}

impl ProviderConfig {
    pub fn new(name: impl Into<String>, kind: ProviderKind) -> Self {
        Self {
            name: name.into(),
            kind,
            base_url: None,
            api_key: None,
            api_version: None,
        }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// The parsed API root (configured or the kind's default), ready to have paths appended.
    pub fn api_root(&self) -> Result<reqwest::Url, LlmConfigError> {
        let raw = match (&self.base_url, self.kind.default_base_url()) {
            (Some(url), _) => url.as_str(),
            (None, Some(default)) => default,
            (None, None) => return Err(LlmConfigError::MissingBaseUrl(self.name.clone())),
        };
        let url = reqwest::Url::parse(raw).map_err(|e| LlmConfigError::InvalidBaseUrl {
            provider: self.name.clone(),
            reason: e.to_string(),
        })?;
        if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
            return Err(LlmConfigError::InvalidBaseUrl {
                provider: self.name.clone(),
                reason: "expected an http(s) URL".to_owned(),
            });
        }
        Ok(url)
    }
}

/// A model users can pick, and how to reach it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The name requests use (`ChatRequest::model`).
    pub name: String,
    /// The [`ProviderConfig::name`] serving it.
    pub provider: String,
    /// The provider's model id (`gpt-4o`, `claude-sonnet-4-5`, `gemini-2.5-flash`); for Azure
    /// the deployment name.
    pub upstream: String,
    /// `false` for models that reject a `temperature` parameter (reasoning models): it is then
    /// never sent. Set per model; never inferred from the name.
    #[serde(default = "default_true")]
    pub supports_temperature: bool,
    /// `true` for OpenAI/Azure models that require `max_completion_tokens` instead of
    /// `max_tokens`.
    #[serde(default)]
    pub uses_max_completion_tokens: bool,
    /// Output limit applied when a request sets none.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Models tried in order when this one fails before its first delta.
    #[serde(default)]
    pub fallback: Vec<String>,
    /// The name users see (defaults to `name`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Micro-units of currency per million input tokens (`3_000_000` = 3.00 per million).
    #[serde(default)]
    pub input_price: i64,
    /// Micro-units of currency per million output tokens.
    #[serde(default)]
    pub output_price: i64,
}

fn default_true() -> bool {
    true
}

impl ModelConfig {
    pub fn new(
        name: impl Into<String>,
        provider: impl Into<String>,
        upstream: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            provider: provider.into(),
            upstream: upstream.into(),
            supports_temperature: true,
            uses_max_completion_tokens: false,
            max_tokens: None,
            fallback: Vec::new(),
            display_name: None,
            input_price: 0,
            output_price: 0,
        }
    }

    pub fn with_fallback(mut self, chain: &[&str]) -> Self {
        self.fallback = chain.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// The output limit to send: the request's, else the model's default.
    pub(crate) fn output_limit(&self, requested: Option<u32>) -> Option<u32> {
        requested.or(self.max_tokens)
    }
}

/// A provider API key. Its `Debug` output is masked so the key cannot reach a log line through
/// `{:?}` of a config struct; the value is only read where a request header is built.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// What [`LlmConfig::masked`] shows instead of a key.
    pub const MASK: &'static str = "********";

    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The secret itself, for the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", Self::MASK)
    }
}

/// A configuration that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LlmConfigError {
    #[error("provider '{0}' is configured twice")]
    DuplicateProvider(String),
    #[error("model '{0}' is configured twice")]
    DuplicateModel(String),
    #[error("model '{0}' uses the local bot's name; rename it or the bot")]
    ReservedModelName(String),
    #[error("model '{model}' names unknown provider '{provider}'")]
    UnknownProvider { model: String, provider: String },
    #[error("model '{model}' falls back to unknown model '{fallback}'")]
    UnknownFallback { model: String, fallback: String },
    #[error("default model '{0}' is not configured")]
    UnknownDefaultModel(String),
    #[error("provider '{0}' needs a base_url (the Azure resource endpoint)")]
    MissingBaseUrl(String),
    #[error("provider '{provider}' has an invalid base_url: {reason}")]
    InvalidBaseUrl { provider: String, reason: String },
    #[error("LLM timeouts must be greater than zero")]
    ZeroTimeout,
    #[error("llm.streams.max_per_user and context_messages must be greater than zero")]
    ZeroStreamLimit,
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LlmConfig {
        LlmConfig {
            providers: vec![
                ProviderConfig::new("openai", ProviderKind::OpenAi).with_api_key("sk-secret-1"),
            ],
            models: vec![ModelConfig::new("gpt", "openai", "gpt-4o").with_fallback(&["local"])],
            ..LlmConfig::default()
        }
    }

    #[test]
    fn keys_never_show_in_debug_or_masked_output() {
        let config = sample();
        assert!(!format!("{config:?}").contains("sk-secret-1"));
        let masked = config.masked();
        assert_eq!(
            masked.providers[0].api_key.as_ref().map(ApiKey::expose),
            Some(ApiKey::MASK)
        );
        assert_eq!(
            config.providers[0].api_key.as_ref().map(ApiKey::expose),
            Some("sk-secret-1")
        );
    }

    #[test]
    fn defaults_enable_the_local_bot() {
        let config = LlmConfig::default();
        assert!(config.local_bot.enabled);
        assert_eq!(config.local_bot.model, "local");
        assert_eq!(config.timeouts.idle(), Duration::from_secs(30));
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn validation_catches_dangling_references() {
        assert_eq!(sample().validate(), Ok(()));

        let mut c = sample();
        c.models[0].provider = "nope".into();
        assert!(matches!(
            c.validate(),
            Err(LlmConfigError::UnknownProvider { .. })
        ));

        let mut c = sample();
        c.models[0].fallback.push("missing".into());
        assert!(matches!(
            c.validate(),
            Err(LlmConfigError::UnknownFallback { .. })
        ));

        let mut c = sample();
        c.local_bot.enabled = false;
        assert!(
            matches!(c.validate(), Err(LlmConfigError::UnknownFallback { .. })),
            "a disabled bot cannot be a fallback"
        );

        let mut c = sample();
        c.models.push(ModelConfig::new("local", "openai", "x"));
        assert!(matches!(
            c.validate(),
            Err(LlmConfigError::ReservedModelName(_))
        ));

        let mut c = sample();
        c.providers
            .push(ProviderConfig::new("azure", ProviderKind::AzureOpenAi));
        assert!(matches!(
            c.validate(),
            Err(LlmConfigError::MissingBaseUrl(_))
        ));

        let mut c = sample();
        c.timeouts.idle_ms = 0;
        assert_eq!(c.validate(), Err(LlmConfigError::ZeroTimeout));

        let mut c = sample();
        c.default_model = Some("gone".into());
        assert!(matches!(
            c.validate(),
            Err(LlmConfigError::UnknownDefaultModel(_))
        ));
    }

    #[test]
    fn model_flags_default_to_the_common_case() {
        let model: ModelConfig = serde_json::from_value(serde_json::json!({
            "name": "m", "provider": "p", "upstream": "u"
        }))
        .unwrap();
        assert!(model.supports_temperature);
        assert!(!model.uses_max_completion_tokens);
        assert!(model.fallback.is_empty());
        let kind: ProviderKind = serde_json::from_value(serde_json::json!("azure_openai")).unwrap();
        assert_eq!(kind, ProviderKind::AzureOpenAi);
        let kind: ProviderKind = serde_json::from_value(serde_json::json!("openai")).unwrap();
        assert_eq!(kind, ProviderKind::OpenAi);
    }
}
