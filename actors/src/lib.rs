//! `atrium-actors`: the live part of Atrium.
//!
//! Every session, channel, ticket and LLM stream is a supervised ractor actor; this crate owns
//! those actors, their supervision tree and the rules they enforce on the way between a
//! connection and the store.
//!
//! The entry point is [`Realtime`]: start it with a store and the group-commit writer, open one
//! session per authenticated connection, feed it decoded frames and write what appears in its
//! [`SessionOutbox`]. `docs/architecture.md` describes the tree, the queues, and how ordering,
//! durability and resume work.

pub mod ai;
pub mod channel;
pub mod committer;
pub mod config;
pub mod context;
pub mod datagram;
pub mod llm;
pub mod outbox;
pub mod presence;
pub mod realtime;
pub mod restart;
pub mod rooms;
pub mod root;
pub mod session;
pub mod slot;
pub mod ticket;
pub mod wire;

pub use committer::MessageCommitter;
pub use config::{OutboxLimits, RealtimeConfig};
pub use context::Lifecycle;
pub use datagram::DatagramSink;
pub use outbox::{Delivery, Next, Pushed, SessionOutbox};
pub use presence::UserPresence;
pub use realtime::{Realtime, RealtimeError, RealtimeStats};
pub use restart::RestartBudget;
pub use rooms::{Occupant, RoomInput, RoomInputRefused, RoomsConfig};
pub use session::handle::{SessionClosed, SessionHandle, WrongUser};
pub use session::{SessionAuth, SessionStart};
