//! `atrium-persistence`: where Atrium's state lives and how nodes talk to each other.
//!
//! It owns the store traits (`store`) and their SQLite (embedded default) and PostgreSQL
//! implementations, the migrations that shape both databases, and the group-commit writer that
//! batches concurrent message inserts into one transaction. Nothing above this crate writes SQL.

pub mod store;
