//! The hasher for the simulation's internal maps.
//!
//! Keys here are ids the server generated itself (nobody can pick them to force collisions), so
//! the maps use `foldhash`'s fast hasher rather than the default SipHash, which showed up at
//! several percent of a tick. An earlier hand-written multiply-rotate hasher had no final mixing
//! step: with time-ordered v7 UUIDs as keys (consecutive ids differ in a few counter bits) its
//! buckets clustered, and routing 20,000 inputs spent most of its time walking probe chains.

use std::collections::HashMap;

/// A `HashMap` with `foldhash`'s fast hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
