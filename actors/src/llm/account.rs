//! What every HTTP adapter holds and does the same way: its provider's name, the shared client,
//! the API root, the key, the timeouts — building URLs, key headers and the streamed request.

use reqwest::header::HeaderValue;

use super::config::{ApiKey, LlmConfigError, LlmTimeouts, ProviderConfig};
use super::error::ProviderError;
use super::event::ProviderStream;
use super::sse_driver::{SseDecoder, drive};

/// One configured provider account, as seen by an adapter.
pub(crate) struct Account {
    pub(crate) name: String,
    http: reqwest::Client,
    root: reqwest::Url,
    api_key: Option<ApiKey>,
    timeouts: LlmTimeouts,
}

impl Account {
    pub(crate) fn new(
        config: &ProviderConfig,
        http: reqwest::Client,
        timeouts: LlmTimeouts,
    ) -> Result<Self, LlmConfigError> {
        Ok(Self {
            name: config.name.clone(),
            http,
            root: config.api_root()?,
            api_key: config.api_key.clone(),
            timeouts,
        })
    }

    /// The API root with `segments` appended as path segments, each percent-encoded so a model
    /// id or deployment name cannot change the path's shape.
    pub(crate) fn endpoint(&self, segments: &[&str]) -> Result<reqwest::Url, ProviderError> {
        let mut url = self.root.clone();
        url.path_segments_mut()
            .map_err(|()| ProviderError::NotConfigured {
                message: format!("base URL {} cannot take a path", self.root),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// The key as a header value (`prefix` is e.g. `"Bearer "`), marked sensitive so HTTP-layer
    /// debug output hides it. A provider without a key is `NotConfigured`.
    pub(crate) fn key_header(&self, prefix: &str) -> Result<HeaderValue, ProviderError> {
        let key = self
            .api_key
            .as_ref()
            .ok_or_else(|| ProviderError::NotConfigured {
                message: format!("provider '{}' has no API key", self.name),
            })?;
        let mut header =
            HeaderValue::from_str(&format!("{prefix}{}", key.expose())).map_err(|_| {
                ProviderError::NotConfigured {
                    message: format!(
                        "provider '{}' has an API key that is not a valid header",
                        self.name
                    ),
                }
            })?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// A JSON `POST` to `url`, to be completed with headers by the adapter.
    pub(crate) fn post(
        &self,
        url: reqwest::Url,
        body: &serde_json::Value,
    ) -> reqwest::RequestBuilder {
        self.http.post(url).json(body)
    }

    /// Streams the prepared request through `decoder` under this account's timeouts.
    pub(crate) fn stream(
        &self,
        upstream_model: &str,
        request: Result<reqwest::RequestBuilder, ProviderError>,
        decoder: impl SseDecoder,
    ) -> ProviderStream {
        tracing::debug!(provider = %self.name, model = %upstream_model, "opening provider stream");
        let request = request.and_then(|builder| {
            builder
                .build()
                .map_err(|e| ProviderError::protocol(format!("request could not be built: {e}")))
        });
        drive(self.http.clone(), request, decoder, self.timeouts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::config::ProviderKind;

    fn account(base: &str, key: Option<&str>) -> Account {
        let mut config = ProviderConfig::new("p", ProviderKind::OpenAi).with_base_url(base);
        config.api_key = key.map(ApiKey::new);
        Account::new(&config, reqwest::Client::new(), LlmTimeouts::default()).unwrap()
    }

    #[test]
    fn endpoint_appends_encoded_segments() {
        let a = account("http://127.0.0.1:9/v1/", None);
        let url = a.endpoint(&["chat", "completions"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/v1/chat/completions");
        let url = a.endpoint(&["deployments", "a/b?c"]).unwrap();
        assert_eq!(url.path(), "/v1/deployments/a%2Fb%3Fc");
    }

    #[test]
    fn key_headers_are_sensitive_and_required() {
        let a = account("http://127.0.0.1:9", Some("k"));
        let header = a.key_header("Bearer ").unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().ok(), Some("Bearer k"));
        assert!(matches!(
            account("http://127.0.0.1:9", None).key_header(""),
            Err(ProviderError::NotConfigured { .. })
        ));
        assert!(matches!(
            account("http://127.0.0.1:9", Some("bad\nkey")).key_header(""),
            Err(ProviderError::NotConfigured { .. })
        ));
    }
}
