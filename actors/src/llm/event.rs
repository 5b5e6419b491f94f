//! What a provider stream yields: text deltas, usage reports and one final `Done`.

use std::pin::Pin;

use futures_util::Stream;

use super::error::ProviderError;

/// A streamed generation. Dropping it cancels the upstream request.
///
/// Guarantees every adapter upholds: a successful stream ends with exactly one
/// [`StreamEvent::Done`] and nothing after it; a failed stream ends with one `Err` and nothing
/// after it. [`StreamEvent::Delta`] text is never empty.
pub type ProviderStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>;

/// One event of a streamed generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// The next piece of the answer; concatenating all deltas gives the full text.
    Delta(String),
    /// Token counts as reported by the provider *so far*. A later `Usage` replaces an earlier one
    /// (providers report running totals: Anthropic sends the input count first and the output
    /// count at the end). [`TokenUsage::record`] keeps the latest values.
    Usage {
        input_tokens: u32,
        output_tokens: u32,
    },
    /// The generation finished normally.
    Done { finish_reason: FinishReason },
}

/// Why the model stopped, in one vocabulary for every provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The token limit was reached; the answer is cut off.
    Length,
    /// A safety or content filter ended (or refused) the answer.
    ContentFilter,
    /// The model wants to call a tool (not used by Atrium yet).
    ToolUse,
    /// A provider-specific reason, kept verbatim.
    Other(String),
}

impl FinishReason {
    /// A stable lowercase name for logs and frames.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolUse => "tool_use",
            FinishReason::Other(reason) => reason,
        }
    }
}

/// The token counts of one generation, accumulated from its [`StreamEvent::Usage`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

impl TokenUsage {
    /// Takes the running totals of a `Usage` event; other events are ignored.
    pub fn record(&mut self, event: &StreamEvent) {
        if let StreamEvent::Usage {
            input_tokens,
            output_tokens,
        } = *event
        {
            self.input_tokens = input_tokens;
            self.output_tokens = output_tokens;
        }
    }

    pub fn total(&self) -> u64 {
        u64::from(self.input_tokens) + u64::from(self.output_tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_keeps_the_latest_running_totals() {
        let mut usage = TokenUsage::default();
        usage.record(&StreamEvent::Usage {
            input_tokens: 25,
            output_tokens: 1,
        });
        usage.record(&StreamEvent::Delta("hi".into()));
        usage.record(&StreamEvent::Usage {
            input_tokens: 25,
            output_tokens: 15,
        });
        assert_eq!(
            usage,
            TokenUsage {
                input_tokens: 25,
                output_tokens: 15
            }
        );
        assert_eq!(usage.total(), 40);
    }
}
