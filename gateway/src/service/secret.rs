//! Where the access-token signing secret comes from.

use atrium_core::auth::generate_jwt_secret;
use atrium_persistence::store::{Store, StoreResult};

/// Settings key under which a generated secret is kept.
pub const JWT_SECRET_SETTING: &str = "auth.jwt_secret";

/// The configured secret if there is one; otherwise the one stored in the database, generating
/// and storing it on first start. Keeping it in the database (not a local file) means restarts
/// don't log everyone out and every node of a cluster verifies every other node's tokens.
pub async fn resolve_jwt_secret(
    store: &dyn Store,
    configured: Option<&str>,
) -> StoreResult<String> {
    if let Some(secret) = configured {
        return Ok(secret.to_owned());
    }
    if let Some(stored) = store.get_setting(JWT_SECRET_SETTING).await? {
        return Ok(stored);
    }
    store
        .put_setting_if_absent(JWT_SECRET_SETTING, &generate_jwt_secret())
        .await
}
