//! LLM providers: one streaming interface over OpenAI, Anthropic, Google Gemini, Mistral, xAI,
//! Azure OpenAI and a built-in local bot.
//!
//! Everything above this module (the stream actors, budgets, the AI hub) speaks a single,
//! provider-neutral vocabulary: a [`ChatRequest`] goes in, a [`ProviderStream`] of
//! [`StreamEvent`]s comes out, and anything that goes wrong is a [`ProviderError`] whose variant
//! says what happened (rate limit, outage, bad key, timeout, broken stream) so the caller can
//! decide between falling back to another model (nothing was shown yet) and ending with the
//! partial answer (deltas were already delivered).
//!
//! Layout: one file per provider wire format (`openai`, `azure`, `anthropic`, `gemini`), the
//! shared HTTP + SSE machinery (`sse_driver`, `http_error`), the configuration (`config`), the
//! [`ModelRouter`] that maps model names to providers and walks fallback chains, and the
//! network-free [`LocalBot`]. `docs/llm.md` describes the wire formats, the configuration and the
//! error classification.
//!
//! Cancelling a generation is dropping its stream: the HTTP response is dropped with it, which
//! closes the upstream connection (or HTTP/2 stream), so the provider stops generating.

mod account;
pub mod anthropic;
pub mod azure;
pub mod config;
pub mod error;
pub mod event;
pub mod gemini;
mod http_error;
pub mod local;
pub mod openai;
pub mod provider;
pub mod request;
pub mod router;
mod sse_driver;

pub use config::{
    ApiKey, LlmConfig, LlmConfigError, LlmTimeouts, LocalBotConfig, ModelConfig, ProviderConfig,
    ProviderKind, StreamSettings,
};
pub use error::{ProviderError, TimeoutPhase};
pub use event::{FinishReason, ProviderStream, StreamEvent, TokenUsage};
pub use local::LocalBot;
pub use provider::{ChatProvider, build_http_client};
pub use request::{ChatMessage, ChatRequest, Role};
pub use router::{FailedAttempt, FallbackExhausted, ModelRouter, OpenedStream};
