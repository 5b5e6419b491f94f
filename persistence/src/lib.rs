//! `atrium-persistence`: where Atrium's state lives and how nodes talk to each other.
//!
//! It owns the store traits (`store`) and their SQLite (embedded default) and PostgreSQL
//! implementations, the migrations that shape both databases, and the group-commit writer that
//! batches concurrent message inserts into one transaction. Nothing above this crate writes SQL.

pub mod ai_store;
pub mod open;
pub mod postgres;
pub mod room_store;
pub mod sqlite;
pub mod store;
pub mod ticket_store;
pub mod writer;

mod ai_rows;
mod ai_sql;
mod audit_filter;
mod batch;
mod columns;
mod fts_query;
mod keys;
mod millis;
mod reaction_groups;
mod sql_error;

pub use open::open_store;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use writer::{MessageWriter, WriterConfig};
