//! The Anthropic Messages adapter against a local mock replaying Anthropic's event sequence.

mod llm_mock;

use std::time::Duration;

use atrium_actors::llm::{
    ChatMessage, ChatRequest, FinishReason, ModelConfig, ProviderConfig, ProviderError,
    ProviderKind, TimeoutPhase, TokenUsage,
};
use llm_mock::{MockProvider, Reply, collect, dead_url, router};

const KEY: &str = "sk-ant-api03-test-key";

/// The documented sequence: message_start (input usage), content_block_start, ping, text
/// deltas, content_block_stop, message_delta (stop_reason, cumulative output usage),
/// message_stop.
const NORMAL: &[&str] = &[
    r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
    r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    r#"event: ping
data: {"type": "ping"}"#,
    r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
    r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", how can I help?"}}"#,
    r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#,
    r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
    r#"event: message_stop
data: {"type":"message_stop"}"#,
];

/// Text, then the `error` event Anthropic sends when it is overloaded mid-generation.
const ERROR_MID_STREAM: &[&str] = &[
    NORMAL[0],
    NORMAL[1],
    NORMAL[3],
    r#"event: error
data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
];

const MALFORMED: &[&str] = &[
    NORMAL[0],
    NORMAL[3],
    r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"oops"#,
];

const RATE_LIMIT_BODY: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 50,000 input tokens per minute."},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;
const OVERLOADED_BODY: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
const AUTH_BODY: &str =
    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;

fn provider(base_url: &str) -> ProviderConfig {
    ProviderConfig::new("anthropic", ProviderKind::Anthropic)
        .with_base_url(base_url)
        .with_api_key(KEY)
}

fn model() -> ModelConfig {
    ModelConfig::new("claude", "anthropic", "claude-sonnet-4-5")
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "claude",
        vec![
            ChatMessage::system("Be kind."),
            ChatMessage::user("Hi"),
            ChatMessage::assistant("Hello!"),
            ChatMessage::user("Help me"),
        ],
    )
    .with_temperature(0.5)
}

async fn run(reply: Reply) -> (MockProvider, llm_mock::Outcome) {
    llm_mock::run_against(reply, "/v1", provider, model(), &request()).await
}

#[tokio::test]
async fn streams_text_usage_and_done_with_the_documented_request() {
    let (mock, out) = run(Reply::events(NORMAL)).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Hello, how can I help?");
    assert_eq!(
        out.usage,
        TokenUsage {
            input_tokens: 25,
            output_tokens: 15
        }
    );
    assert_eq!(
        out.usage_reports, 2,
        "input at message_start, output at message_delta"
    );
    assert_eq!(out.done, Some(FinishReason::Stop));
    assert_eq!(out.after_end, 0);

    let req = mock.only_request();
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.body["model"], "claude-sonnet-4-5");
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["system"], "Be kind.");
    assert_eq!(
        req.body["max_tokens"], 4096,
        "mandatory, so a default is sent"
    );
    let roles: Vec<&str> = req.body["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["role"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(req.body["temperature"], 0.5);
}

#[tokio::test]
async fn events_split_across_chunks_decode_the_same() {
    let (_mock, out) = run(Reply::events_rechunked(NORMAL, 5)).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Hello, how can I help?");
    assert_eq!(out.done, Some(FinishReason::Stop));
}

#[tokio::test]
async fn max_tokens_stop_reason_is_length() {
    let stopped = NORMAL[6].replace("end_turn", "max_tokens");
    let blocks: Vec<&str> = NORMAL[..6]
        .iter()
        .copied()
        .chain([stopped.as_str(), NORMAL[7]])
        .collect();
    let (_mock, out) = run(Reply::events(&blocks)).await;
    assert_eq!(out.done, Some(FinishReason::Length));
}

#[tokio::test]
async fn an_error_event_mid_stream_keeps_text_and_input_usage() {
    let (_mock, out) = run(Reply::events(ERROR_MID_STREAM)).await;
    assert_eq!(out.text, "Hello");
    assert_eq!(out.usage.input_tokens, 25, "reported before the failure");
    assert_eq!(
        out.error,
        Some(ProviderError::Provider {
            message: "overloaded_error: Overloaded".into()
        })
    );
    assert_eq!(out.after_end, 0);
}

#[tokio::test]
async fn http_429_is_rate_limited_with_retry_after() {
    let (_mock, out) = run(Reply::status_with_header(
        429,
        "retry-after",
        "30",
        RATE_LIMIT_BODY,
    ))
    .await;
    assert_eq!(
        out.error,
        Some(ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        })
    );
}

#[tokio::test]
async fn http_529_overloaded_is_unavailable() {
    let (_mock, out) = run(Reply::status(529, OVERLOADED_BODY)).await;
    assert_eq!(
        out.error,
        Some(ProviderError::Unavailable {
            status: 529,
            message: "overloaded_error: Overloaded".into()
        })
    );
}

#[tokio::test]
async fn http_500_is_unavailable() {
    let body = r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#;
    let (_mock, out) = run(Reply::status(500, body)).await;
    assert!(matches!(
        out.error,
        Some(ProviderError::Unavailable { status: 500, .. })
    ));
}

#[tokio::test]
async fn http_401_is_an_auth_error() {
    let (_mock, out) = run(Reply::status(401, AUTH_BODY)).await;
    assert_eq!(
        out.error,
        Some(ProviderError::Auth {
            status: 401,
            message: "authentication_error: invalid x-api-key".into()
        })
    );
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error() {
    let (_mock, out) = run(Reply::events(MALFORMED)).await;
    assert_eq!(out.text, "Hello");
    assert!(
        matches!(out.error, Some(ProviderError::Protocol { .. })),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn a_stall_after_text_fires_the_idle_timeout() {
    let (_mock, out) = run(Reply::events_then_stall(&NORMAL[..5])).await;
    assert_eq!(out.text, "Hello, how can I help?");
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::Idle
        })
    );
}

#[tokio::test]
async fn pings_without_text_end_in_the_first_token_timeout() {
    let (_mock, out) = run(Reply::events_then_stall(&NORMAL[..3])).await;
    assert_eq!(out.deltas, 0);
    assert_eq!(out.usage.input_tokens, 25);
    assert_eq!(
        out.error,
        Some(ProviderError::Timeout {
            phase: TimeoutPhase::FirstToken
        })
    );
}

#[tokio::test]
async fn a_stream_ending_without_message_stop_is_a_protocol_error() {
    let (_mock, out) = run(Reply::events(&NORMAL[..5])).await;
    assert_eq!(out.text, "Hello, how can I help?");
    assert!(matches!(out.error, Some(ProviderError::Protocol { .. })));
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
