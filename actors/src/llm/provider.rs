//! The one interface every adapter implements.

use super::config::{LlmConfigError, LlmTimeouts, ModelConfig};
use super::error::ProviderError;
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

/// `root` with `segments` appended as path segments (each percent-encoded, so a model id or a
/// deployment name cannot change the path's shape).
pub(crate) fn endpoint(
    root: &reqwest::Url,
    segments: &[&str],
) -> Result<reqwest::Url, ProviderError> {
    let mut url = root.clone();
    url.path_segments_mut()
        .map_err(|()| ProviderError::NotConfigured {
            message: format!("base URL {root} cannot take a path"),
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// A header carrying a secret, marked sensitive so HTTP-layer debug output hides it.
pub(crate) fn secret_header(
    provider: &str,
    value: &str,
) -> Result<reqwest::header::HeaderValue, ProviderError> {
    let mut header = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
        ProviderError::NotConfigured {
            message: format!("provider '{provider}' has an API key that is not a valid header"),
        }
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A model's provider has no API key.
pub(crate) fn missing_key(provider: &str) -> ProviderError {
    ProviderError::NotConfigured {
        message: format!("provider '{provider}' has no API key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_appends_encoded_segments() {
        let root = reqwest::Url::parse("http://127.0.0.1:9/v1/").unwrap();
        let url = endpoint(&root, &["chat", "completions"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/v1/chat/completions");
        let url = endpoint(&root, &["deployments", "a/b?c"]).unwrap();
        assert_eq!(url.path(), "/v1/deployments/a%2Fb%3Fc");
    }
}
