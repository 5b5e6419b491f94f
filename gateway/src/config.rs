//! Settings of the HTTP control plane and of the tokens it hands out.

use atrium_core::auth::PasswordParams;
use serde::{Deserialize, Serialize};

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Access tokens live 30 minutes by default.
pub const DEFAULT_ACCESS_TTL_SECS: u64 = 30 * 60;
/// Refresh tokens live 7 days by default.
pub const DEFAULT_REFRESH_TTL_SECS: u64 = 7 * 24 * 60 * 60;

/// HTTP control plane configuration (the `[http]` table of the node configuration).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct HttpConfig {
    /// Origins allowed to call the API from a browser (`https://app.example.com`). Empty (the
    /// default) sends no CORS headers, so browsers refuse cross-origin calls.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body, in bytes; bigger bodies get `413 too_large`.
    pub body_limit_bytes: usize,
    /// Lifetime of access tokens, in seconds.
    pub access_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_ttl_secs: u64,
    /// HMAC secret for access tokens (at least 32 bytes). When absent, a secret is generated on
    /// first start and kept in the database, so every node and every restart agree on it.
    pub jwt_secret: Option<String>,
    /// argon2id cost for new password hashes.
    pub password: PasswordParams,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            access_ttl_secs: DEFAULT_ACCESS_TTL_SECS,
            refresh_ttl_secs: DEFAULT_REFRESH_TTL_SECS,
            jwt_secret: None,
            password: PasswordParams::default(),
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret must never reach a log line through `{:?}`.
        f.debug_struct("HttpConfig")
            .field("cors_origins", &self.cors_origins)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .field("refresh_ttl_secs", &self.refresh_ttl_secs)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "********"))
            .field("password", &self.password)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial_input() {
        let c: HttpConfig = serde_json::from_str(r#"{"cors_origins":["https://a.example"]}"#)
            .expect("partial config parses");
        assert_eq!(c.cors_origins, vec!["https://a.example".to_owned()]);
        assert_eq!(c.body_limit_bytes, 1024 * 1024);
        assert_eq!(c.access_ttl_secs, 1800);
        assert_eq!(c.refresh_ttl_secs, 604_800);
        assert_eq!(c.jwt_secret, None);
    }

    #[test]
    fn debug_masks_the_secret() {
        let c = HttpConfig {
            jwt_secret: Some("super-secret-value".into()),
            ..HttpConfig::default()
        };
        assert!(!format!("{c:?}").contains("super-secret-value"));
    }
}
