//! The control plane's use cases, independent of HTTP.
//!
//! Each function takes the shared [`AppState`](crate::AppState) (or just the store, where a CLI
//! needs it without a running server), checks permissions and domain rules, talks to the store and
//! writes the audit log. HTTP handlers only parse and map; the WebSocket transport and the CLI call
//! the same functions, so a rule enforced here holds on every path in.

pub mod ai;
pub mod ai_admin;
pub mod audit;
pub mod auth;
pub mod caller;
pub mod channels;
pub mod clock;
pub mod error;
pub mod hashing;
pub mod orgs;
pub mod rooms;
pub mod search;
pub mod secret;
pub mod users;

pub use caller::Caller;
pub use error::{ServiceError, ServiceResult};
