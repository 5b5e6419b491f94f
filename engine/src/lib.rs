//! `atrium`: the node binary and composition root.
//!
//! It owns the command line (`serve`, `migrate`, `user create`, `config print`), layered
//! configuration (defaults ← TOML file ← `ATRIUM_*` environment ← flags), logging, the single
//! rustls crypto provider, and the wiring of store, actors and gateway into one running node with
//! a graceful shutdown. Nothing depends on this crate.

pub mod cli;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod memory;
pub mod realtime_settings;
pub mod shutdown;
pub mod spatial_settings;
pub mod telemetry;
