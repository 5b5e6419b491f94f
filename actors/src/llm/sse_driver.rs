//! The shared engine of every HTTP adapter: send the request, check the status, decode the SSE
//! body with `sse-stream`, hand each event block to the provider's [`SseDecoder`], and enforce
//! the first-token and idle timeouts (the connect timeout lives in the HTTP client).
//!
//! Adapters therefore only describe their wire format — how a request body looks and what an
//! event means — and every provider behaves the same on timeouts, oversized responses, broken
//! connections and early ends.

use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use sse_stream::{Sse, SseByteStream};
use std::collections::VecDeque;
use std::error::Error as _;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

use super::config::LlmTimeouts;
use super::error::{ProviderError, TimeoutPhase};
use super::event::{FinishReason, ProviderStream, StreamEvent};
use super::http_error;

/// Most bytes one streamed response may carry. Chat chunks are verbose (a few hundred bytes of
/// JSON per token or two), so this leaves room for very long answers while bounding what a
/// misbehaving endpoint can make us buffer (`sse-stream` itself has no per-event limit).
pub const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// What a decoder reports after one event block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Keep reading.
    More,
    /// The provider's end marker arrived (`[DONE]`, `message_stop`); the decoder has emitted
    /// `Done` and the connection can be dropped.
    Complete,
}

/// One provider's event format.
pub(crate) trait SseDecoder: Send + 'static {
    /// Interprets one SSE event block, appending what it means to `out`.
    fn decode(
        &mut self,
        block: &Sse,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Progress, ProviderError>;

    /// The body ended without the end marker. Providers without one (Gemini) emit `Done` here;
    /// the others decide whether what they saw amounts to a complete answer.
    fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError>;
}

/// Streams `request` through `decoder`. `request` is already built so that building errors
/// surface as the first (and only) item instead of a panic or a second API.
pub(crate) fn drive<D: SseDecoder>(
    http: reqwest::Client,
    request: Result<reqwest::Request, ProviderError>,
    decoder: D,
    timeouts: LlmTimeouts,
) -> ProviderStream {
    let state = match request {
        Ok(request) => State::Pending(Box::new(request)),
        Err(error) => return failed(error),
    };
    let driver = Driver {
        http,
        state,
        decoder,
        timeouts,
        queue: VecDeque::new(),
        first_token_deadline: None,
        seen_text: false,
    };
    Box::pin(stream::unfold(driver, |mut driver| async move {
        let item = driver.next().await?;
        Some((item, driver))
    }))
}

type SseEvents = SseByteStream<BoxStream<'static, Result<Bytes, BodyError>>>;

enum State {
    Pending(Box<reqwest::Request>),
    Streaming(std::pin::Pin<Box<SseEvents>>),
    Closed,
}

struct Driver<D> {
    http: reqwest::Client,
    state: State,
    decoder: D,
    timeouts: LlmTimeouts,
    /// Decoded items not yet handed out (one block can mean several events).
    queue: VecDeque<Result<StreamEvent, ProviderError>>,
    first_token_deadline: Option<Instant>,
    seen_text: bool,
}

impl<D: SseDecoder> Driver<D> {
    async fn next(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            match std::mem::replace(&mut self.state, State::Closed) {
                State::Closed => return None,
                State::Pending(request) => match self.open(*request).await {
                    Ok(events) => self.state = State::Streaming(events),
                    Err(error) => return Some(Err(error)),
                },
                State::Streaming(mut events) => {
                    if self.step(&mut events).await {
                        self.state = State::Streaming(events);
                    }
                }
            }
        }
    }

    /// Sends the request and checks the status. Waiting for the headers counts against the
    /// first-token deadline: a provider that accepts the connection and then says nothing is
    /// as unhelpful as one that sends headers and then nothing.
    async fn open(
        &mut self,
        request: reqwest::Request,
    ) -> Result<std::pin::Pin<Box<SseEvents>>, ProviderError> {
        let deadline = deadline_after(self.timeouts.first_token());
        self.first_token_deadline = Some(deadline);
        let response = match timeout_at(deadline, self.http.execute(request)).await {
            Err(_) => {
                return Err(ProviderError::Timeout {
                    phase: TimeoutPhase::FirstToken,
                });
            }
            Ok(Err(error)) => return Err(send_error(&error)),
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(http_error::classify(response, self.timeouts.idle()).await);
        }
        let mut seen = 0usize;
        let bytes = response
            .bytes_stream()
            .map(move |chunk| {
                let chunk = chunk.map_err(BodyError::Read)?;
                seen = seen.saturating_add(chunk.len());
                if seen > MAX_STREAM_BYTES {
                    return Err(BodyError::TooLarge);
                }
                Ok(chunk)
            })
            .boxed();
        Ok(Box::pin(SseByteStream::new(bytes)))
    }

    /// Reads one event block. Returns whether the stream continues.
    async fn step(&mut self, events: &mut std::pin::Pin<Box<SseEvents>>) -> bool {
        let (deadline, phase) = match (self.seen_text, self.first_token_deadline) {
            (false, Some(deadline)) => (deadline, TimeoutPhase::FirstToken),
            _ => (deadline_after(self.timeouts.idle()), TimeoutPhase::Idle),
        };
        let mut out = Vec::new();
        let verdict = match timeout_at(deadline, events.next()).await {
            Err(_) => Err(ProviderError::Timeout { phase }),
            Ok(Some(Ok(block))) => self.decoder.decode(&block, &mut out),
            Ok(Some(Err(error))) => Err(decode_error(&error)),
            Ok(None) => self.decoder.finish(&mut out).map(|()| Progress::Complete),
        };
        for event in out {
            if matches!(&event, StreamEvent::Delta(text) if text.is_empty()) {
                continue;
            }
            self.seen_text |= matches!(event, StreamEvent::Delta(_));
            self.queue.push_back(Ok(event));
        }
        match verdict {
            Ok(Progress::More) => true,
            Ok(Progress::Complete) => false,
            Err(error) => {
                self.queue.push_back(Err(error));
                false
            }
        }
    }
}

/// `now + timeout`, saturating: an absurdly large configured timeout means "practically never"
/// instead of an overflow panic.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(FAR_FUTURE_SECS))
}

/// What [`deadline_after`] falls back to: about thirty years.
const FAR_FUTURE_SECS: u64 = 30 * 365 * 24 * 3600;

/// Why reading the response body failed.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("{}", describe(.0))]
    Read(reqwest::Error),
    #[error("the response exceeded {MAX_STREAM_BYTES} bytes")]
    TooLarge,
}

/// Classifies a failure to get a response at all.
fn send_error(error: &reqwest::Error) -> ProviderError {
    if error.is_connect() {
        if error.is_timeout() {
            ProviderError::Timeout {
                phase: TimeoutPhase::Connect,
            }
        } else {
            ProviderError::Connect {
                message: describe(error),
            }
        }
    } else {
        ProviderError::Network {
            message: describe(error),
        }
    }
}

fn decode_error(error: &sse_stream::Error) -> ProviderError {
    match error {
        sse_stream::Error::Body(inner) => match inner.downcast_ref::<BodyError>() {
            Some(BodyError::TooLarge) => ProviderError::protocol(BodyError::TooLarge.to_string()),
            Some(BodyError::Read(read)) => ProviderError::Network {
                message: describe(read),
            },
            None => ProviderError::Network {
                message: inner.to_string(),
            },
        },
        other => ProviderError::protocol(format!("undecodable event stream: {other}")),
    }
}

/// An error with its causes ("error sending request: connection refused"). Request URLs in
/// reqwest's messages are safe to show: no adapter puts a key in a URL.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    http_error::shorten(&text)
}

/// Parses an event's JSON payload, reporting malformed data as a protocol error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    data: &str,
) -> Result<T, ProviderError> {
    serde_json::from_str(data)
        .map_err(|e| ProviderError::protocol(format!("{provider} sent an undecodable event ({e})")))
}

/// The usual end-of-body rule: the answer is complete if the provider already said why it
/// stopped (some servers omit the final marker), otherwise the stream was cut short.
pub(crate) fn finish_if_stopped(
    stop: Option<FinishReason>,
    out: &mut Vec<StreamEvent>,
    provider: &str,
    marker: &str,
) -> Result<(), ProviderError> {
    match stop {
        Some(finish_reason) => {
            out.push(StreamEvent::Done { finish_reason });
            Ok(())
        }
        None => Err(ProviderError::protocol(format!(
            "{provider} stream ended before {marker}"
        ))),
    }
}

/// A single-error stream, for requests that cannot even be sent.
pub(crate) fn failed(error: ProviderError) -> ProviderStream {
    Box::pin(stream::once(async move { Err(error) }))
}

/// Wraps any stream of events as a [`ProviderStream`].
pub(crate) fn boxed<S>(stream: S) -> ProviderStream
where
    S: Stream<Item = Result<StreamEvent, ProviderError>> + Send + 'static,
{
    Box::pin(stream)
}
