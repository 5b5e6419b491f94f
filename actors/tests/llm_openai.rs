//! The OpenAI Chat Completions adapter and its relatives (Mistral, xAI, Azure OpenAI) against a
//! local mock that replays each provider's documented event sequence.

mod llm_mock;

use std::time::Duration;

use atrium_actors::llm::{
    ChatMessage, ChatRequest, FinishReason, ModelConfig, ProviderConfig, ProviderError,
    ProviderKind, TimeoutPhase, TokenUsage,
};
use futures_util::StreamExt;
use llm_mock::{MockProvider, Reply, collect, dead_url, router};

const KEY: &str = "sk-test-openai-0123456789";

/// A `gpt-4o` stream as OpenAI sends it with `stream_options.include_usage`: a role chunk with
/// empty content, content chunks, a finish chunk, a usage chunk with empty `choices`, `[DONE]`.
const NORMAL: &[&str] = &[
    r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":", Grüße 👋"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":6,"total_tokens":25,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#,
    "data: [DONE]",
];

const EXPECTED_TEXT: &str = "Hello there, Grüße 👋";

/// Two deltas, then the error chunk OpenAI sends when generation fails after the headers.
const ERROR_MID_STREAM: &[&str] = &[
    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
];

const MALFORMED: &[&str] = &[
    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"#,
    "data: [DONE]",
];

/// Cut off: content, then the body ends without a finish reason or `[DONE]`.
const TRUNCATED: &[&str] = &[
    r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#,
];

const RATE_LIMIT_BODY: &str = r#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29842, Requested 950. Please try again in 1.584s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
const SERVER_ERROR_BODY: &str = r#"{"error":{"message":"The server had an error processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;
const AUTH_BODY: &str = r#"{"error":{"message":"Incorrect API key provided: sk-test-****6789. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;

fn provider(base_url: &str) -> ProviderConfig {
    ProviderConfig::new("openai", ProviderKind::OpenAi)
        .with_base_url(base_url)
        .with_api_key(KEY)
}

fn model() -> ModelConfig {
    ModelConfig::new("gpt", "openai", "gpt-4o")
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "gpt",
        vec![
            ChatMessage::system("You are terse."),
            ChatMessage::user("Say hello"),
        ],
    )
    .with_temperature(0.3)
    .with_max_tokens(64)
}

async fn run(reply: Reply) -> (MockProvider, llm_mock::Outcome) {
    llm_mock::run_against(reply, "/v1", provider, model(), &request()).await
}

#[tokio::test]
async fn streams_text_usage_and_done_with_the_documented_request() {
    let (mock, out) = run(Reply::events(NORMAL)).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, EXPECTED_TEXT);
    assert_eq!(out.deltas, 3, "the empty role chunk is not a delta");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 19,
            output_tokens: 6
        }
    );
    assert_eq!(out.done, Some(FinishReason::Stop));
    assert_eq!(out.after_end, 0);

    let req = mock.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some(&*format!("Bearer {KEY}")));
    assert_eq!(
        req.body["model"], "gpt-4o",
        "the upstream id, not the model name"
    );
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["stream_options"]["include_usage"], true);
    assert_eq!(req.body["max_tokens"], 64);
    assert!((req.body["temperature"].as_f64().unwrap_or(0.0) - 0.3).abs() < 1e-6);
    assert_eq!(req.body["messages"][0]["role"], "system");
    assert_eq!(req.body["messages"][1]["content"], "Say hello");
}

#[tokio::test]
async fn events_split_across_chunks_decode_the_same() {
    let (_mock, out) = run(Reply::events_rechunked(NORMAL, 7)).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, EXPECTED_TEXT);
    assert_eq!(out.done, Some(FinishReason::Stop));
    assert_eq!(out.usage.output_tokens, 6);
}

#[tokio::test]
async fn an_error_event_mid_stream_keeps_the_partial_text() {
    let (_mock, out) = run(Reply::events(ERROR_MID_STREAM)).await;
    assert_eq!(out.text, "Hello there");
    assert_eq!(out.done, None);
    match out.error {
        Some(ProviderError::Provider { message }) => {
            assert!(message.contains("server_error"), "{message}");
            assert!(message.contains("processing your request"), "{message}");
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
    assert_eq!(out.after_end, 0);
}

#[tokio::test]
async fn http_429_is_rate_limited_with_retry_after() {
    let (_mock, out) = run(Reply::status_with_header(
        429,
        "retry-after",
        "7",
        RATE_LIMIT_BODY,
    ))
    .await;
    assert_eq!(out.deltas, 0);
    assert_eq!(
        out.error,
        Some(ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        })
    );
}

#[tokio::test]
async fn retry_after_ms_is_preferred() {
    let mock = MockProvider::start(Reply::Status {
        status: 429,
        headers: vec![
            ("retry-after", "2".to_owned()),
            ("retry-after-ms", "1584".to_owned()),
        ],
        body: RATE_LIMIT_BODY.to_owned(),
    })
    .await;
    let router = router(provider(&mock.url("/v1")), model());
    let out = collect(router.stream(&request())).await;
    assert_eq!(
        out.error.and_then(|e| e.retry_after()),
        Some(Duration::from_millis(1584))
    );
}

#[tokio::test]
async fn http_500_is_unavailable() {
    let (_mock, out) = run(Reply::status(500, SERVER_ERROR_BODY)).await;
    match out.error {
        Some(ProviderError::Unavailable { status, message }) => {
            assert_eq!(status, 500);
            assert!(message.contains("server_error"), "{message}");
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn http_401_is_an_auth_error_with_the_provider_message() {
    let (_mock, out) = run(Reply::status(401, AUTH_BODY)).await;
    match out.error {
        Some(ProviderError::Auth { status, message }) => {
            assert_eq!(status, 401);
            assert!(message.contains("Incorrect API key"), "{message}");
        }
        other => panic!("expected auth, got {other:?}"),
    }
}

#[tokio::test]
async fn http_404_is_a_bad_request() {
    let body = r#"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
    let (_mock, out) = run(Reply::status(404, body)).await;
    assert!(
        matches!(out.error, Some(ProviderError::BadRequest { status: 404, ref message }) if message.contains("gpt-9")),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error_after_the_good_part() {
    let (_mock, out) = run(Reply::events(MALFORMED)).await;
    assert_eq!(out.text, "Hel");
    assert!(
        matches!(out.error, Some(ProviderError::Protocol { .. })),
        "{:?}",
        out.error
    );
    assert_eq!(out.after_end, 0);
}

#[tokio::test]
async fn a_stream_cut_before_done_is_a_protocol_error() {
    let (_mock, out) = run(Reply::events(TRUNCATED)).await;
    assert_eq!(out.text, "Hello");
    assert!(matches!(out.error, Some(ProviderError::Protocol { .. })));
}

#[tokio::test]
async fn a_stall_after_text_fires_the_idle_timeout() {
    let (_mock, out) = run(Reply::events_then_stall(&NORMAL[..3])).await;
    assert_eq!(out.text, "Hello there");
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::Idle
        })
    );
}

#[tokio::test]
async fn a_stall_before_any_text_fires_the_first_token_timeout() {
    let (_mock, out) = run(Reply::events_then_stall(&NORMAL[..1])).await;
    assert_eq!(out.deltas, 0);
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::FirstToken
        })
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_a_connect_error() {
    let router = router(provider(&dead_url("/v1").await), model());
    let out = collect(router.stream(&request())).await;
    assert!(
        matches!(out.error, Some(ProviderError::Connect { .. })),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_request() {
    let mock = MockProvider::start(Reply::events_then_stall(&NORMAL[..3])).await;
    let router = router(provider(&mock.url("/v1")), model());
    let mut stream = router.stream(&request());
    let first = tokio::time::timeout(llm_mock::TEST_DEADLINE, stream.next())
        .await
        .expect("first event in time");
    assert!(matches!(first, Some(Ok(_))));
    drop(stream);
    assert!(
        mock.body_dropped().await,
        "the mock never saw the client go away"
    );
}

#[tokio::test]
async fn a_provider_without_a_key_fails_without_a_request() {
    let mock = MockProvider::start(Reply::events(NORMAL)).await;
    let mut config = provider(&mock.url("/v1"));
    config.api_key = None;
    let router = router(config, model());
    let out = collect(router.stream(&request())).await;
    assert!(matches!(
        out.error,
        Some(ProviderError::NotConfigured { .. })
    ));
    assert!(mock.requests().is_empty());
}

/// Mistral's stream: OpenAI-shaped chunks, usage arriving in the final chunk together with the
/// finish reason (without `stream_options`), then `[DONE]`.
const MISTRAL: &[&str] = &[
    r#"data: {"id":"cmpl-e5cc70bb28c444948073e77776eb30ef","object":"chat.completion.chunk","created":1702256327,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
    r#"data: {"id":"cmpl-e5cc70bb28c444948073e77776eb30ef","object":"chat.completion.chunk","created":1702256327,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":"Bonjour"},"finish_reason":null}]}"#,
    r#"data: {"id":"cmpl-e5cc70bb28c444948073e77776eb30ef","object":"chat.completion.chunk","created":1702256327,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":" !"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"total_tokens":13,"completion_tokens":3}}"#,
    "data: [DONE]",
];

#[tokio::test]
async fn mistral_uses_the_same_adapter_without_stream_options() {
    let mock = MockProvider::start(Reply::events(MISTRAL)).await;
    let provider = ProviderConfig::new("mistral", ProviderKind::Mistral)
        .with_base_url(mock.url("/v1"))
        .with_api_key("mistral-key");
    let router = router(
        provider,
        ModelConfig::new("mistral", "mistral", "mistral-small-latest"),
    );
    let out = collect(router.stream(&request().for_model("mistral"))).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Bonjour !");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 10,
            output_tokens: 3
        }
    );
    assert_eq!(out.done, Some(FinishReason::Stop));
    let req = mock.only_request();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer mistral-key"));
    assert_eq!(req.body["model"], "mistral-small-latest");
    assert!(req.body.get("stream_options").is_none());
}

/// xAI's Grok stream: OpenAI-compatible chunks; with `include_usage` the usage chunk has empty
/// `choices`.
const XAI: &[&str] = &[
    r#"data: {"id":"4c6f3b9a-1e2d-4f5a-9b8c-7d6e5f4a3b2c","object":"chat.completion.chunk","created":1741570300,"model":"grok-3","choices":[{"index":0,"delta":{"content":"Hi","role":"assistant"}}],"system_fingerprint":"fp_0d8e7f5c2a"}"#,
    r#"data: {"id":"4c6f3b9a-1e2d-4f5a-9b8c-7d6e5f4a3b2c","object":"chat.completion.chunk","created":1741570300,"model":"grok-3","choices":[{"index":0,"delta":{"content":" from Grok"}}],"system_fingerprint":"fp_0d8e7f5c2a"}"#,
    r#"data: {"id":"4c6f3b9a-1e2d-4f5a-9b8c-7d6e5f4a3b2c","object":"chat.completion.chunk","created":1741570300,"model":"grok-3","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"system_fingerprint":"fp_0d8e7f5c2a"}"#,
    r#"data: {"id":"4c6f3b9a-1e2d-4f5a-9b8c-7d6e5f4a3b2c","object":"chat.completion.chunk","created":1741570300,"model":"grok-3","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12,"prompt_tokens_details":{"text_tokens":8,"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_0d8e7f5c2a"}"#,
    "data: [DONE]",
];

#[tokio::test]
async fn xai_uses_the_same_adapter_with_its_key() {
    let mock = MockProvider::start(Reply::events(XAI)).await;
    let provider = ProviderConfig::new("xai", ProviderKind::Xai)
        .with_base_url(mock.url("/v1"))
        .with_api_key("xai-key");
    let router = router(provider, ModelConfig::new("grok", "xai", "grok-3"));
    let out = collect(router.stream(&request().for_model("grok"))).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Hi from Grok");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 8,
            output_tokens: 4
        }
    );
    assert_eq!(out.done, Some(FinishReason::Length));
    let req = mock.only_request();
    assert_eq!(req.header("authorization"), Some("Bearer xai-key"));
    assert_eq!(req.body["model"], "grok-3");
    assert_eq!(req.body["stream_options"]["include_usage"], true);
}

/// Azure OpenAI: a first chunk with empty `choices` and `prompt_filter_results`, content chunks
/// carrying `content_filter_results`, the finish chunk, the usage chunk, `[DONE]`.
const AZURE: &[&str] = &[
    r#"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}"#,
    r#"data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570400,"id":"chatcmpl-AZ1","model":"o4-mini-2025-04-16","object":"chat.completion.chunk","system_fingerprint":null,"usage":null}"#,
    r#"data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Servus"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570400,"id":"chatcmpl-AZ1","model":"o4-mini-2025-04-16","object":"chat.completion.chunk","system_fingerprint":null,"usage":null}"#,
    r#"data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1741570400,"id":"chatcmpl-AZ1","model":"o4-mini-2025-04-16","object":"chat.completion.chunk","system_fingerprint":null,"usage":null}"#,
    r#"data: {"choices":[],"created":1741570400,"id":"chatcmpl-AZ1","model":"o4-mini-2025-04-16","object":"chat.completion.chunk","system_fingerprint":null,"usage":{"completion_tokens":70,"completion_tokens_details":{"reasoning_tokens":64},"prompt_tokens":21,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":91}}"#,
    "data: [DONE]",
];

fn azure_provider(base_url: &str) -> ProviderConfig {
    ProviderConfig::new("azure", ProviderKind::AzureOpenAi)
        .with_base_url(base_url)
        .with_api_key("azure-key-123")
}

#[tokio::test]
async fn azure_uses_the_deployment_url_api_key_header_and_model_flags() {
    let mock = MockProvider::start(Reply::events(AZURE)).await;
    let mut model = ModelConfig::new("o4", "azure", "o4-mini-prod");
    model.supports_temperature = false;
    model.uses_max_completion_tokens = true;
    let router = router(azure_provider(&mock.url("")), model);
    let out = collect(router.stream(&request().for_model("o4"))).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Servus");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 21,
            output_tokens: 70
        }
    );
    assert_eq!(out.done, Some(FinishReason::Stop));

    let req = mock.only_request();
    assert_eq!(
        req.path,
        "/openai/deployments/o4-mini-prod/chat/completions"
    );
    assert_eq!(req.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(req.header("api-key"), Some("azure-key-123"));
    assert_eq!(req.header("authorization"), None);
    assert!(
        req.body.get("model").is_none(),
        "the deployment selects the model"
    );
    assert!(
        req.body.get("temperature").is_none(),
        "flagged: no temperature"
    );
    assert!(req.body.get("max_tokens").is_none());
    assert_eq!(req.body["max_completion_tokens"], 64);
    assert_eq!(req.body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn azure_sends_temperature_and_max_tokens_when_the_model_takes_them() {
    let mock = MockProvider::start(Reply::events(AZURE)).await;
    let provider = azure_provider(&mock.url("/")).with_api_version("2025-01-01-preview");
    let router = router(provider, ModelConfig::new("gpt4o", "azure", "gpt-4o-eu"));
    let out = collect(router.stream(&request().for_model("gpt4o"))).await;
    assert_eq!(out.error, None);
    let req = mock.only_request();
    assert_eq!(req.path, "/openai/deployments/gpt-4o-eu/chat/completions");
    assert_eq!(req.query.as_deref(), Some("api-version=2025-01-01-preview"));
    assert!(req.body["temperature"].is_number());
    assert_eq!(req.body["max_tokens"], 64);
    assert!(req.body.get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn azure_errors_are_classified_like_openai() {
    let body = r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 12 seconds."}}"#;
    let mock = MockProvider::start(Reply::status_with_header(429, "retry-after", "12", body)).await;
    let router = router(
        azure_provider(&mock.url("")),
        ModelConfig::new("o4", "azure", "d"),
    );
    let out = collect(router.stream(&request().for_model("o4"))).await;
    assert_eq!(
        out.error,
        Some(ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(12))
        })
    );
}

#[tokio::test]
async fn azure_stall_fires_the_idle_timeout() {
    let mock = MockProvider::start(Reply::events_then_stall(&AZURE[..3])).await;
    let router = router(
        azure_provider(&mock.url("")),
        ModelConfig::new("o4", "azure", "d"),
    );
    let out = collect(router.stream(&request().for_model("o4"))).await;
    assert_eq!(out.text, "Servus");
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::Idle
        })
    );
}
