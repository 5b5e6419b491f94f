//! The systems of one tick, in schedule order (see [`crate::sim::schedule`]).

pub(crate) mod gains;
pub(crate) mod gains_table;
pub(crate) mod grid;
pub(crate) mod inputs;
pub(crate) mod interest;
pub(crate) mod movement;
pub(crate) mod route;
pub(crate) mod snapshots;
