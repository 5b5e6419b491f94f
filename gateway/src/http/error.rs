//! The HTTP error type: every failure leaves as `{"error":{"code":…,"message":…}}`.
//!
//! Codes are stable and few; statuses follow HTTP. Handlers return `Result<_, ApiError>`, and
//! both service errors and extractor rejections convert into it, so no axum-default plain-text
//! error ever reaches a client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::ServiceError;

/// The stable error codes of the HTTP API.
pub mod codes {
    /// 400: the input breaks a rule (the message says which); 422 when the JSON has the wrong
    /// shape or types.
    pub const INVALID: &str = "invalid";
    /// 400: the body is not JSON at all.
    pub const MALFORMED_JSON: &str = "malformed_json";
    /// 401: missing, forged, revoked or otherwise unusable credentials.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// 401: a genuine token past its lifetime; refresh it.
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// 403: authenticated but not allowed.
    pub const FORBIDDEN: &str = "forbidden";
    /// 404: no such thing (or another organization's).
    pub const NOT_FOUND: &str = "not_found";
    /// 405: the route exists, the method does not.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// 409: clashes with existing state.
    pub const CONFLICT: &str = "conflict";
    /// 413: the body exceeds the configured limit.
    pub const TOO_LARGE: &str = "too_large";
    /// 415: a body without `Content-Type: application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// 500: our fault; details are in the server log.
    pub const INTERNAL: &str = "internal";
    /// 503: a dependency (the database) is unreachable.
    pub const UNAVAILABLE: &str = "unavailable";
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code (`invalid`, `unauthorized`, `token_expired`, …).
    #[schema(example = "invalid")]
    pub code: String,
    /// A sentence for the person reading it.
    #[schema(example = "username: must be 3 to 32 characters long (got 2)")]
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(m) => ApiError::invalid(m),
            ServiceError::Unauthorized(m) => ApiError::unauthorized(m),
            ServiceError::TokenExpired(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, codes::TOKEN_EXPIRED, m)
            }
            ServiceError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, m),
            ServiceError::NotFound(m) => ApiError::not_found(m),
            ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, codes::CONFLICT, m),
            ServiceError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    codes::INTERNAL,
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let text = rejection.body_text();
        match &rejection {
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, codes::MALFORMED_JSON, text)
            }
            JsonRejection::JsonDataError(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, codes::INVALID, text)
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON with `Content-Type: application/json`",
            ),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::TOO_LARGE,
                "request body is larger than the configured limit",
            ),
            _ => ApiError::invalid(text),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::invalid(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        if rejection.status().is_server_error() {
            tracing::error!(error = %rejection.body_text(), "path extraction failed");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                "internal error; see the server log",
            );
        }
        ApiError::invalid(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the oversized body was never read, so this connection cannot carry
            // another request; say so, or a keep-alive client will try and fail.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: tell the client which scheme to use, and whether the token merely expired.
            let challenge = if self.code == codes::TOKEN_EXPIRED {
                r#"Bearer error="invalid_token", error_description="expired""#
            } else {
                "Bearer"
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
