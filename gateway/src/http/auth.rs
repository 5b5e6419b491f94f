//! `/api/v1/auth/*`: register, login, refresh, logout, me.

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::JsonBody;
use super::views::UserView;
use crate::AppState;
use crate::service::auth::{self, TokenPair};
use crate::service::users::NewAccount;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
}

#[derive(OpenApi)]
#[openapi(paths(register, login, refresh, logout, me))]
pub struct AuthApi;

/// A new account.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters: a-z, 0-9, `_`, `.`, `-`.
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "alice@example.com")]
    pub email: String,
    /// At least 8 characters.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// Organization slug to join; leave out to join the default organization.
    pub organization: Option<String>,
}

/// Credentials. `username` may also be the account's e-mail address.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

/// A refresh token, for `/auth/refresh` and `/auth/logout`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A new session: send `access_token` as `Authorization: Bearer …`; exchange `refresh_token`
/// at `/auth/refresh` before `expires_in` seconds pass.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until `access_token` expires.
    #[schema(example = 1800)]
    pub expires_in: i64,
    pub user: UserView,
}

impl From<TokenPair> for TokenResponse {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: "Bearer".to_owned(),
            expires_in: p.expires_in,
            user: p.user.into(),
        }
    }
}

/// Open an account and log in. The first account of an install becomes its admin.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and logged in", body = TokenResponse),
        (status = 400, description = "A field breaks a rule", body = ErrorBody),
        (status = 409, description = "Username or e-mail taken", body = ErrorBody),
        (status = 422, description = "Wrong JSON shape", body = ErrorBody),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let account = NewAccount {
        username: req.username,
        email: req.email,
        password: req.password,
        organization: req.organization,
    };
    let pair = auth::register(&state, account).await?;
    Ok((StatusCode::CREATED, Json(pair.into())))
}

/// Log in with a username or e-mail address and a password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 403, description = "Account deactivated", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let pair = auth::login(&state, &req.username, &req.password).await?;
    Ok(Json(pair.into()))
}

/// Exchange a refresh token for a new pair. The old refresh token stops working; presenting it
/// again signs out every session of that login.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenResponse),
        (status = 401, description = "Unknown, revoked, reused (`unauthorized`) or expired (`token_expired`) refresh token", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let pair = auth::refresh(&state, &req.refresh_token).await?;
    Ok(Json(pair.into()))
}

/// Log out: revoke the refresh token and every token rotated from the same login.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Unknown refresh token", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    auth::logout(&state, &req.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account behind the access token.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "Missing, invalid (`unauthorized`) or expired (`token_expired`) access token", body = ErrorBody),
    )
)]
pub async fn me(Authenticated(caller): Authenticated) -> Json<UserView> {
    Json(caller.user.into())
}
