//! The Gemini adapter against a local mock replaying `streamGenerateContent?alt=sse` output
//! (CRLF-separated events, running `usageMetadata`, `finishReason` on the last chunk, no end
//! marker).

mod llm_mock;

use std::time::Duration;

use atrium_actors::llm::{
    ChatMessage, ChatRequest, FinishReason, ModelConfig, ProviderConfig, ProviderError,
    ProviderKind, TimeoutPhase, TokenUsage,
};
use llm_mock::{MockProvider, Reply, collect, dead_url, router};

const KEY: &str = "AIzaSy-test-key";

const NORMAL: &[&str] = &[
    r#"data: {"candidates": [{"content": {"parts": [{"text": "Hallo"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.0-flash","responseId": "mZ3XaOqGJ4-Hz7IP4a6m2Q4"}"#,
    r#"data: {"candidates": [{"content": {"parts": [{"text": " aus Mountain View"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.0-flash","responseId": "mZ3XaOqGJ4-Hz7IP4a6m2Q4"}"#,
    r#"data: {"candidates": [{"content": {"parts": [{"text": "!\n"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 5,"totalTokenCount": 14,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],"candidatesTokensDetails": [{"modality": "TEXT","tokenCount": 5}]},"modelVersion": "gemini-2.0-flash","responseId": "mZ3XaOqGJ4-Hz7IP4a6m2Q4"}"#,
];

const ERROR_MID_STREAM: &[&str] = &[
    NORMAL[0],
    r#"data: {"error": {"code": 500,"message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting","status": "INTERNAL"}}"#,
];

const MALFORMED: &[&str] = &[
    NORMAL[0],
    r#"data: {"candidates": [{"content": {"parts": [{"text": "kaputt"#,
];

const RATE_LIMIT_BODY: &str = r#"{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}
    ]
  }
}"#;

const UNAVAILABLE_BODY: &str = r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#;
const AUTH_BODY: &str = r#"{"error": {"code": 403, "message": "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "status": "PERMISSION_DENIED"}}"#;

fn provider(base_url: &str) -> ProviderConfig {
    ProviderConfig::new("google", ProviderKind::Gemini)
        .with_base_url(base_url)
        .with_api_key(KEY)
}

fn model() -> ModelConfig {
    ModelConfig::new("gemini", "google", "gemini-2.0-flash")
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "gemini",
        vec![
            ChatMessage::system("Antworte auf Deutsch."),
            ChatMessage::user("Hallo"),
            ChatMessage::assistant("Hallo!"),
            ChatMessage::user("Woher kommst du?"),
        ],
    )
    .with_temperature(0.7)
    .with_max_tokens(128)
}

async fn run(reply: Reply) -> (MockProvider, llm_mock::Outcome) {
    llm_mock::run_against(reply, "/v1beta", provider, model(), &request()).await
}

#[tokio::test]
async fn streams_text_usage_and_done_with_the_documented_request() {
    let (mock, out) = run(Reply::events_crlf(NORMAL)).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Hallo aus Mountain View!\n");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 9,
            output_tokens: 5
        }
    );
    assert_eq!(
        out.usage_reports, 2,
        "repeated identical usage is reported once"
    );
    assert_eq!(out.done, Some(FinishReason::Stop));
    assert_eq!(out.after_end, 0);

    let req = mock.only_request();
    assert_eq!(
        req.path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    );
    assert_eq!(req.query.as_deref(), Some("alt=sse"));
    assert_eq!(req.header("x-goog-api-key"), Some(KEY));
    assert!(
        !req.query.unwrap_or_default().contains(KEY),
        "the key never goes in the URL"
    );
    assert_eq!(
        req.body["systemInstruction"]["parts"][0]["text"],
        "Antworte auf Deutsch."
    );
    let roles: Vec<&str> = req.body["contents"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["role"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["user", "model", "user"]);
    assert_eq!(req.body["generationConfig"]["maxOutputTokens"], 128);
    assert!(
        (req.body["generationConfig"]["temperature"]
            .as_f64()
            .unwrap_or(0.0)
            - 0.7)
            .abs()
            < 1e-6
    );
}

#[tokio::test]
async fn events_split_across_chunks_decode_the_same() {
    let (_mock, out) = run(Reply::events_rechunked(NORMAL, 11)).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Hallo aus Mountain View!\n");
    assert_eq!(out.done, Some(FinishReason::Stop));
}

#[tokio::test]
async fn safety_and_token_limits_map_to_finish_reasons() {
    for (raw, expected) in [
        ("MAX_TOKENS", FinishReason::Length),
        ("SAFETY", FinishReason::ContentFilter),
    ] {
        let last = NORMAL[2].replace("\"STOP\"", &format!("\"{raw}\""));
        let (_mock, out) = run(Reply::events_crlf(&[NORMAL[0], &last])).await;
        assert_eq!(out.done, Some(expected), "{raw}");
    }
}

#[tokio::test]
async fn an_error_event_mid_stream_keeps_the_partial_text() {
    let (_mock, out) = run(Reply::events_crlf(ERROR_MID_STREAM)).await;
    assert_eq!(out.text, "Hallo");
    match out.error {
        Some(ProviderError::Provider { message }) => {
            assert!(
                message.starts_with("INTERNAL: An internal error"),
                "{message}"
            );
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn http_429_takes_the_retry_delay_from_the_body() {
    let (_mock, out) = run(Reply::status(429, RATE_LIMIT_BODY)).await;
    assert_eq!(
        out.error,
        Some(ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(13))
        })
    );
}

#[tokio::test]
async fn http_503_is_unavailable() {
    let (_mock, out) = run(Reply::status(503, UNAVAILABLE_BODY)).await;
    assert_eq!(
        out.error,
        Some(ProviderError::Unavailable {
            status: 503,
            message: "UNAVAILABLE: The model is overloaded. Please try again later.".into()
        })
    );
}

#[tokio::test]
async fn http_403_is_an_auth_error() {
    let (_mock, out) = run(Reply::status(403, AUTH_BODY)).await;
    assert!(
        matches!(out.error, Some(ProviderError::Auth { status: 403, ref message }) if message.starts_with("PERMISSION_DENIED")),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error() {
    let (_mock, out) = run(Reply::events_crlf(MALFORMED)).await;
    assert_eq!(out.text, "Hallo");
    assert!(matches!(out.error, Some(ProviderError::Protocol { .. })));
}

#[tokio::test]
async fn a_body_ending_without_finish_reason_is_a_protocol_error() {
    let (_mock, out) = run(Reply::events_crlf(&NORMAL[..2])).await;
    assert_eq!(out.text, "Hallo aus Mountain View");
    assert!(matches!(out.error, Some(ProviderError::Protocol { .. })));
}

#[tokio::test]
async fn a_stall_after_text_fires_the_idle_timeout() {
    let (_mock, out) = run(Reply::events_then_stall(&NORMAL[..2])).await;
    assert_eq!(out.text, "Hallo aus Mountain View");
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::Idle
        })
    );
}

#[tokio::test]
async fn a_silent_server_fires_the_first_token_timeout() {
    let (_mock, out) = run(Reply::events_then_stall(&[])).await;
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::FirstToken
        })
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_a_connect_error() {
    let router = router(provider(&dead_url("/v1beta").await), model());
    let out = collect(router.stream(&request())).await;
    assert!(
        matches!(out.error, Some(ProviderError::Connect { .. })),
        "{:?}",
        out.error
    );
}
