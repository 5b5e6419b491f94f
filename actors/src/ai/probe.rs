//! An administrator's live test of a provider (`POST /api/v1/admin/providers/{p}/test`): one
//! tiny real request with the provider's effective key, to check that the key, the endpoint and
//! a model id work together before users depend on them.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::llm::{
    ChatMessage, ChatRequest, LlmConfig, LocalBotConfig, ModelConfig, ModelRouter, ProviderConfig,
    StreamEvent, TokenUsage,
};

/// What the test asks.
pub const PROBE_PROMPT: &str = "Reply with the single word OK.";
/// Output limit of the test request.
pub const PROBE_MAX_TOKENS: u32 = 16;
/// Characters of the reply shown back.
pub const PROBE_REPLY_CHARS: usize = 200;
/// The model name the one-off router uses.
const PROBE_MODEL: &str = "probe";

/// The result of a live test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeOutcome {
    pub ok: bool,
    /// The upstream model id that was asked.
    pub model_id: String,
    pub latency_ms: u64,
    /// The start of the reply, when there was one.
    pub reply: Option<String>,
    /// The failure's code (`provider_auth`, `provider_connect`, …) and explanation.
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub usage: TokenUsage,
}

/// Sends the test request to `provider` (with its effective key) for `model`.
pub async fn run(base: &LlmConfig, provider: ProviderConfig, model: ModelConfig) -> ProbeOutcome {
    let model_id = model.upstream.clone();
    let mut model = model;
    model.name = PROBE_MODEL.to_owned();
    model.provider = provider.name.clone();
    model.fallback.clear();
    let config = LlmConfig {
        providers: vec![provider],
        models: vec![model],
        default_model: None,
        local_bot: LocalBotConfig {
            enabled: false,
            ..LocalBotConfig::default()
        },
        ..base.clone()
    };
    let failed = |code: &str, error: String, latency: Duration| ProbeOutcome {
        ok: false,
        model_id: model_id.clone(),
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        reply: None,
        error_code: Some(code.to_owned()),
        error: Some(error),
        usage: TokenUsage::default(),
    };
    let router = match ModelRouter::new(&config) {
        Ok(router) => router,
        Err(error) => return failed("invalid", error.to_string(), Duration::ZERO),
    };
    let request = ChatRequest::new(PROBE_MODEL, vec![ChatMessage::user(PROBE_PROMPT)])
        .with_max_tokens(PROBE_MAX_TOKENS);
    let started = Instant::now();
    let mut stream = router.stream(&request);
    let mut text = String::new();
    let mut usage = TokenUsage::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Delta(t)) => text.push_str(&t),
            Ok(event @ StreamEvent::Usage { .. }) => usage.record(&event),
            Ok(StreamEvent::Done { .. }) => break,
            Err(error) => {
                let mut outcome = failed(error.code(), error.to_string(), started.elapsed());
                outcome.usage = usage;
                return outcome;
            }
        }
    }
    ProbeOutcome {
        ok: true,
        model_id,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        reply: Some(text.chars().take(PROBE_REPLY_CHARS).collect()),
        error_code: None,
        error: None,
        usage,
    }
}
