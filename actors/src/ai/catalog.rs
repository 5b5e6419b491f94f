//! The effective model configuration: what the node's router can reach right now.
//!
//! The `[llm]` section of the configuration file bootstraps providers and models (see
//! [`super::hub::LlmHub::configure`]); after that the store is the source of truth and
//! administrators edit it over the HTTP API. A [`Catalog`] is built from both:
//!
//! - timeouts and the local bot come from the configuration;
//! - providers are the store's accounts (plus configured ones the store lacks). A provider's
//!   key is, in order: the key stored for it (decrypted), the `api_key` in its configuration
//!   entry, the `[llm.keys]` entry of its name (`ATRIUM_LLM__KEYS__<NAME>`);
//! - models are the store's *enabled* models whose provider exists; fallbacks naming a model
//!   that is not in the catalog (disabled, deleted) are dropped from the chain;
//! - the default is the store's default model, else the configured `default_model`, else the
//!   router's rule (first model with a key, else the local bot).
//!
//! A catalog is immutable; the hub swaps in a new one after every change, and generations
//! already running keep the one they started with.

use std::collections::{BTreeMap, HashMap, HashSet};

use atrium_core::ai::{AiModel, AiProvider, Price, pricing};

use crate::llm::{
    ApiKey, LlmConfig, LlmConfigError, LocalBot, ModelConfig, ModelRouter, ProviderConfig,
    ProviderKind, TokenUsage,
};

use super::keys::KeyCipher;

/// The provider name usage records give the local bot.
pub const LOCAL_PROVIDER: &str = "local";

/// A model users may pick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvailableModel {
    pub name: String,
    pub display_name: String,
    pub provider: String,
    pub is_default: bool,
    /// Whether its provider has a key (the local bot always can answer).
    pub ready: bool,
}

/// The router and what goes with it.
pub struct Catalog {
    pub router: ModelRouter,
    prices: HashMap<String, (Price, Price)>,
    provider_of: HashMap<String, String>,
    models: Vec<AvailableModel>,
    /// Effective provider accounts (keys included: never shown, only used for requests).
    accounts: HashMap<String, ProviderConfig>,
    configs: Vec<ModelConfig>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

/// Parses a stored provider kind (`openai`, `azure_openai`, …).
pub fn parse_kind(kind: &str) -> Option<ProviderKind> {
    serde_json::from_value(serde_json::Value::String(kind.to_owned())).ok()
}

impl Catalog {
    /// Only what the configuration defines (used before the store was read).
    pub fn from_config(base: &LlmConfig, bot: LocalBot) -> Result<Self, LlmConfigError> {
        Self::build(base, &[], &[], None, bot)
    }

    /// Combines the configuration with the store's providers and models (see the module
    /// documentation). Entries that cannot work (an unknown provider kind, a key that does not
    /// decrypt, a base URL that does not parse) are left out with a warning rather than taking
    /// every other model down.
    pub fn build(
        base: &LlmConfig,
        providers: &[AiProvider],
        models: &[AiModel],
        cipher: Option<&KeyCipher>,
        bot: LocalBot,
    ) -> Result<Self, LlmConfigError> {
        let mut config = LlmConfig {
            providers: Vec::new(),
            models: Vec::new(),
            default_model: None,
            ..base.clone()
        };
        let configured: BTreeMap<&str, &ProviderConfig> = base
            .providers
            .iter()
            .map(|p| (p.name.as_str(), p))
            .collect();
        let mut seen = HashSet::new();
        for stored in providers {
            let Some(kind) = parse_kind(&stored.kind) else {
                tracing::warn!(provider = %stored.name, kind = %stored.kind, "unknown provider kind; provider left out");
                continue;
            };
            let mut p = ProviderConfig::new(stored.name.clone(), kind);
            p.base_url = stored.base_url.clone();
            p.api_version = stored.api_version.clone();
            p.api_key = match (&stored.key, cipher) {
                (Some(sealed), Some(cipher)) => match cipher.open(&stored.name, sealed) {
                    Ok(key) => Some(key),
                    Err(error) => {
                        tracing::error!(provider = %stored.name, %error, "stored API key cannot be decrypted (wrong llm.encryption_key?)");
                        None
                    }
                },
                (Some(_), None) => {
                    tracing::error!(provider = %stored.name, "stored API key but no encryption key");
                    None
                }
                (None, _) => None,
            }
            .or_else(|| configured.get(stored.name.as_str()).and_then(|c| c.api_key.clone()))
            .or_else(|| base.keys.get(&stored.name).cloned());
            if let Err(error) = p.api_root() {
                tracing::warn!(provider = %p.name, %error, "provider left out");
                continue;
            }
            seen.insert(p.name.clone());
            config.providers.push(p);
        }
        for p in &base.providers {
            if !seen.contains(&p.name) {
                let mut p = (*p).clone();
                p.api_key = p.api_key.or_else(|| base.keys.get(&p.name).cloned());
                seen.insert(p.name.clone());
                config.providers.push(p);
            }
        }
        let kinds: HashMap<&str, ProviderKind> = config
            .providers
            .iter()
            .map(|p| (p.name.as_str(), p.kind))
            .collect();
        let local = base
            .local_bot
            .enabled
            .then_some(base.local_bot.model.as_str());

        let mut prices = HashMap::new();
        let mut provider_of = HashMap::new();
        let mut listed = Vec::new();
        let usable: Vec<&AiModel> = if models.is_empty() && providers.is_empty() {
            Vec::new()
        } else {
            models
                .iter()
                .filter(|m| m.enabled && kinds.contains_key(m.provider.as_str()))
                .filter(|m| Some(m.name.as_str()) != local)
                .collect()
        };
        let names: HashSet<&str> = usable.iter().map(|m| m.name.as_str()).collect();
        for m in &usable {
            let kind = kinds[m.provider.as_str()];
            let upstream = match (kind, &m.deployment) {
                (ProviderKind::AzureOpenAi, Some(deployment)) => deployment.clone(),
                _ => m.model_id.clone(),
            };
            let mut mc = ModelConfig::new(m.name.clone(), m.provider.clone(), upstream);
            mc.supports_temperature = m.supports_temperature;
            mc.uses_max_completion_tokens = m.uses_max_completion_tokens;
            mc.max_tokens = m.max_tokens;
            mc.fallback = m
                .fallback
                .iter()
                .filter(|f| names.contains(f.as_str()) || Some(f.as_str()) == local)
                .cloned()
                .collect();
            prices.insert(m.name.clone(), (m.input_price, m.output_price));
            provider_of.insert(m.name.clone(), m.provider.clone());
            config.models.push(mc);
            listed.push(AvailableModel {
                name: m.name.clone(),
                display_name: m.display_name.clone(),
                provider: m.provider.clone(),
                is_default: false,
                ready: false,
            });
        }
        if models.is_empty() && providers.is_empty() {
            // Nothing stored yet: the configured models as they are.
            for m in &base.models {
                if kinds.contains_key(m.provider.as_str()) {
                    prices.insert(
                        m.name.clone(),
                        (Price(m.input_price), Price(m.output_price)),
                    );
                    provider_of.insert(m.name.clone(), m.provider.clone());
                    listed.push(AvailableModel {
                        name: m.name.clone(),
                        display_name: m.display_name.clone().unwrap_or_else(|| m.name.clone()),
                        provider: m.provider.clone(),
                        is_default: false,
                        ready: false,
                    });
                    config.models.push(m.clone());
                }
            }
        }
        let known =
            |name: &str| config.models.iter().any(|m| m.name == name) || Some(name) == local;
        config.default_model = models
            .iter()
            .find(|m| m.is_default && names.contains(m.name.as_str()))
            .map(|m| m.name.clone())
            .or_else(|| base.default_model.clone().filter(|d| known(d)));

        let router = ModelRouter::with_local_bot(&config, bot)?;
        let accounts = config
            .providers
            .iter()
            .map(|p| (p.name.clone(), p.clone()))
            .collect();
        if let Some(local) = local {
            provider_of.insert(local.to_owned(), LOCAL_PROVIDER.to_owned());
            listed.push(AvailableModel {
                name: local.to_owned(),
                display_name: "Local assistant".to_owned(),
                provider: LOCAL_PROVIDER.to_owned(),
                is_default: false,
                ready: true,
            });
        }
        let default = router.default_model().map(str::to_owned);
        for m in &mut listed {
            m.is_default = Some(&m.name) == default.as_ref();
            m.ready = m.ready || router.is_available(&m.name);
        }
        Ok(Self {
            router,
            prices,
            provider_of,
            models: listed,
            accounts,
            configs: config.models,
        })
    }

    /// What `usage` of `model` costs, in micro-units (0 for the local bot and unpriced models).
    pub fn cost(&self, model: &str, usage: TokenUsage) -> i64 {
        let (input, output) = self.prices.get(model).copied().unwrap_or_default();
        pricing::cost_micros(
            input,
            output,
            u64::from(usage.input_tokens),
            u64::from(usage.output_tokens),
        )
    }

    /// The provider account serving `model` (`local` for the bot).
    pub fn provider_of(&self, model: &str) -> &str {
        self.provider_of
            .get(model)
            .map_or("unknown", String::as_str)
    }

    /// The models users may pick, the local bot last.
    pub fn models(&self) -> &[AvailableModel] {
        &self.models
    }

    /// Whether requests may name `model`.
    pub fn knows(&self, model: &str) -> bool {
        self.router.model(model).is_some()
    }

    /// A provider account as requests use it (with its effective key).
    pub fn account(&self, provider: &str) -> Option<&ProviderConfig> {
        self.accounts.get(provider)
    }

    /// The first catalog model served by `provider`.
    pub fn first_model_of(&self, provider: &str) -> Option<&ModelConfig> {
        self.configs.iter().find(|m| m.provider == provider)
    }

    /// Whether `model` is the local bot.
    pub fn is_local(&self, model: &str) -> bool {
        self.provider_of(model) == LOCAL_PROVIDER
    }
}

/// A key's display form: the mask and its last four characters.
pub fn masked(hint: &str) -> String {
    format!("{}{hint}", ApiKey::MASK)
}
