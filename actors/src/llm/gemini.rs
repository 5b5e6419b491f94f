//! Google Gemini `streamGenerateContent` with server-sent events.
//!
//! Request: `POST {base}/models/{model}:streamGenerateContent?alt=sse` with `x-goog-api-key`
//! (the key goes in a header, never in the URL, so it cannot leak through logged URLs) and
//! `{"contents": [{"role": "user"|"model", "parts": [{"text"}]}], "systemInstruction",
//! "generationConfig": {"temperature", "maxOutputTokens"}}`.
//! Response: each `data:` event is a whole `GenerateContentResponse`: text in
//! `candidates[0].content.parts[].text`, running `usageMetadata` (`promptTokenCount`,
//! `candidatesTokenCount`, `thoughtsTokenCount`), and `finishReason` on the last one. There is no
//! end marker: the body simply ends. Errors mid-stream arrive as `{"error": {...}}`.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sse_stream::Sse;

use super::account::Account;
use super::config::{LlmConfigError, LlmTimeouts, ModelConfig, ProviderConfig};
use super::error::ProviderError;
use super::event::{FinishReason, ProviderStream, StreamEvent};
use super::http_error::stream_error;
use super::provider::ChatProvider;
use super::request::{ChatRequest, Role};
use super::sse_driver::{Progress, SseDecoder, finish_if_stopped, parse_json};

/// Highest temperature the Gemini API accepts.
const MAX_TEMPERATURE: f32 = 2.0;

/// One Google AI (Gemini API) account.
pub struct Gemini {
    account: Account,
}

impl Gemini {
    pub fn new(
        config: &ProviderConfig,
        http: reqwest::Client,
        timeouts: LlmTimeouts,
    ) -> Result<Self, LlmConfigError> {
        Ok(Self {
            account: Account::new(config, http, timeouts)?,
        })
    }

    fn request(
        &self,
        model: &ModelConfig,
        request: &ChatRequest,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let method = format!("{}:streamGenerateContent", model.upstream);
        let mut url = self.account.endpoint(&["models", &method])?;
        url.query_pairs_mut().append_pair("alt", "sse");
        Ok(self
            .account
            .post(url, &generate_body(model, request))
            .header("x-goog-api-key", self.account.key_header("")?))
    }
}

impl ChatProvider for Gemini {
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream {
        self.account.stream(
            &model.upstream,
            self.request(model, request),
            GenerateDecoder::default(),
        )
    }
}

fn generate_body(model: &ModelConfig, request: &ChatRequest) -> Value {
    let mut body = Map::new();
    let contents: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| {
            let role = if m.role == Role::Assistant {
                "model"
            } else {
                "user"
            };
            json!({"role": role, "parts": [{"text": m.content}]})
        })
        .collect();
    body.insert("contents".into(), Value::Array(contents));
    if let Some(system) = request.system_prompt() {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    let mut generation = Map::new();
    if model.supports_temperature
        && let Some(t) = request.temperature.filter(|t| t.is_finite())
    {
        generation.insert("temperature".into(), json!(t.clamp(0.0, MAX_TEMPERATURE)));
    }
    if let Some(limit) = model.output_limit(request.max_tokens) {
        generation.insert("maxOutputTokens".into(), json!(limit));
    }
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    Value::Object(body)
}

#[derive(Default)]
struct GenerateDecoder {
    usage: Option<(u32, u32)>,
    finish: Option<FinishReason>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Option<Vec<Candidate>>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Option<Vec<Part>>,
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    /// Thought summaries of thinking models are not part of the answer.
    #[serde(default)]
    thought: bool,
}

/// Thinking tokens are billed as output, so they count towards `output_tokens`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
    #[serde(default)]
    thoughts_token_count: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
}

impl SseDecoder for GenerateDecoder {
    fn decode(
        &mut self,
        block: &Sse,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Progress, ProviderError> {
        let Some(data) = block.data.as_deref() else {
            return Ok(Progress::More);
        };
        let response: Response = parse_json("gemini", data)?;
        if let Some(error) = response.error {
            return Err(stream_error(&error));
        }
        for candidate in response.candidates.unwrap_or_default() {
            if candidate.index != 0 {
                continue;
            }
            let parts = candidate.content.and_then(|c| c.parts).unwrap_or_default();
            for part in parts.into_iter().filter(|p| !p.thought) {
                if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::Delta(text));
                }
            }
            if let Some(reason) = candidate.finish_reason {
                self.finish = Some(finish_reason(&reason));
            }
        }
        if response
            .prompt_feedback
            .and_then(|f| f.block_reason)
            .is_some()
        {
            self.finish = Some(FinishReason::ContentFilter);
        }
        if let Some(usage) = response.usage_metadata {
            let now = (
                usage.prompt_token_count,
                usage
                    .candidates_token_count
                    .saturating_add(usage.thoughts_token_count),
            );
            // Gemini repeats usage on every chunk; report only changes.
            if self.usage != Some(now) {
                self.usage = Some(now);
                out.push(StreamEvent::Usage {
                    input_tokens: now.0,
                    output_tokens: now.1,
                });
            }
        }
        Ok(Progress::More)
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        finish_if_stopped(self.finish.take(), out, "gemini", "a finishReason")
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(other.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::ChatMessage;

    #[test]
    fn roles_map_to_user_and_model() {
        let model = ModelConfig::new("g", "google", "gemini-x");
        let request = ChatRequest::new(
            "g",
            vec![
                ChatMessage::system("sys"),
                ChatMessage::user("a"),
                ChatMessage::assistant("b"),
            ],
        )
        .with_max_tokens(50);
        let body = generate_body(&model, &request);
        assert_eq!(body["contents"][0]["role"], "user");
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], "sys");
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 50);
        assert!(body["generationConfig"].get("temperature").is_none());
    }

    #[test]
    fn thoughts_are_skipped_and_counted_as_output() {
        let mut d = GenerateDecoder::default();
        let mut out = Vec::new();
        let data = r#"{"candidates":[{"content":{"parts":[{"text":"pondering","thought":true},{"text":"Answer"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"thoughtsTokenCount":7}}"#;
        assert_eq!(
            d.decode(&Sse::default().data(data), &mut out),
            Ok(Progress::More)
        );
        d.finish(&mut out).unwrap();
        assert_eq!(
            out,
            vec![
                StreamEvent::Delta("Answer".into()),
                StreamEvent::Usage {
                    input_tokens: 3,
                    output_tokens: 8
                },
                StreamEvent::Done {
                    finish_reason: FinishReason::Stop
                }
            ]
        );
    }
}
