//! OpenAI Chat Completions streaming, also spoken by Mistral and xAI (and, with another URL and
//! header, by Azure OpenAI: see `azure.rs`).
//!
//! Request: `POST {base}/chat/completions` with `Authorization: Bearer KEY` and
//! `{"model", "messages", "stream": true, "stream_options": {"include_usage": true}}`.
//! Response: SSE `data:` lines, each a `chat.completion.chunk` whose `choices[0].delta.content`
//! carries text; the chunk with `finish_reason` is followed by one with empty `choices` and the
//! `usage` totals; `data: [DONE]` ends the stream. An error after the headers arrives as a chunk
//! `{"error": {"message", "type"}}`.

use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sse_stream::Sse;

use super::account::Account;
use super::config::{LlmConfigError, LlmTimeouts, ModelConfig, ProviderConfig, ProviderKind};
use super::error::ProviderError;
use super::event::{FinishReason, ProviderStream, StreamEvent};
use super::http_error::stream_error;
use super::provider::ChatProvider;
use super::request::ChatRequest;
use super::sse_driver::{Progress, SseDecoder, finish_if_stopped, parse_json};

/// Highest temperature the Chat Completions API accepts.
const MAX_TEMPERATURE: f32 = 2.0;

/// An OpenAI, Mistral or xAI account.
pub struct OpenAiCompatible {
    account: Account,
    kind: ProviderKind,
    url: reqwest::Url,
}

impl OpenAiCompatible {
    pub fn new(
        config: &ProviderConfig,
        http: reqwest::Client,
        timeouts: LlmTimeouts,
    ) -> Result<Self, LlmConfigError> {
        let account = Account::new(config, http, timeouts)?;
        let url = account.endpoint(&["chat", "completions"]).map_err(|e| {
            LlmConfigError::InvalidBaseUrl {
                provider: config.name.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            account,
            kind: config.kind,
            url,
        })
    }

    /// Mistral returns usage in the last chunk on its own and rejects unknown request fields,
    /// so it gets no `stream_options`.
    fn include_usage_option(&self) -> bool {
        self.kind != ProviderKind::Mistral
    }

    fn request(
        &self,
        model: &ModelConfig,
        request: &ChatRequest,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let body = chat_completions_body(
            Some(&model.upstream),
            model,
            request,
            self.include_usage_option(),
        );
        Ok(self
            .account
            .post(self.url.clone(), &body)
            .header(AUTHORIZATION, self.account.key_header("Bearer ")?))
    }
}

impl ChatProvider for OpenAiCompatible {
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream {
        self.account.stream(
            &model.upstream,
            self.request(model, request),
            ChatCompletionsDecoder::new(self.kind.as_str()),
        )
    }
}

/// The Chat Completions request body. `model_id` is `None` for Azure, where the deployment in
/// the URL selects the model. The model's flags decide whether `temperature` is sent and which
/// name the output limit goes under.
pub(crate) fn chat_completions_body(
    model_id: Option<&str>,
    model: &ModelConfig,
    request: &ChatRequest,
    include_usage: bool,
) -> Value {
    let mut body = Map::new();
    if let Some(id) = model_id {
        body.insert("model".into(), json!(id));
    }
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    if include_usage {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if model.supports_temperature
        && let Some(t) = request.temperature.filter(|t| t.is_finite())
    {
        body.insert("temperature".into(), json!(t.clamp(0.0, MAX_TEMPERATURE)));
    }
    if let Some(limit) = model.output_limit(request.max_tokens) {
        let key = if model.uses_max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(key.into(), json!(limit));
    }
    Value::Object(body)
}

/// Decodes `chat.completion.chunk` events.
pub(crate) struct ChatCompletionsDecoder {
    provider: &'static str,
    finish: Option<FinishReason>,
}

impl ChatCompletionsDecoder {
    pub(crate) fn new(provider: &'static str) -> Self {
        Self {
            provider,
            finish: None,
        }
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

impl SseDecoder for ChatCompletionsDecoder {
    fn decode(
        &mut self,
        block: &Sse,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Progress, ProviderError> {
        let Some(data) = block.data.as_deref() else {
            return Ok(Progress::More);
        };
        if data.trim() == "[DONE]" {
            out.push(StreamEvent::Done {
                finish_reason: self
                    .finish
                    .take()
                    .unwrap_or_else(|| FinishReason::Other("unspecified".into())),
            });
            return Ok(Progress::Complete);
        }
        // Some compatible servers name their error events instead of sending an error chunk.
        if block.event.as_deref() == Some("error") {
            let payload = serde_json::from_str::<Value>(data)
                .unwrap_or_else(|_| Value::String(data.to_owned()));
            return Err(stream_error(&payload));
        }
        let chunk: Chunk = parse_json(self.provider, data)?;
        if let Some(error) = chunk.error {
            return Err(stream_error(&error));
        }
        for choice in chunk.choices.unwrap_or_default() {
            // Atrium never asks for n > 1; other choices would interleave unrelated answers.
            if choice.index != 0 {
                continue;
            }
            if let Some(text) = choice
                .delta
                .and_then(|d| d.content)
                .filter(|t| !t.is_empty())
            {
                out.push(StreamEvent::Delta(text));
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(finish_reason(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            out.push(StreamEvent::Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            });
        }
        Ok(Progress::More)
    }

    /// Without `[DONE]` the answer still counts as complete if a finish reason arrived
    /// (some compatible servers omit the marker); otherwise the stream was cut.
    fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        finish_if_stopped(self.finish.take(), out, self.provider, "[DONE]")
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" | "model_length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolUse,
        other => FinishReason::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::ChatMessage;

    fn request() -> ChatRequest {
        ChatRequest::new(
            "m",
            vec![ChatMessage::system("be brief"), ChatMessage::user("hi")],
        )
        .with_temperature(3.5)
        .with_max_tokens(100)
    }

    #[test]
    fn body_honours_model_flags() {
        let mut model = ModelConfig::new("m", "p", "gpt-x");
        let body = chat_completions_body(Some("gpt-x"), &model, &request(), true);
        assert_eq!(body["model"], "gpt-x");
        assert_eq!(body["temperature"], 2.0, "clamped to the accepted range");
        assert_eq!(body["max_tokens"], 100);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0]["role"], "system");

        model.supports_temperature = false;
        model.uses_max_completion_tokens = true;
        let body = chat_completions_body(None, &model, &request(), false);
        assert!(body.get("model").is_none());
        assert!(body.get("temperature").is_none());
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["max_completion_tokens"], 100);
        assert!(body.get("stream_options").is_none());
    }

    fn data(text: &str) -> Sse {
        Sse::default().data(text)
    }

    #[test]
    fn decodes_deltas_usage_and_done() {
        let mut d = ChatCompletionsDecoder::new("openai");
        let mut out = Vec::new();
        for block in [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#,
        ] {
            assert_eq!(d.decode(&data(block), &mut out), Ok(Progress::More));
        }
        assert_eq!(d.decode(&data("[DONE]"), &mut out), Ok(Progress::Complete));
        assert_eq!(
            out,
            vec![
                StreamEvent::Delta("Hi".into()),
                StreamEvent::Usage {
                    input_tokens: 5,
                    output_tokens: 1
                },
                StreamEvent::Done {
                    finish_reason: FinishReason::Length
                },
            ]
        );
    }

    #[test]
    fn cut_streams_and_garbage_are_protocol_errors() {
        let mut d = ChatCompletionsDecoder::new("openai");
        let mut out = Vec::new();
        assert!(matches!(
            d.decode(&data("{\"choices\": ["), &mut out),
            Err(ProviderError::Protocol { .. })
        ));
        assert!(matches!(
            d.finish(&mut out),
            Err(ProviderError::Protocol { .. })
        ));
        let named = Sse::default().event("error").data("upstream overloaded");
        assert_eq!(
            d.decode(&named, &mut out),
            Err(ProviderError::Provider {
                message: "upstream overloaded".into()
            })
        );
    }
}
