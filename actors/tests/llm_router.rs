//! The model router: configuration from TOML, and fallback chains that switch models only while
//! nothing has been shown to the user.

mod llm_mock;

use atrium_actors::llm::{
    ChatMessage, ChatRequest, FinishReason, LlmConfig, LocalBot, ModelConfig, ModelRouter,
    ProviderConfig, ProviderError, ProviderKind, StreamEvent, TimeoutPhase, TokenUsage,
};
use futures_util::StreamExt;
use llm_mock::{MockProvider, Reply, collect, fast_timeouts};

const ANTHROPIC_OK: &[&str] = &[
    r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#,
    r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}"#,
    r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" answer"}}"#,
    r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}"#,
    r#"event: message_stop
data: {"type":"message_stop"}"#,
];

/// Overloaded right after `message_start`: input tokens were reported, no text was produced.
const ANTHROPIC_FAILS_EARLY: &[&str] = &[
    ANTHROPIC_OK[0],
    r#"event: error
data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
];

/// Fails after the first text.
const ANTHROPIC_FAILS_LATE: &[&str] = &[
    ANTHROPIC_OK[0],
    ANTHROPIC_OK[2],
    r#"event: error
data: {"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
];

const OPENAI_OK: &[&str] = &[
    r#"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"From"},"finish_reason":null}]}"#,
    r#"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" OpenAI"},"finish_reason":"stop"}]}"#,
    r#"data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13}}"#,
    "data: [DONE]",
];

/// `claude` (anthropic mock) → `gpt` (openai mock) → `local`.
fn config(anthropic: &MockProvider, openai: &MockProvider, with_local: bool) -> LlmConfig {
    let mut chain = vec!["gpt"];
    if with_local {
        chain.push("local");
    }
    LlmConfig {
        timeouts: fast_timeouts(),
        providers: vec![
            ProviderConfig::new("anthropic", ProviderKind::Anthropic)
                .with_base_url(anthropic.url("/v1"))
                .with_api_key("ant-key"),
            ProviderConfig::new("openai", ProviderKind::OpenAi)
                .with_base_url(openai.url("/v1"))
                .with_api_key("oa-key"),
        ],
        models: vec![
            ModelConfig::new("claude", "anthropic", "claude-sonnet-4-5").with_fallback(&chain),
            ModelConfig::new("gpt", "openai", "gpt-4o"),
        ],
        ..LlmConfig::default()
    }
}

fn question() -> ChatRequest {
    ChatRequest::new("claude", vec![ChatMessage::user("Hello there")])
}

#[tokio::test]
async fn an_outage_before_text_falls_back_to_the_next_model() {
    let anthropic = MockProvider::start(Reply::status(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ))
    .await;
    let openai = MockProvider::start(Reply::events(OPENAI_OK)).await;
    let router = ModelRouter::new(&config(&anthropic, &openai, true)).expect("router");
    assert_eq!(router.fallback_chain("claude"), ["claude", "gpt", "local"]);

    let opened = router.open(&question()).await.expect("a model answers");
    assert_eq!(opened.model, "gpt");
    assert_eq!(opened.failures.len(), 1);
    assert_eq!(opened.failures[0].model, "claude");
    assert!(matches!(
        opened.failures[0].error,
        ProviderError::Unavailable { status: 529, .. }
    ));
    let out = collect(opened.stream).await;
    assert_eq!(out.text, "From OpenAI", "the first delta is not lost");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 11,
            output_tokens: 2
        }
    );
    assert_eq!(out.done, Some(FinishReason::Stop));
    assert_eq!(
        openai.only_request().body["model"],
        "gpt-4o",
        "the fallback uses its own upstream id"
    );
}

#[tokio::test]
async fn an_early_error_event_falls_back_and_keeps_the_reported_usage() {
    let anthropic = MockProvider::start(Reply::events(ANTHROPIC_FAILS_EARLY)).await;
    let openai = MockProvider::start(Reply::events(OPENAI_OK)).await;
    let router = ModelRouter::new(&config(&anthropic, &openai, false)).expect("router");
    let opened = router.open(&question()).await.expect("a model answers");
    assert_eq!(opened.model, "gpt");
    assert_eq!(
        opened.failures[0].usage,
        Some(TokenUsage {
            input_tokens: 12,
            output_tokens: 1
        })
    );
    assert!(matches!(
        opened.failures[0].error,
        ProviderError::Provider { .. }
    ));
}

#[tokio::test]
async fn the_chain_ends_at_the_local_bot() {
    let anthropic = MockProvider::start(Reply::events_then_stall(&ANTHROPIC_OK[..2])).await;
    let openai = MockProvider::start(Reply::status(
        401,
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#,
    ))
    .await;
    let router = ModelRouter::with_local_bot(
        &config(&anthropic, &openai, true),
        LocalBot::with_clock(time::OffsetDateTime::now_utc),
    )
    .expect("router");
    let opened = router.open(&question()).await.expect("the bot answers");
    assert_eq!(opened.model, "local");
    let errors: Vec<&ProviderError> = opened.failures.iter().map(|f| &f.error).collect();
    assert_eq!(
        errors[0],
        &ProviderError::Timeout {
            phase: TimeoutPhase::FirstToken
        }
    );
    assert!(matches!(errors[1], ProviderError::Auth { status: 401, .. }));
    let out = collect(opened.stream).await;
    assert!(out.text.starts_with("Hello!"), "{}", out.text);
    assert_eq!(out.done, Some(FinishReason::Stop));
}

#[tokio::test]
async fn a_failure_after_text_does_not_fall_back() {
    let anthropic = MockProvider::start(Reply::events(ANTHROPIC_FAILS_LATE)).await;
    let openai = MockProvider::start(Reply::events(OPENAI_OK)).await;
    let router = ModelRouter::new(&config(&anthropic, &openai, true)).expect("router");
    let opened = router
        .open(&question())
        .await
        .expect("claude starts answering");
    assert_eq!(opened.model, "claude");
    assert!(opened.failures.is_empty());
    let out = collect(opened.stream).await;
    assert_eq!(
        out.text, "Partial",
        "the partial answer stays, nothing duplicated"
    );
    assert!(matches!(out.error, Some(ProviderError::Provider { .. })));
    assert_eq!(
        out.usage.input_tokens, 12,
        "usage buffered before the first delta is replayed"
    );
    assert!(openai.requests().is_empty(), "no second model was asked");
}

#[tokio::test]
async fn a_chain_without_any_answer_reports_every_attempt() {
    let anthropic = MockProvider::start(Reply::status(500, "oops")).await;
    let openai =
        MockProvider::start(Reply::status_with_header(429, "retry-after", "3", "{}")).await;
    let router = ModelRouter::new(&config(&anthropic, &openai, false)).expect("router");
    let exhausted = router.open(&question()).await.expect_err("nobody answers");
    let models: Vec<&str> = exhausted
        .attempts
        .iter()
        .map(|a| a.model.as_str())
        .collect();
    assert_eq!(models, ["claude", "gpt"]);
    assert_eq!(
        exhausted.last_error().map(ProviderError::code),
        Some("rate_limited")
    );
    assert!(matches!(
        exhausted.attempts[0].error,
        ProviderError::Unavailable { status: 500, ref message } if message == "oops"
    ));
}

#[tokio::test]
async fn unknown_models_are_reported() {
    let router = ModelRouter::new(&LlmConfig::default()).expect("router");
    let exhausted = router
        .open(&ChatRequest::new("gpt-7", vec![ChatMessage::user("hi")]))
        .await
        .expect_err("unknown");
    assert_eq!(
        exhausted.last_error(),
        Some(&ProviderError::UnknownModel {
            model: "gpt-7".into()
        })
    );
    let mut stream = router.stream(&ChatRequest::new("gpt-7", vec![]));
    assert!(matches!(
        stream.next().await,
        Some(Err(ProviderError::UnknownModel { .. }))
    ));
    assert!(stream.next().await.is_none());
}

#[test]
fn configuration_reads_from_toml() {
    let text = r#"
        default_model = "claude"

        [timeouts]
        connect_ms = 3000
        first_token_ms = 20000
        idle_ms = 15000

        [local_bot]
        enabled = true

        [[providers]]
        name = "anthropic"
        kind = "anthropic"
        api_key = "sk-ant-secret"

        [[providers]]
        name = "azure"
        kind = "azure_openai"
        base_url = "https://example-resource.openai.azure.com"
        api_key = "azure-secret"
        api_version = "2025-01-01-preview"

        [[models]]
        name = "claude"
        provider = "anthropic"
        upstream = "claude-sonnet-4-5"
        fallback = ["o4-mini", "local"]

        [[models]]
        name = "o4-mini"
        provider = "azure"
        upstream = "o4-mini-prod"
        supports_temperature = false
        uses_max_completion_tokens = true
        max_tokens = 2048
    "#;
    let config: LlmConfig = toml::from_str(text).expect("valid TOML");
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(config.timeouts.first_token_ms, 20_000);
    assert_eq!(config.providers[1].kind, ProviderKind::AzureOpenAi);
    let o4 = &config.models[1];
    assert!(!o4.supports_temperature && o4.uses_max_completion_tokens);
    assert_eq!(o4.max_tokens, Some(2048));
    assert!(
        !format!("{config:?}").contains("secret"),
        "keys are masked in Debug"
    );

    let router = ModelRouter::new(&config).expect("router");
    assert_eq!(router.default_model(), Some("claude"));
    assert_eq!(router.model_names(), ["claude", "o4-mini", "local"]);
    assert_eq!(
        router.model("o4-mini").map(|m| m.upstream.as_str()),
        Some("o4-mini-prod")
    );

    let unknown_field = format!("{text}\n[extra]\nx = 1\n");
    assert!(
        toml::from_str::<LlmConfig>(&unknown_field).is_err(),
        "typos are rejected"
    );
}

#[tokio::test]
async fn usage_before_the_first_delta_reaches_the_caller() {
    let anthropic = MockProvider::start(Reply::events(ANTHROPIC_OK)).await;
    let openai = MockProvider::start(Reply::events(OPENAI_OK)).await;
    let router = ModelRouter::new(&config(&anthropic, &openai, false)).expect("router");
    let opened = router.open(&question()).await.expect("claude answers");
    let events: Vec<StreamEvent> = opened.stream.map(|e| e.expect("no error")).collect().await;
    assert_eq!(
        events.first(),
        Some(&StreamEvent::Usage {
            input_tokens: 12,
            output_tokens: 1
        })
    );
    assert_eq!(events.get(1), Some(&StreamEvent::Delta("Partial".into())));
}

#[test]
fn the_router_can_be_shared_across_tasks() {
    fn shareable<T: Send + Sync>() {}
    fn sendable<T: Send>(_: &T) {}
    shareable::<ModelRouter>();
    let router = ModelRouter::new(&LlmConfig::default()).expect("router");
    let request = ChatRequest::new("local", vec![ChatMessage::user("hi")]);
    let opening = router.open(&request);
    sendable(&opening);
}
