//! How a generation can fail, classified so the caller can choose what to do next.
//!
//! The rule the stream actor applies: an error that arrives *before the first delta* means the
//! user saw nothing, so the next model of the fallback chain may answer instead; an error after
//! deltas were delivered ends the answer where it stopped (no duplicated text). The variants
//! carry what an operator needs to see in a log, never an API key.

use std::time::Duration;

/// Which of the configured timeouts fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutPhase {
    /// Establishing the TCP/TLS connection took longer than `connect_ms`.
    Connect,
    /// No text arrived within `first_token_ms` of sending the request (this includes waiting for
    /// the response headers and any preamble events).
    FirstToken,
    /// After the first text, no event arrived within `idle_ms`.
    Idle,
}

impl TimeoutPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::FirstToken => "first_token",
            TimeoutPhase::Idle => "idle",
        }
    }
}

/// A failed generation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// HTTP 429. `retry_after` comes from `retry-after-ms`, `retry-after` (seconds) or Gemini's
    /// `RetryInfo` when the provider sent one.
    #[error("rate limited by the provider{}", retry_hint(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// HTTP 5xx (including Anthropic's 529 "overloaded").
    #[error("provider unavailable (HTTP {status}): {message}")]
    Unavailable { status: u16, message: String },
    /// HTTP 401/403: the key is missing, wrong, revoked or lacks access to the model.
    #[error("provider rejected the credentials (HTTP {status}): {message}")]
    Auth { status: u16, message: String },
    /// Any other HTTP 4xx: the request (model id, parameters, size) was refused.
    #[error("provider refused the request (HTTP {status}): {message}")]
    BadRequest { status: u16, message: String },
    /// A configured timeout fired.
    #[error("provider timed out ({})", .phase.as_str())]
    Timeout { phase: TimeoutPhase },
    /// The stream broke the provider's documented format (malformed JSON, an event out of
    /// place, a stream that ended without its final event, an oversized response).
    #[error("malformed provider stream: {message}")]
    Protocol { message: String },
    /// The provider reported an error inside an otherwise healthy stream.
    #[error("provider error: {message}")]
    Provider { message: String },
    /// The connection could not be established (refused, DNS, TLS).
    #[error("could not connect to the provider: {message}")]
    Connect { message: String },
    /// The connection broke while reading the response.
    #[error("network error while streaming: {message}")]
    Network { message: String },
    /// The model's provider has no API key (or is otherwise unusable) in this configuration.
    #[error("provider not configured: {message}")]
    NotConfigured { message: String },
    /// The request names a model the configuration does not know.
    #[error("unknown model '{model}'")]
    UnknownModel { model: String },
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(after) => format!(" (retry after {} ms)", after.as_millis()),
        None => String::new(),
    }
}

impl ProviderError {
    /// A stable snake_case code for `llm.error` frames, metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::Unavailable { .. } => "provider_unavailable",
            ProviderError::Auth { .. } => "provider_auth",
            ProviderError::BadRequest { .. } => "provider_bad_request",
            ProviderError::Timeout { .. } => "provider_timeout",
            ProviderError::Protocol { .. } => "provider_protocol",
            ProviderError::Provider { .. } => "provider_error",
            ProviderError::Connect { .. } => "provider_connect",
            ProviderError::Network { .. } => "provider_network",
            ProviderError::NotConfigured { .. } => "provider_not_configured",
            ProviderError::UnknownModel { .. } => "unknown_model",
        }
    }

    /// How long the provider asked us to wait, for a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Classifies a non-success HTTP status. `message` is the provider's own explanation.
    pub(crate) fn from_status(status: u16, retry_after: Option<Duration>, message: String) -> Self {
        match status {
            429 => ProviderError::RateLimited { retry_after },
            401 | 403 => ProviderError::Auth { status, message },
            500..=599 => ProviderError::Unavailable { status, message },
            _ => ProviderError::BadRequest { status, message },
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        ProviderError::Protocol {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let m = || "m".to_owned();
        assert!(matches!(
            ProviderError::from_status(429, Some(Duration::from_secs(3)), m()),
            ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            ProviderError::from_status(401, None, m()),
            ProviderError::Auth { status: 401, .. }
        ));
        assert!(matches!(
            ProviderError::from_status(403, None, m()),
            ProviderError::Auth { status: 403, .. }
        ));
        assert!(matches!(
            ProviderError::from_status(529, None, m()),
            ProviderError::Unavailable { status: 529, .. }
        ));
        assert!(matches!(
            ProviderError::from_status(500, None, m()),
            ProviderError::Unavailable { status: 500, .. }
        ));
        assert!(matches!(
            ProviderError::from_status(404, None, m()),
            ProviderError::BadRequest { status: 404, .. }
        ));
        assert!(matches!(
            ProviderError::from_status(422, None, m()),
            ProviderError::BadRequest { status: 422, .. }
        ));
    }

    #[test]
    fn display_names_the_phase_and_the_wait() {
        let e = ProviderError::Timeout {
            phase: TimeoutPhase::FirstToken,
        };
        assert_eq!(e.to_string(), "provider timed out (first_token)");
        let e = ProviderError::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(
            e.to_string(),
            "rate limited by the provider (retry after 1500 ms)"
        );
        assert_eq!(e.code(), "rate_limited");
    }
}
