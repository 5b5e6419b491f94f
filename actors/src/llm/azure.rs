//! Azure OpenAI: the Chat Completions wire format (see `openai.rs`) behind a per-resource
//! endpoint.
//!
//! Request: `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`
//! with an `api-key` header. The deployment name is the model config's `upstream`; the body
//! carries no `model`. Azure streams a first chunk with empty `choices` and
//! `prompt_filter_results`, which the shared decoder skips.

use super::config::{
    ApiKey, DEFAULT_AZURE_API_VERSION, LlmConfigError, LlmTimeouts, ModelConfig, ProviderConfig,
};
use super::error::ProviderError;
use super::event::ProviderStream;
use super::openai::{ChatCompletionsDecoder, chat_completions_body};
use super::provider::{ChatProvider, endpoint, missing_key, secret_header};
use super::request::ChatRequest;
use super::sse_driver::drive;

/// One Azure OpenAI resource.
pub struct AzureOpenAi {
    name: String,
    http: reqwest::Client,
    root: reqwest::Url,
    api_version: String,
    api_key: Option<ApiKey>,
    timeouts: LlmTimeouts,
}

impl AzureOpenAi {
    pub fn new(
        config: &ProviderConfig,
        http: reqwest::Client,
        timeouts: LlmTimeouts,
    ) -> Result<Self, LlmConfigError> {
        Ok(Self {
            name: config.name.clone(),
            http,
            root: config.api_root()?,
            api_version: config
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_owned()),
            api_key: config.api_key.clone(),
            timeouts,
        })
    }

    fn request(
        &self,
        model: &ModelConfig,
        request: &ChatRequest,
    ) -> Result<reqwest::Request, ProviderError> {
        let key = self
            .api_key
            .as_ref()
            .ok_or_else(|| missing_key(&self.name))?;
        let key = secret_header(&self.name, key.expose())?;
        let mut url = endpoint(
            &self.root,
            &[
                "openai",
                "deployments",
                &model.upstream,
                "chat",
                "completions",
            ],
        )?;
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);
        let body = chat_completions_body(None, model, request, true);
        self.http
            .post(url)
            .header("api-key", key)
            .json(&body)
            .build()
            .map_err(|e| ProviderError::protocol(format!("request could not be built: {e}")))
    }
}

impl ChatProvider for AzureOpenAi {
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream {
        tracing::debug!(provider = %self.name, deployment = %model.upstream, "opening Azure OpenAI stream");
        drive(
            self.http.clone(),
            self.request(model, request),
            ChatCompletionsDecoder::new("azure_openai"),
            self.timeouts,
        )
    }
}
