//! `LlmHub`: a node's providers, models and live generations.
//!
//! **Configuration and the store.** The `[llm]` section bootstraps: at start
//! ([`LlmHub::configure`]) every configured provider and model is inserted into the store unless
//! one of that name is there already (keys are never copied: configured keys stay in the
//! configuration and serve as fallbacks). From then on the store is the source of truth, which
//! administrators edit over the HTTP API; after each edit the hub [reloads](LlmHub::reload) and
//! the next generation uses the new [`Catalog`]. Timeouts, the local bot and the stream limits
//! always come from the configuration.
//!
//! **Encryption key.** Stored provider keys are sealed with `llm.encryption_key`. A node without
//! one generates a key on first use and keeps it in the store's settings (so every node of a
//! cluster agrees); that protects keys in exported data, not against someone who can read the
//! whole database — configure the key outside the database for that.

use std::sync::{Arc, RwLock};

use atrium_core::ai::{AiModel, AiProvider};
use atrium_core::ids::AiModelId;
use atrium_persistence::store::{Store, StoreError};

use super::catalog::Catalog;
use super::directory::StreamDirectory;
use super::keys::{KeyCipher, KeyError};
use crate::llm::{LlmConfig, LlmConfigError, LocalBot, ProviderKind, StreamSettings};

/// The settings key under which a generated encryption key is kept.
pub const ENCRYPTION_KEY_SETTING: &str = "llm.encryption_key";

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("invalid LLM configuration: {0}")]
    Config(#[from] LlmConfigError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Key(#[from] KeyError),
}

pub struct LlmHub {
    store: Arc<dyn Store>,
    bot: LocalBot,
    base: RwLock<LlmConfig>,
    cipher: RwLock<Option<KeyCipher>>,
    catalog: RwLock<Arc<Catalog>>,
    /// Serialises reloads, so two edits in quick succession cannot install an older catalog
    /// after a newer one.
    reloading: tokio::sync::Mutex<()>,
    pub streams: StreamDirectory,
}

impl std::fmt::Debug for LlmHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmHub")
            .field("catalog", &self.catalog())
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl LlmHub {
    /// A hub with the default configuration (the local bot only) until configured.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_local_bot(store, LocalBot::new())
    }

    /// Like [`LlmHub::new`] with a given local bot (tests fix its clock).
    pub fn with_local_bot(store: Arc<dyn Store>, bot: LocalBot) -> Self {
        let base = LlmConfig::default();
        let catalog = match Catalog::from_config(&base, bot.clone()) {
            Ok(catalog) => catalog,
            // The default configuration always validates; this only guards the HTTP client.
            Err(error) => panic!("the default LLM configuration is invalid: {error}"),
        };
        Self {
            store,
            bot,
            base: RwLock::new(base),
            cipher: RwLock::new(None),
            catalog: RwLock::new(Arc::new(catalog)),
            reloading: tokio::sync::Mutex::new(()),
            streams: StreamDirectory::default(),
        }
    }

    /// Applies the node's `[llm]` configuration: checks it, seeds the store with its providers
    /// and models, and reloads.
    pub async fn configure(&self, config: LlmConfig) -> Result<(), HubError> {
        config.validate()?;
        if let Some(key) = &config.encryption_key {
            let cipher = KeyCipher::from_config(key.expose())?;
            *self.cipher.write().unwrap_or_else(|p| p.into_inner()) = Some(cipher);
        }
        let now = super::prepare::now_ms();
        for p in &config.providers {
            let seeded = AiProvider {
                name: p.name.clone(),
                kind: p.kind.as_str().to_owned(),
                base_url: p.base_url.clone(),
                api_version: p.api_version.clone(),
                key: None,
                updated_at: now,
            };
            if self.store.insert_provider_if_absent(&seeded).await? {
                tracing::info!(provider = %p.name, "provider from the configuration stored");
            }
        }
        for m in &config.models {
            let azure = config
                .providers
                .iter()
                .any(|p| p.name == m.provider && p.kind == ProviderKind::AzureOpenAi);
            let seeded = AiModel {
                id: AiModelId::new(),
                name: m.name.clone(),
                display_name: m.display_name.clone().unwrap_or_else(|| m.name.clone()),
                provider: m.provider.clone(),
                model_id: m.upstream.clone(),
                deployment: azure.then(|| m.upstream.clone()),
                enabled: true,
                is_default: config.default_model.as_deref() == Some(m.name.as_str()),
                supports_temperature: m.supports_temperature,
                uses_max_completion_tokens: m.uses_max_completion_tokens,
                max_tokens: m.max_tokens,
                fallback: m.fallback.clone(),
                input_price: atrium_core::ai::Price(m.input_price),
                output_price: atrium_core::ai::Price(m.output_price),
                created_at: now,
                updated_at: now,
            };
            if self.store.insert_model_if_absent(&seeded).await? {
                tracing::info!(model = %m.name, "model from the configuration stored");
            }
        }
        *self.base.write().unwrap_or_else(|p| p.into_inner()) = config;
        self.reload().await
    }

    /// Rebuilds the catalog from the configuration and the store.
    pub async fn reload(&self) -> Result<(), HubError> {
        let _one_at_a_time = self.reloading.lock().await;
        let providers = self.store.list_providers().await?;
        let models = self.store.list_models().await?;
        let cipher = if providers.iter().any(|p| p.key.is_some()) {
            Some(self.cipher().await?)
        } else {
            self.cipher
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        };
        let base = self.base();
        let catalog = Catalog::build(
            &base,
            &providers,
            &models,
            cipher.as_ref(),
            self.bot.clone(),
        )?;
        tracing::info!(models = ?catalog.router.model_names(), default = ?catalog.router.default_model(), "LLM catalog loaded");
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
        Ok(())
    }

    /// The catalog new generations use.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The configuration the hub runs with.
    pub fn base(&self) -> LlmConfig {
        self.base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn settings(&self) -> StreamSettings {
        self.base.read().unwrap_or_else(|p| p.into_inner()).streams
    }

    /// The cipher for provider keys: the configured one, else the one kept in the store's
    /// settings (generated on first use).
    pub async fn cipher(&self) -> Result<KeyCipher, HubError> {
        if let Some(cipher) = self
            .cipher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(cipher);
        }
        let stored = match self.store.get_setting(ENCRYPTION_KEY_SETTING).await? {
            Some(text) => text,
            None => {
                tracing::warn!(
                    "no llm.encryption_key configured: generated one and stored it in the database; \
                     configure ATRIUM_LLM__ENCRYPTION_KEY to keep provider keys safe from database readers"
                );
                self.store
                    .put_setting_if_absent(
                        ENCRYPTION_KEY_SETTING,
                        &KeyCipher::generate_config_text(),
                    )
                    .await?
            }
        };
        let cipher = KeyCipher::from_config(&stored)?;
        *self.cipher.write().unwrap_or_else(|p| p.into_inner()) = Some(cipher.clone());
        Ok(cipher)
    }
}
