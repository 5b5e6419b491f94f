//! The one error type of the service layer.
//!
//! Each variant is a category a client can act on; it maps one-to-one to an HTTP status and a
//! stable error code. Store failures that are not the client's fault become `Internal`, whose
//! detail is logged but never sent.

use atrium_persistence::store::StoreError;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks a rule; the message says which and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// No valid credentials (missing, wrong, forged, revoked).
    #[error("{0}")]
    Unauthorized(String),
    /// A correctly signed token that has expired: refresh instead of logging in again.
    #[error("{0}")]
    TokenExpired(String),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or belongs to another organization.
    #[error("{0}")]
    NotFound(String),
    /// Clashes with existing state (a taken username).
    #[error("{0}")]
    Conflict(String),
    /// Our fault. The detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound("not found".into()),
            StoreError::Conflict(what) => ServiceError::Conflict(format!("{what} already exists")),
            StoreError::Database(_) | StoreError::Corrupt(_) => {
                ServiceError::Internal(e.to_string())
            }
        }
    }
}

/// Turns the store's bare `NotFound` into a message that names what was missing.
pub(crate) trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> ServiceResult<T>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &str) -> ServiceResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound(format!("{what} not found")),
            other => other.into(),
        })
    }
}
