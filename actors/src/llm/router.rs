//! From model names to provider streams, including the fallback chain.
//!
//! The router is built once from [`LlmConfig`]; it owns one HTTP client (one connection pool)
//! and one adapter per provider. [`ModelRouter::stream`] runs a request against exactly the
//! named model; [`ModelRouter::open`] walks the model's fallback chain until a model produces
//! its first text, which is the point after which switching models would show the user two
//! different beginnings.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::{StreamExt, stream};

use super::anthropic::Anthropic;
use super::azure::AzureOpenAi;
use super::config::{LlmConfig, LlmConfigError, ModelConfig, ProviderKind};
use super::error::ProviderError;
use super::event::{ProviderStream, StreamEvent, TokenUsage};
use super::gemini::Gemini;
use super::local::LocalBot;
use super::openai::OpenAiCompatible;
use super::provider::{ChatProvider, build_http_client};
use super::request::ChatRequest;
use super::sse_driver::{boxed, failed};

/// Resolves model names and opens streams.
pub struct ModelRouter {
    /// Configured models in configuration order.
    models: Vec<ModelConfig>,
    providers: HashMap<String, Arc<dyn ChatProvider>>,
    /// Providers that have an API key.
    keyed: HashSet<String>,
    /// The local bot and the synthetic model entry it answers under, when enabled.
    local: Option<(ModelConfig, LocalBot)>,
    default_model: Option<String>,
}

impl std::fmt::Debug for ModelRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRouter")
            .field("models", &self.model_names())
            .field("default_model", &self.default_model)
            .finish_non_exhaustive()
    }
}

impl ModelRouter {
    /// Validates `config` and builds every adapter.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmConfigError> {
        Self::with_local_bot(config, LocalBot::new())
    }

    /// Like [`ModelRouter::new`] with a given local bot (tests fix its clock).
    pub fn with_local_bot(config: &LlmConfig, bot: LocalBot) -> Result<Self, LlmConfigError> {
        config.validate()?;
        let http = build_http_client(&config.timeouts)?;
        let mut providers: HashMap<String, Arc<dyn ChatProvider>> = HashMap::new();
        let mut keyed = HashSet::new();
        for p in &config.providers {
            // A provider without its own key takes the one named after it in `[llm.keys]`.
            let mut p = p.clone();
            if p.api_key.is_none() {
                p.api_key = config.keys.get(&p.name).cloned();
            }
            let p = &p;
            let client = http.clone();
            let t = config.timeouts;
            let adapter: Arc<dyn ChatProvider> = match p.kind {
                ProviderKind::OpenAi | ProviderKind::Mistral | ProviderKind::Xai => {
                    Arc::new(OpenAiCompatible::new(p, client, t)?)
                }
                ProviderKind::Anthropic => Arc::new(Anthropic::new(p, client, t)?),
                ProviderKind::Gemini => Arc::new(Gemini::new(p, client, t)?),
                ProviderKind::AzureOpenAi => Arc::new(AzureOpenAi::new(p, client, t)?),
            };
            if p.api_key.is_some() {
                keyed.insert(p.name.clone());
            }
            providers.insert(p.name.clone(), adapter);
        }
        let local = config.local_bot.enabled.then(|| {
            let name = config.local_bot.model.clone();
            (ModelConfig::new(name.clone(), "local", name), bot)
        });
        let default_model = config
            .default_model
            .clone()
            .or_else(|| {
                config
                    .models
                    .iter()
                    .find(|m| keyed.contains(&m.provider))
                    .map(|m| m.name.clone())
            })
            .or_else(|| local.as_ref().map(|(m, _)| m.name.clone()));
        Ok(Self {
            models: config.models.clone(),
            providers,
            keyed,
            local,
            default_model,
        })
    }

    /// The model for requests that name none: the configured default, else the first model
    /// whose provider has a key, else the local bot. `None` only when all of those are absent.
    pub fn default_model(&self) -> Option<&str> {
        self.default_model.as_deref()
    }

    /// Every model name requests may use: configured models, then the local bot.
    pub fn model_names(&self) -> Vec<&str> {
        self.models
            .iter()
            .chain(self.local.as_ref().map(|(m, _)| m))
            .map(|m| m.name.as_str())
            .collect()
    }

    /// A configured model (the local bot's synthetic entry included).
    pub fn model(&self, name: &str) -> Option<&ModelConfig> {
        self.models
            .iter()
            .chain(self.local.as_ref().map(|(m, _)| m))
            .find(|m| m.name == name)
    }

    /// Whether a request for `name` can reach anything: the local bot, or a model whose
    /// provider has a key.
    pub fn is_available(&self, name: &str) -> bool {
        match &self.local {
            Some((m, _)) if m.name == name => true,
            _ => self
                .models
                .iter()
                .any(|m| m.name == name && self.keyed.contains(&m.provider)),
        }
    }

    /// The models [`ModelRouter::open`] tries for `name`: the model itself, then its configured
    /// fallbacks in order, without repeats. Fallbacks of fallbacks are not followed: the chain
    /// is exactly what the requested model's config lists.
    pub fn fallback_chain(&self, name: &str) -> Vec<String> {
        let mut chain = vec![name.to_owned()];
        if let Some(model) = self.models.iter().find(|m| m.name == name) {
            for next in &model.fallback {
                if !chain.contains(next) {
                    chain.push(next.clone());
                }
            }
        }
        chain
    }

    /// Streams `request` with exactly the model it names (no fallback).
    pub fn stream(&self, request: &ChatRequest) -> ProviderStream {
        if let Some((model, bot)) = &self.local
            && model.name == request.model
        {
            return bot.stream(model, request);
        }
        let Some(model) = self.models.iter().find(|m| m.name == request.model) else {
            return failed(ProviderError::UnknownModel {
                model: request.model.clone(),
            });
        };
        match self.providers.get(&model.provider) {
            Some(provider) => provider.stream(model, request),
            None => failed(ProviderError::NotConfigured {
                message: format!("provider '{}' is not configured", model.provider),
            }),
        }
    }

    /// Opens a stream for `request`, falling back along [`ModelRouter::fallback_chain`] while
    /// models fail before their first text.
    ///
    /// Events a model produced before failing (an early usage report) are not replayed; its
    /// usage is reported in [`FailedAttempt::usage`] so it can still be recorded. On success the
    /// returned stream starts with the buffered events (usage, first delta) and continues
    /// live; an error after that point belongs to the caller (end with the partial answer).
    pub async fn open(&self, request: &ChatRequest) -> Result<OpenedStream, FallbackExhausted> {
        let mut failures = Vec::new();
        for model in self.fallback_chain(&request.model) {
            let mut stream = self.stream(&request.for_model(model.clone()));
            let mut prelude = Vec::new();
            let mut usage: Option<TokenUsage> = None;
            let outcome = loop {
                match stream.next().await {
                    Some(Ok(event)) => {
                        if matches!(event, StreamEvent::Usage { .. }) {
                            usage.get_or_insert_with(TokenUsage::default).record(&event);
                        }
                        let answering =
                            matches!(event, StreamEvent::Delta(_) | StreamEvent::Done { .. });
                        prelude.push(event);
                        if answering {
                            break Ok(());
                        }
                    }
                    Some(Err(error)) => break Err(error),
                    None => {
                        break Err(ProviderError::protocol("stream ended without an answer"));
                    }
                }
            };
            match outcome {
                Ok(()) => {
                    let replay = stream::iter(prelude.into_iter().map(Ok));
                    return Ok(OpenedStream {
                        model,
                        stream: boxed(replay.chain(stream)),
                        failures,
                    });
                }
                Err(error) => {
                    tracing::warn!(model = %model, code = error.code(), %error, "model failed before answering; trying the next fallback");
                    failures.push(FailedAttempt {
                        model,
                        error,
                        usage,
                    });
                }
            }
        }
        Err(FallbackExhausted { attempts: failures })
    }
}

/// A stream that has started answering.
pub struct OpenedStream {
    /// The model that answers (the requested one or a fallback).
    pub model: String,
    pub stream: ProviderStream,
    /// Models tried before it, in order.
    pub failures: Vec<FailedAttempt>,
}

impl std::fmt::Debug for OpenedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedStream")
            .field("model", &self.model)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

/// One model of a fallback chain that failed before answering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedAttempt {
    pub model: String,
    pub error: ProviderError,
    /// Tokens the provider reported before failing (Anthropic reports input tokens first).
    pub usage: Option<TokenUsage>,
}

/// Every model of the chain failed before answering.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no model of the fallback chain answered ({} tried)", .attempts.len())]
pub struct FallbackExhausted {
    pub attempts: Vec<FailedAttempt>,
}

impl FallbackExhausted {
    /// The error of the last model tried (what the user is told).
    pub fn last_error(&self) -> Option<&ProviderError> {
        self.attempts.last().map(|a| &a.error)
    }
}
