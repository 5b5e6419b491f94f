//! `atrium-client`: a typed async client for Atrium's realtime protocol.
//!
//! It speaks the MessagePack frames of `atrium-core` over WebSocket. The integration tests and the
//! load tester use it; applications can too.
//!
//! ```no_run
//! # async fn demo(token: &str, ch: atrium_core::ids::ChannelId) -> Result<(), atrium_client::ClientError> {
//! use atrium_client::{Client, Event};
//!
//! let client = Client::connect("ws://127.0.0.1:8080/ws", token).await?;
//! client.sub(ch).await?;
//! let sent = client.send(ch, "hello").await?; // returns once committed: {id, seq}
//! while let Some(event) = client.next_event().await {
//!     if let Event::Push(frame) = event {
//!         println!("{frame:?}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Requests are matched to replies by `rid`, so any number may be in flight. If the connection
//! drops, the client reconnects with jittered exponential backoff and resumes every subscribed
//! channel from the last seq it saw (the server replays the gap, then continues live); requests
//! in flight at that moment fail with [`ClientError::Disconnected`].

pub mod backoff;
pub mod client;
pub mod config;
mod connection;
mod driver;
pub mod error;
pub mod event;
pub mod llm;

pub use client::Client;
pub use config::ClientConfig;
pub use error::ClientError;
pub use event::{Event, Welcome};
pub use llm::{LlmOptions, LlmPush};
