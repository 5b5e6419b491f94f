//! Sessions: register, log in, refresh, log out, and turning a bearer token into a [`Caller`].
//!
//! A login starts a refresh-token *family*. Each refresh hands out a new pair and marks the old
//! refresh token rotated; if a rotated token is ever presented again, someone kept a copy (a
//! stolen token, or a client bug), and the whole family is revoked so both holders are signed out.

use atrium_core::auth::credentials::PASSWORD_MAX;
use atrium_core::auth::{AccessTokenError, hash_refresh_token, new_refresh_token};
use atrium_core::ids::TokenFamilyId;
use atrium_core::model::{RefreshToken, User};
use atrium_persistence::store::StoreError;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::audit::{self, AuditEvent, actions};
use super::clock;
use super::hashing::verify_password;
use super::users::{NewAccount, create_account};
use super::{Caller, ServiceError, ServiceResult};
use crate::AppState;

/// The longest login name we look up (an e-mail address at most).
const LOGIN_MAX: usize = atrium_core::auth::credentials::EMAIL_MAX;

/// One message for every way a login can fail before the password is known to be right, so
/// the response does not reveal whether the account exists.
const BAD_CREDENTIALS: &str = "invalid username or password";

/// The answer to a refresh token presented a second time.
const REUSED: &str =
    "refresh token was already used; every session of this login has been signed out";

/// What a successful login, registration or refresh returns.
#[derive(Clone, Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: User,
}

/// Opens an account (the first one of an install becomes admin) and logs it in.
pub async fn register(state: &AppState, account: NewAccount) -> ServiceResult<TokenPair> {
    let store = state.store.as_ref();
    let user = create_account(store, &state.passwords, account, false).await?;
    audit::record(
        store,
        AuditEvent {
            org: user.org_id,
            actor: Some(user.id),
            action: actions::REGISTER,
            target: Some(user.id.to_string()),
            detail: json!({ "username": user.username, "role": user.role }),
        },
    )
    .await;
    issue_pair(state, user, TokenFamilyId::new(), clock::now()).await
}

/// Logs in by username or e-mail address.
pub async fn login(state: &AppState, login: &str, password: &str) -> ServiceResult<TokenPair> {
    let store = state.store.as_ref();
    let login = login.trim();
    if login.is_empty() || password.is_empty() {
        return Err(ServiceError::Invalid(
            "username and password are both required".into(),
        ));
    }
    if login.chars().count() > LOGIN_MAX || password.chars().count() > PASSWORD_MAX {
        return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    let user = match store.find_user_by_login(login).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let matches = verify_password(
        &state.passwords,
        password,
        user.as_ref().map(|u| u.password_hash.as_str()),
    )
    .await?;
    let Some(user) = user else {
        failed_login(state, None, "unknown_user").await;
        return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
    };
    if !matches {
        failed_login(state, Some(&user), "bad_password").await;
        return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    if !user.active {
        failed_login(state, Some(&user), "inactive").await;
        return Err(ServiceError::Forbidden(
            "this account is deactivated".into(),
        ));
    }
    audit::record(
        store,
        AuditEvent {
            org: user.org_id,
            actor: Some(user.id),
            action: actions::LOGIN,
            target: None,
            detail: json!({}),
        },
    )
    .await;
    issue_pair(state, user, TokenFamilyId::new(), clock::now()).await
}

/// Records a failed login. Unknown names are logged against the default organization without the
/// name itself (people type passwords into the username field).
async fn failed_login(state: &AppState, user: Option<&User>, reason: &str) {
    audit::record(
        state.store.as_ref(),
        AuditEvent {
            org: user.map_or(state.default_org, |u| u.org_id),
            actor: user.map(|u| u.id),
            action: actions::LOGIN_FAILED,
            target: None,
            detail: json!({ "reason": reason }),
        },
    )
    .await;
}

/// Exchanges a refresh token for a new pair, rotating it.
pub async fn refresh(state: &AppState, refresh_token: &str) -> ServiceResult<TokenPair> {
    let store = state.store.as_ref();
    let now = clock::now();
    let hash = hash_refresh_token(refresh_token);
    let stored = match store.get_refresh_token(&hash).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Unauthorized(
                "refresh token is not valid".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if stored.revoked {
        return Err(ServiceError::Unauthorized(
            "refresh token has been revoked; log in again".into(),
        ));
    }
    if stored.rotated_at.is_some() {
        return Err(reuse_detected(state, &stored).await);
    }
    if stored.expires_at <= now {
        return Err(ServiceError::TokenExpired(
            "refresh token expired; log in again".into(),
        ));
    }
    // Losing this race means another request rotated the same token a moment ago: reuse too.
    if !store.mark_refresh_rotated(&hash, now).await? {
        return Err(reuse_detected(state, &stored).await);
    }
    let user = match store.get_user(stored.user_id).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Unauthorized(
                "account no longer exists".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !user.active {
        store.revoke_token_family(stored.family_id).await?;
        return Err(ServiceError::Forbidden(
            "this account is deactivated".into(),
        ));
    }
    let (org, actor) = (user.org_id, user.id);
    let pair = issue_pair(state, user, stored.family_id, now).await?;
    // A concurrent reuse of the same token may have revoked the family between our rotation and
    // the insert of the successor, which that revocation could not see. The store treats a
    // family with any revoked member as revoked, so the successor can never be used; re-reading
    // here also refuses this caller when the revocation has already landed, instead of handing
    // out a pair that is dead on arrival.
    if store.get_refresh_token(&hash).await?.revoked {
        return Err(ServiceError::Unauthorized(REUSED.into()));
    }
    audit::record(
        store,
        AuditEvent {
            org,
            actor: Some(actor),
            action: actions::AUTH_REFRESH,
            target: Some(stored.family_id.to_string()),
            detail: json!({}),
        },
    )
    .await;
    Ok(pair)
}

/// Revokes the family of a re-presented token and builds the error for the caller.
async fn reuse_detected(state: &AppState, stored: &RefreshToken) -> ServiceError {
    let store = state.store.as_ref();
    if let Err(e) = store.revoke_token_family(stored.family_id).await {
        return e.into();
    }
    let org = match store.get_user(stored.user_id).await {
        Ok(user) => user.org_id,
        Err(_) => state.default_org,
    };
    tracing::warn!(user = %stored.user_id, family = %stored.family_id, "refresh token reuse; family revoked");
    audit::record(
        store,
        AuditEvent {
            org,
            actor: Some(stored.user_id),
            action: actions::REFRESH_REUSE,
            target: Some(stored.family_id.to_string()),
            detail: json!({}),
        },
    )
    .await;
    ServiceError::Unauthorized(REUSED.into())
}

/// Ends a login: revokes the refresh token's whole family.
pub async fn logout(state: &AppState, refresh_token: &str) -> ServiceResult<()> {
    let store = state.store.as_ref();
    let stored = match store
        .get_refresh_token(&hash_refresh_token(refresh_token))
        .await
    {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Unauthorized(
                "refresh token is not valid".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    store.revoke_token_family(stored.family_id).await?;
    if let Ok(user) = store.get_user(stored.user_id).await {
        audit::record(
            store,
            AuditEvent {
                org: user.org_id,
                actor: Some(user.id),
                action: actions::LOGOUT,
                target: Some(stored.family_id.to_string()),
                detail: json!({}),
            },
        )
        .await;
    }
    Ok(())
}

/// Checks an access token and loads its user. Used by the HTTP bearer extractor and by the
/// realtime `hello`. The user must still exist, be active and belong to the token's organization.
pub async fn authenticate(state: &AppState, access_token: &str) -> ServiceResult<Caller> {
    let claims = state
        .tokens
        .verify(access_token, clock::now())
        .map_err(|e| match e {
            AccessTokenError::Expired => {
                ServiceError::TokenExpired("access token expired; refresh it".into())
            }
            other => {
                tracing::debug!(reason = %other, "access token refused");
                ServiceError::Unauthorized("access token is not valid".into())
            }
        })?;
    let user = match state.store.get_user(claims.sub).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Unauthorized(
                "account no longer exists".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if user.org_id != claims.org {
        return Err(ServiceError::Unauthorized(
            "access token is not valid".into(),
        ));
    }
    if !user.active {
        return Err(ServiceError::Forbidden(
            "this account is deactivated".into(),
        ));
    }
    Ok(Caller { user })
}

/// Signs an access token and stores a fresh refresh token in `family`.
async fn issue_pair(
    state: &AppState,
    user: User,
    family: TokenFamilyId,
    now: OffsetDateTime,
) -> ServiceResult<TokenPair> {
    let access = state
        .tokens
        .issue(user.id, user.org_id, user.role, now)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let refresh_token = new_refresh_token();
    let ttl = Duration::seconds(i64::try_from(state.config.refresh_ttl_secs).unwrap_or(i64::MAX));
    state
        .store
        .insert_refresh_token(&RefreshToken {
            token_hash: hash_refresh_token(&refresh_token),
            user_id: user.id,
            family_id: family,
            expires_at: now.saturating_add(ttl),
            rotated_at: None,
            revoked: false,
            created_at: now,
        })
        .await?;
    Ok(TokenPair {
        access_token: access.token,
        refresh_token,
        expires_in: access.claims.exp - access.claims.iat,
        user,
    })
}
