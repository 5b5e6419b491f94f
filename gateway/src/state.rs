//! What every request handler shares.

use std::sync::Arc;

use atrium_core::auth::{AccessTokenError, AccessTokens, PasswordError, PasswordHashing};
use atrium_core::ids::OrgId;
use atrium_persistence::store::{Store, StoreError};
use axum::http::HeaderValue;
use time::Duration;

use crate::config::HttpConfig;
use crate::service::orgs::ensure_default_org;
use crate::service::secret::resolve_jwt_secret;

/// Why the HTTP state could not be built (at start-up, before serving anything).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("invalid HTTP configuration: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<AccessTokenError> for StateError {
    fn from(e: AccessTokenError) -> Self {
        StateError::Config(format!("jwt_secret: {e}"))
    }
}

impl From<PasswordError> for StateError {
    fn from(e: PasswordError) -> Self {
        StateError::Config(format!("password: {e}"))
    }
}

/// Shared, cheaply cloned handles for the handlers (every field is an `Arc` or `Copy`).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Signs and verifies access tokens.
    pub tokens: Arc<AccessTokens>,
    /// Hashes and verifies passwords.
    pub passwords: Arc<PasswordHashing>,
    pub config: Arc<HttpConfig>,
    /// The organization users join without an invitation.
    pub default_org: OrgId,
    /// `config.cors_origins`, parsed once.
    pub(crate) cors_origins: Arc<Vec<HeaderValue>>,
    /// The realtime core and live-connection settings (`/ws`, `/api/v1/presence`); `None` on a
    /// node without it (those routes answer 503). Set with [`AppState::with_realtime`].
    pub realtime: Option<crate::session::LiveContext>,
    /// What `GET /api/v1/webtransport` reports (follows certificate renewals); `None` on a node
    /// without a WebTransport listener. Set with [`AppState::with_webtransport`].
    pub webtransport: Option<tokio::sync::watch::Receiver<crate::webtransport::WtInfo>>,
}

impl AppState {
    /// Validates the configuration, makes sure the default organization exists and resolves the
    /// JWT secret (generating and storing one on first start when none is configured).
    pub async fn new(store: Arc<dyn Store>, config: HttpConfig) -> Result<Self, StateError> {
        let cors_origins = parse_origins(&config.cors_origins)?;
        if config.body_limit_bytes == 0 {
            return Err(StateError::Config(
                "body_limit_bytes must be positive".into(),
            ));
        }
        let access_ttl = ttl("access_ttl_secs", config.access_ttl_secs)?;
        ttl("refresh_ttl_secs", config.refresh_ttl_secs)?;

        let default_org = ensure_default_org(store.as_ref()).await?;
        let secret = resolve_jwt_secret(store.as_ref(), config.jwt_secret.as_deref()).await?;
        let tokens = AccessTokens::new(secret.as_bytes(), access_ttl)?;
        // Building the hasher computes one hash at the configured cost: keep it off the runtime.
        let params = config.password;
        let passwords = tokio::task::spawn_blocking(move || PasswordHashing::new(params))
            .await
            .map_err(|e| StateError::Config(format!("password: {e}")))??;

        Ok(Self {
            store,
            tokens: Arc::new(tokens),
            passwords: Arc::new(passwords),
            config: Arc::new(config),
            default_org: default_org.id,
            cors_origins: Arc::new(cors_origins),
            realtime: None,
            webtransport: None,
        })
    }

    /// Serves live connections with `realtime` (`GET /ws`) under `ws` settings.
    pub fn with_realtime(
        mut self,
        realtime: atrium_actors::Realtime,
        ws: crate::ws::WsConfig,
    ) -> Self {
        self.realtime = Some(crate::ws::live_context(realtime, self.tokens.clone(), ws));
        self
    }

    /// Announces a WebTransport listener at `GET /api/v1/webtransport`
    /// ([`WtServer::info`](crate::webtransport::WtServer::info)).
    pub fn with_webtransport(
        mut self,
        info: tokio::sync::watch::Receiver<crate::webtransport::WtInfo>,
    ) -> Self {
        self.webtransport = Some(info);
        self
    }
}

/// Token lifetimes must be positive and fit the clock arithmetic (at most ten years).
fn ttl(name: &str, secs: u64) -> Result<Duration, StateError> {
    const MAX_TTL_SECS: u64 = 10 * 365 * 24 * 60 * 60;
    if secs == 0 || secs > MAX_TTL_SECS {
        return Err(StateError::Config(format!(
            "{name} must be between 1 and {MAX_TTL_SECS} seconds"
        )));
    }
    Ok(Duration::seconds(secs as i64))
}

fn parse_origins(origins: &[String]) -> Result<Vec<HeaderValue>, StateError> {
    origins
        .iter()
        .map(|o| {
            let o = o.trim_end_matches('/');
            if !(o.starts_with("http://") || o.starts_with("https://")) {
                return Err(StateError::Config(format!(
                    "cors_origins: {o:?} must start with http:// or https://"
                )));
            }
            HeaderValue::from_str(o).map_err(|_| {
                StateError::Config(format!("cors_origins: {o:?} is not a valid origin"))
            })
        })
        .collect()
}
