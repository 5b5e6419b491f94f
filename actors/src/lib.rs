//! `atrium-actors`: the live part of Atrium.
//!
//! Every session, channel, ticket and LLM stream is a supervised ractor actor; this crate owns
//! those actors, their supervision tree and the rules they enforce on the way between a
//! connection and the store.
