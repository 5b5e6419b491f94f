//! The one interface every adapter implements, and the HTTP client they share.

use super::config::{LlmConfigError, LlmTimeouts, ModelConfig};
use super::event::ProviderStream;
use super::request::ChatRequest;

/// Something that can stream a chat completion.
///
/// `stream` is synchronous and cheap: it prepares the request and returns a lazy stream; the
/// network is touched only when the stream is polled, and dropping the stream cancels it. Errors
/// (including configuration problems found while preparing) arrive as the stream's only item,
/// so callers handle every failure in one place.
pub trait ChatProvider: Send + Sync {
    /// Streams `request` with the model described by `model` (its upstream id and flags);
    /// `request.model` is informational here.
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream;
}

/// Sent with every provider request, so provider-side logs show who is calling.
const USER_AGENT: &str = concat!("atrium/", env!("CARGO_PKG_VERSION"));

/// The HTTP client shared by all adapters: connection pooling across requests, the configured
/// connect timeout, and deliberately no overall request timeout (a long answer may stream for
/// minutes; the adapters enforce first-token and idle timeouts instead).
pub fn build_http_client(timeouts: &LlmTimeouts) -> Result<reqwest::Client, LlmConfigError> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect())
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| LlmConfigError::HttpClient(e.to_string()))
}
