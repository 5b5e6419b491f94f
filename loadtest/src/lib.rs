//! `atrium-loadtest`: the load tester for Atrium and for the peer servers it is compared with.
//!
//! A run is one scenario against one server on this machine:
//!
//! - `connect`: open N authenticated (and optionally subscribed) sessions at a rate and hold
//!   them, sampling the server's memory per session;
//! - `fanout`: M channels × K subscribers, publishers posting P messages/s (or as fast as the
//!   server confirms) for T seconds;
//! - `soak`: `fanout` while other sessions keep connecting and leaving;
//! - `rooms` (Atrium only): R rooms × A avatars walking and sending `pos` at the tick rate over
//!   the WebSocket or, with `--transport wt`, as WebTransport datagrams (snapshots then arrive
//!   as datagrams too), acknowledging snapshots; reports snapshots and bytes per client per
//!   second, ticks missed, and the latency from a `pos` send to the first snapshot that shows
//!   the move to a peer;
//! - `llm` (Atrium only): S concurrent generations answered by a mock OpenAI-compatible provider
//!   the tester serves itself ([`llm_mock`]) and configures over the admin API; reports the
//!   latency of every delta, time to first delta, deltas per second and gaps by delta `seq`.
//!
//! Every delivery carries its send time and a sequence number, so each run reports end-to-end
//! latency (HDR histogram) and, per subscriber, gaps and duplicates. The same scenarios speak
//! Atrium's protocol, Socket.IO or NATS ([`wire`]), which is what makes the comparison with peer
//! servers fair: same machine, same load generator, same parameters.
//!
//! Process layout: the `run` command is the coordinator ([`coordinator`]); it provisions users
//! over Atrium's HTTP API, then drives one or more worker processes ([`worker`]) through the
//! phases in [`control`], and merges their measurements into a [`report::Report`].

pub mod cli;
pub mod compare;
pub mod config;
pub mod control;
pub mod coordinator;
pub mod counts;
pub mod feature_report;
pub mod integrity;
pub mod llm_mock;
pub mod loopback;
pub mod payload;
pub mod plan;
pub mod plot;
pub mod procstat;
pub mod progress;
pub mod provision;
pub mod recorder;
pub mod report;
pub mod wire;
pub mod worker;
