//! Turning a provider's non-success HTTP response into a [`ProviderError`].
//!
//! All providers wrap their error in JSON with an `error.message` (OpenAI, Mistral, xAI, Azure,
//! Gemini) or `{"type":"error","error":{"type","message"}}` (Anthropic); the explanation is kept
//! (shortened) because it is what an operator needs: "model not found", "quota exceeded".

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::error::ProviderError;

/// Most bytes of an error body read to find its message; the rest is discarded.
const MAX_ERROR_BODY_BYTES: usize = 16 * 1024;
/// Longest provider message kept in an error (characters).
pub(crate) const MAX_ERROR_MESSAGE_CHARS: usize = 500;

/// Reads (a bounded prefix of) the body and classifies the status.
pub(crate) async fn classify(response: reqwest::Response, read_timeout: Duration) -> ProviderError {
    let status = response.status().as_u16();
    let header_delay = retry_after_from_headers(response.headers());
    let body = tokio::time::timeout(read_timeout, read_prefix(response))
        .await
        .unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let retry_after = header_delay.or_else(|| parsed.as_ref().and_then(retry_info_delay));
    let message = match &parsed {
        Some(json) => message_from_json(json),
        None => None,
    }
    .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
    ProviderError::from_status(status, retry_after, shorten(&message))
}

async fn read_prefix(response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(Ok(chunk)) = chunks.next().await {
        let room = MAX_ERROR_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY_BYTES {
            break;
        }
    }
    body
}

/// `retry-after-ms` (OpenAI, Azure) wins over `retry-after` in seconds (everyone). An HTTP-date
/// `retry-after` is not used by these providers and is ignored.
pub(crate) fn retry_after_from_headers(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number("retry-after").map(Duration::from_secs_f64)
}

/// Gemini puts the delay in the body: `error.details[] {"@type": "...RetryInfo", "retryDelay": "13s"}`.
fn retry_info_delay(json: &Value) -> Option<Duration> {
    json.pointer("/error/details")?
        .as_array()?
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("RetryInfo"))
        })
        .find_map(|d| {
            let secs: f64 = d
                .get("retryDelay")?
                .as_str()?
                .strip_suffix('s')?
                .parse()
                .ok()?;
            (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
        })
}

/// The human-readable message inside a provider's JSON error, prefixed with its type when the
/// provider names one (`rate_limit_error: …`).
pub(crate) fn message_from_json(json: &Value) -> Option<String> {
    let error = json.get("error").unwrap_or(json);
    if let Some(text) = error.as_str() {
        return Some(text.to_owned());
    }
    let message = error.get("message").and_then(Value::as_str)?;
    let kind = error
        .get("type")
        .or_else(|| error.get("status"))
        .and_then(Value::as_str);
    Some(match kind {
        Some(kind) if !kind.is_empty() => format!("{kind}: {message}"),
        _ => message.to_owned(),
    })
}

/// An error reported inside an otherwise healthy stream (`{"error": {...}}` chunks, Anthropic's
/// `error` event), with the provider's message kept.
pub(crate) fn stream_error(error: &Value) -> ProviderError {
    let message = message_from_json(error).unwrap_or_else(|| error.to_string());
    ProviderError::Provider {
        message: shorten(&message),
    }
}

/// Cuts a provider message to [`MAX_ERROR_MESSAGE_CHARS`] so a huge body cannot flood logs.
pub(crate) fn shorten(message: &str) -> String {
    match message.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    #[test]
    fn retry_after_prefers_milliseconds() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            retry_after_from_headers(&headers),
            Some(Duration::from_secs(7))
        );
        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(
            retry_after_from_headers(&headers),
            Some(Duration::from_millis(1500))
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after_from_headers(&headers), None);
    }

    #[test]
    fn messages_from_each_provider_shape() {
        let openai = json!({"error": {"message": "Invalid model", "type": "invalid_request_error", "code": null}});
        assert_eq!(
            message_from_json(&openai).as_deref(),
            Some("invalid_request_error: Invalid model")
        );
        let anthropic = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(
            message_from_json(&anthropic).as_deref(),
            Some("overloaded_error: Overloaded")
        );
        let gemini = json!({"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}]}});
        assert_eq!(
            message_from_json(&gemini).as_deref(),
            Some("RESOURCE_EXHAUSTED: Quota")
        );
        assert_eq!(retry_info_delay(&gemini), Some(Duration::from_secs(13)));
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(MAX_ERROR_MESSAGE_CHARS + 10);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), MAX_ERROR_MESSAGE_CHARS + 1);
    }
}
