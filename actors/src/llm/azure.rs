//! Azure OpenAI: the Chat Completions wire format (see `openai.rs`) behind a per-resource
//! endpoint.
//!
//! Request: `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`
//! with an `api-key` header. The deployment name is the model config's `upstream`; the body
//! carries no `model`. Azure streams a first chunk with empty `choices` and
//! `prompt_filter_results`, which the shared decoder skips.

use super::account::Account;
use super::config::{
    DEFAULT_AZURE_API_VERSION, LlmConfigError, LlmTimeouts, ModelConfig, ProviderConfig,
};
use super::error::ProviderError;
use super::event::ProviderStream;
use super::openai::{ChatCompletionsDecoder, chat_completions_body};
use super::provider::ChatProvider;
use super::request::ChatRequest;

/// One Azure OpenAI resource.
pub struct AzureOpenAi {
    account: Account,
    api_version: String,
}

impl AzureOpenAi {
    pub fn new(
        config: &ProviderConfig,
        http: reqwest::Client,
        timeouts: LlmTimeouts,
    ) -> Result<Self, LlmConfigError> {
        Ok(Self {
            account: Account::new(config, http, timeouts)?,
            api_version: config
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_owned()),
        })
    }

    fn request(
        &self,
        model: &ModelConfig,
        request: &ChatRequest,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let mut url = self.account.endpoint(&[
            "openai",
            "deployments",
            &model.upstream,
            "chat",
            "completions",
        ])?;
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);
        let body = chat_completions_body(None, model, request, true);
        Ok(self
            .account
            .post(url, &body)
            .header("api-key", self.account.key_header("")?))
    }
}

impl ChatProvider for AzureOpenAi {
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream {
        self.account.stream(
            &model.upstream,
            self.request(model, request),
            ChatCompletionsDecoder::new("azure_openai"),
        )
    }
}
