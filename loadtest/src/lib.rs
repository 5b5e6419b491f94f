//! `atrium-loadtest`: the load tester.
//!
//! It will own the load scenarios (connect, fan-out, rooms, LLM streams, soak), their latency
//! histograms and the side-by-side comparisons with peer servers. Nothing is implemented yet; the
//! load-tester issue brings it.
