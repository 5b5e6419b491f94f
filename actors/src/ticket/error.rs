//! Why a ticket request failed. Each variant maps to one protocol/HTTP error code.

use atrium_core::protocol::ErrorCode;
use atrium_core::ticket::TransitionError;
use atrium_persistence::store::StoreError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// No such ticket, or not visible to the caller (another organization's, someone else's).
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    /// The request does not fit the ticket's state (an illegal transition, a second survey).
    #[error("{0}")]
    Conflict(String),
    /// The realtime core is shutting down, or the ticket's actor did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    /// Our fault (details are logged, never sent).
    #[error("internal error")]
    Internal,
}

impl TicketError {
    pub fn not_found() -> Self {
        TicketError::NotFound("ticket not found".into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            TicketError::NotFound(_) => ErrorCode::NotFound,
            TicketError::Forbidden(_) => ErrorCode::Forbidden,
            TicketError::Invalid(_) => ErrorCode::Invalid,
            TicketError::Conflict(_) => ErrorCode::Conflict,
            TicketError::Unavailable(_) => ErrorCode::ShuttingDown,
            TicketError::Internal => ErrorCode::Internal,
        }
    }

    /// A store failure: `NotFound` stays "not found", the rest is logged as internal.
    pub fn store(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => TicketError::not_found(),
            StoreError::Conflict(what) => TicketError::Conflict(format!("{what} already exists")),
            other => {
                tracing::error!(error = %other, "ticket store call failed");
                TicketError::Internal
            }
        }
    }
}

impl From<TransitionError> for TicketError {
    fn from(e: TransitionError) -> Self {
        match e.error_code() {
            ErrorCode::Forbidden => TicketError::Forbidden(e.to_string()),
            _ => TicketError::Conflict(e.to_string()),
        }
    }
}
