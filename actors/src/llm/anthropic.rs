//! Anthropic Messages API streaming.
//!
//! Request: `POST {base}/messages` with `x-api-key`, `anthropic-version` and
//! `{"model", "max_tokens", "system", "messages", "stream": true}` (`max_tokens` is mandatory;
//! system prompts go in the top-level `system` field, not in `messages`).
//! Response: named SSE events — `message_start` (input usage), `content_block_start`,
//! `ping`, `content_block_delta` (`text_delta`), `content_block_stop`, `message_delta`
//! (`stop_reason` and cumulative output usage), `message_stop`; an `error` event reports a
//! failure mid-stream (e.g. `overloaded_error`). Unknown event types are ignored, as Anthropic
//! asks clients to do.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sse_stream::Sse;

use super::account::Account;
use super::config::{
    DEFAULT_ANTHROPIC_MAX_TOKENS, DEFAULT_ANTHROPIC_VERSION, LlmConfigError, LlmTimeouts,
    ModelConfig, ProviderConfig,
};
use super::error::ProviderError;
use super::event::{FinishReason, ProviderStream, StreamEvent};
use super::http_error::stream_error;
use super::provider::ChatProvider;
use super::request::{ChatRequest, Role};
use super::sse_driver::{Progress, SseDecoder, finish_if_stopped, parse_json};

/// Highest temperature the Messages API accepts.
const MAX_TEMPERATURE: f32 = 1.0;

/// One Anthropic account.
pub struct Anthropic {
    account: Account,
    url: reqwest::Url,
    version: String,
}

impl Anthropic {
    pub fn new(
        config: &ProviderConfig,
        http: reqwest::Client,
        timeouts: LlmTimeouts,
    ) -> Result<Self, LlmConfigError> {
        let account = Account::new(config, http, timeouts)?;
        let url = account
            .endpoint(&["messages"])
            .map_err(|e| LlmConfigError::InvalidBaseUrl {
                provider: config.name.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            account,
            url,
            version: config
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_ANTHROPIC_VERSION.to_owned()),
        })
    }

    fn request(
        &self,
        model: &ModelConfig,
        request: &ChatRequest,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        Ok(self
            .account
            .post(self.url.clone(), &messages_body(model, request))
            .header("x-api-key", self.account.key_header("")?)
            .header("anthropic-version", &self.version))
    }
}

impl ChatProvider for Anthropic {
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream {
        self.account.stream(
            &model.upstream,
            self.request(model, request),
            MessagesDecoder::default(),
        )
    }
}

fn messages_body(model: &ModelConfig, request: &ChatRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model.upstream));
    body.insert(
        "max_tokens".into(),
        json!(
            model
                .output_limit(request.max_tokens)
                .unwrap_or(DEFAULT_ANTHROPIC_MAX_TOKENS)
        ),
    );
    if let Some(system) = request.system_prompt() {
        body.insert("system".into(), json!(system));
    }
    let messages: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    if model.supports_temperature
        && let Some(t) = request.temperature.filter(|t| t.is_finite())
    {
        body.insert("temperature".into(), json!(t.clamp(0.0, MAX_TEMPERATURE)));
    }
    Value::Object(body)
}

/// Decodes the Messages event sequence, keeping the usage it has seen so far.
#[derive(Default)]
struct MessagesDecoder {
    input_tokens: u32,
    output_tokens: u32,
    stop: Option<FinishReason>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        content_block: Block,
    },
    ContentBlockDelta {
        delta: Block,
    },
    MessageDelta {
        delta: MessageDelta,
        #[serde(default)]
        usage: Option<Usage>,
    },
    MessageStop {},
    Error {
        error: Value,
    },
    /// `ping`, `content_block_stop` and event types added after this was written.
    #[serde(other)]
    Ignored,
}

#[derive(Deserialize)]
struct StartedMessage {
    #[serde(default)]
    usage: Option<Usage>,
}

/// A content block or a delta of one: text (`text` / `text_delta`) or something Atrium does
/// not show (tool input, thinking).
#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct MessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// Anthropic counts cached prompt tokens apart from `input_tokens`; all of them were read by
/// the model, so they are summed into the input total.
#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: Option<u32>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
}

impl MessagesDecoder {
    fn absorb(&mut self, usage: &Usage, out: &mut Vec<StreamEvent>) {
        let parts = [
            usage.input_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        ];
        if parts.iter().any(Option::is_some) {
            self.input_tokens = parts
                .iter()
                .flatten()
                .fold(0u32, |a, b| a.saturating_add(*b));
        }
        if let Some(output) = usage.output_tokens {
            self.output_tokens = output;
        }
        out.push(StreamEvent::Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
        });
    }
}

impl SseDecoder for MessagesDecoder {
    fn decode(
        &mut self,
        block: &Sse,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Progress, ProviderError> {
        let Some(data) = block.data.as_deref() else {
            return Ok(Progress::More);
        };
        match parse_json::<Event>("anthropic", data)? {
            Event::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.absorb(&usage, out);
                }
            }
            Event::ContentBlockStart { content_block: b }
            | Event::ContentBlockDelta { delta: b } => {
                if matches!(b.kind.as_str(), "text" | "text_delta")
                    && let Some(text) = b.text.filter(|t| !t.is_empty())
                {
                    out.push(StreamEvent::Delta(text));
                }
            }
            Event::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop = Some(stop_reason(&reason));
                }
                if let Some(usage) = usage {
                    self.absorb(&usage, out);
                }
            }
            Event::MessageStop {} => {
                out.push(StreamEvent::Done {
                    finish_reason: self
                        .stop
                        .take()
                        .unwrap_or_else(|| FinishReason::Other("unspecified".into())),
                });
                return Ok(Progress::Complete);
            }
            Event::Error { error } => {
                return Err(stream_error(&error));
            }
            Event::Ignored => {}
        }
        Ok(Progress::More)
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        finish_if_stopped(self.stop.take(), out, "anthropic", "message_stop")
    }
}

fn stop_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        "tool_use" => FinishReason::ToolUse,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::ChatMessage;

    #[test]
    fn system_prompt_is_lifted_and_max_tokens_always_set() {
        let model = ModelConfig::new("c", "a", "claude-x");
        let request = ChatRequest::new(
            "c",
            vec![
                ChatMessage::system("one"),
                ChatMessage::system("two"),
                ChatMessage::user("hi"),
            ],
        )
        .with_temperature(1.7);
        let body = messages_body(&model, &request);
        assert_eq!(body["system"], "one\n\ntwo");
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["max_tokens"], DEFAULT_ANTHROPIC_MAX_TOKENS);
        assert_eq!(body["temperature"], 1.0);
    }

    #[test]
    fn unknown_and_ping_events_are_ignored() {
        let mut d = MessagesDecoder::default();
        let mut out = Vec::new();
        for data in [
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"some_future_event","x":1}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
        ] {
            assert_eq!(
                d.decode(&Sse::default().data(data), &mut out),
                Ok(Progress::More)
            );
        }
        assert!(out.is_empty());
    }
}
