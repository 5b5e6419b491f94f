//! The `Authorization: Bearer <access token>` extractor.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::AppState;
use crate::service::Caller;
use crate::service::auth::authenticate;

/// The authenticated caller of a request. Extracting it fails with `401 unauthorized` (no or bad
/// token), `401 token_expired`, or `403 forbidden` (deactivated account).
#[derive(Clone, Debug)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        Ok(Authenticated(authenticate(state, token).await?))
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("missing `Authorization: Bearer <access token>` header")
    })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::unauthorized(
            "Authorization header must be `Bearer <access token>`",
        )),
    }
}
