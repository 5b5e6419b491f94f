//! The built-in fallback bot: a rule-based conversation partner in German and English that
//! needs no network, so a fresh install (or one whose providers are all down) still answers.
//!
//! Pipeline for the latest user message: detect the language (`language`), find the request
//! (`intent`), read the mood (`sentiment`), compose the answer (`reply`), then stream it as
//! several deltas of [`WORDS_PER_DELTA`] words so clients exercise the same streaming path as
//! with a real model. Usage counts whitespace-separated words as tokens: input = words of every
//! message of the request, output = words streamed.

mod intent;
mod language;
mod reply;
mod sentiment;
mod text;

use std::sync::Arc;

use futures_util::stream;
use time::OffsetDateTime;

pub use intent::Intent;
pub use language::Language;
pub use sentiment::Sentiment;

use super::config::ModelConfig;
use super::event::{FinishReason, ProviderStream, StreamEvent};
use super::provider::ChatProvider;
use super::request::{ChatRequest, Role};
use super::sse_driver::boxed;

/// Words per streamed delta.
pub const WORDS_PER_DELTA: usize = 3;

/// What the bot understood and what it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotReply {
    pub language: Language,
    pub intent: Intent,
    pub sentiment: Sentiment,
    pub text: String,
}

/// The local bot. Cheap to clone; its only state is the clock (replaceable for tests).
#[derive(Clone)]
pub struct LocalBot {
    clock: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
}

impl Default for LocalBot {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LocalBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalBot")
    }
}

impl LocalBot {
    /// A bot that tells the real time (UTC).
    pub fn new() -> Self {
        Self::with_clock(OffsetDateTime::now_utc)
    }

    /// A bot reading time from `clock`, so tests get fixed answers to time questions.
    pub fn with_clock(clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self {
            clock: Arc::new(clock),
        }
    }

    /// The answer to the conversation's latest user message. Deterministic for a given
    /// conversation and clock reading.
    pub fn reply(&self, request: &ChatRequest) -> BotReply {
        let last_user = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map_or("", |m| m.content.as_str());
        let words = text::words(last_user);
        let ctx = reply::Context {
            language: language::of_conversation(&request.messages),
            intents: if words.is_empty() {
                intent::Intents {
                    primary: Intent::Greeting,
                    greeted: false,
                }
            } else {
                intent::classify(&words)
            },
            sentiment: sentiment::detect(&words),
            now: (self.clock)(),
            turn: request
                .messages
                .iter()
                .filter(|m| m.role == Role::Assistant)
                .count(),
        };
        BotReply {
            language: ctx.language,
            intent: ctx.intents.primary,
            sentiment: ctx.sentiment,
            text: reply::compose(&ctx),
        }
    }
}

impl ChatProvider for LocalBot {
    fn stream(&self, model: &ModelConfig, request: &ChatRequest) -> ProviderStream {
        let answer = self.reply(request);
        let limit = model
            .output_limit(request.max_tokens)
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let words: Vec<&str> = answer.text.split_inclusive(char::is_whitespace).collect();
        let finish_reason = if words.len() > limit {
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        let kept = &words[..words.len().min(limit)];
        let mut events: Vec<StreamEvent> = kept
            .chunks(WORDS_PER_DELTA)
            .map(|chunk| StreamEvent::Delta(chunk.concat()))
            .collect();
        let input_tokens = request
            .messages
            .iter()
            .map(|m| text::token_count(&m.content))
            .fold(0u32, u32::saturating_add);
        events.push(StreamEvent::Usage {
            input_tokens,
            output_tokens: text::token_count(&kept.concat()),
        });
        events.push(StreamEvent::Done { finish_reason });
        boxed(stream::iter(events.into_iter().map(Ok)))
    }
}
