//! The AI hub's live part: one supervised `LlmStreamActor` per generation.
//!
//! ```text
//! LlmSupervisor                (supervisor.rs)
//! └── LlmStreamActor × generations (stream.rs)
//! ```
//!
//! - [`hub`]: [`LlmHub`], what the node knows about providers and models (built from the `[llm]`
//!   configuration and the administrators' edits in the store) and the live streams.
//! - [`catalog`]: the effective configuration — a [`crate::llm::ModelRouter`] plus prices.
//! - [`keys`]: AES-256-GCM sealing of provider API keys.
//! - [`directory`]: the running generations, their owners, and how `llm.start` spawns one.
//! - [`prepare`]: what a generation needs before it can ask a model (access, budget, the
//!   model/temperature/system prompt by precedence, the conversation as context).
//! - [`stream`]: the actor: fallback, deltas to every session, usage and cost, cancel.
//! - [`title`]: the background auto-title after the first exchange.
//! - [`delivery`]: who receives a stream's pushes.
//! - [`probe`]: an administrator's live test of a provider.

pub mod catalog;
pub mod delivery;
pub mod directory;
pub mod hub;
pub mod keys;
pub mod prepare;
pub mod probe;
pub mod stream;
pub mod supervisor;
pub mod title;

pub use catalog::{AvailableModel, Catalog};
pub use hub::{HubError, LlmHub};
pub use keys::{KeyCipher, KeyError};
pub use probe::ProbeOutcome;
