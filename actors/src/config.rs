//! Tunables of the realtime core, with the defaults a node runs with.
//!
//! Every limit the actors enforce lives here so the engine can expose it in its config file and
//! `docs/architecture.md` can name the defaults. The numbers are chosen for a chat workload on a
//! small node: queues deep enough to absorb a burst, small enough that 10,000 idle sessions cost
//! little memory (an empty queue allocates nothing).

use std::time::Duration;

use crate::restart::RestartBudget;
use crate::rooms::RoomsConfig;

/// Limits of one session's outbound queue (see [`crate::outbox::SessionOutbox`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxLimits {
    /// Most frames queued for one session. Droppable frames (typing, presence, read receipts) are
    /// evicted first when it is reached; a reliable frame that still does not fit closes the
    /// session with `slow_consumer`.
    pub max_frames: usize,
    /// Most encoded bytes queued for one session (frames are shared between sessions, so this
    /// bounds what one stalled reader can pin in memory).
    pub max_bytes: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        Self {
            max_frames: 1024,
            max_bytes: 1024 * 1024,
        }
    }
}

/// Configuration of [`crate::Realtime`].
#[derive(Clone, Debug, PartialEq)]
pub struct RealtimeConfig {
    /// Per-session outbound queue limits.
    pub outbox: OutboxLimits,
    /// Encoded `msg` pushes each channel keeps in memory for hot resume replay.
    pub ring_capacity: usize,
    /// A channel actor with no subscribers and no work stops after this long without requests.
    pub channel_idle_timeout: Duration,
    /// A `typing {on: true}` not renewed within this time is turned off by the server.
    pub typing_ttl: Duration,
    /// After a user's last session closes, how long to wait for a reconnect before announcing
    /// them offline.
    pub presence_grace: Duration,
    /// How many restarts of one child a supervisor allows per window before giving up on it.
    pub restart_budget: RestartBudget,
    /// Messages fetched per store round trip when replaying a gap that the ring does not cover.
    pub replay_page: u32,
    /// How long a channel waits for a missing seq (committed elsewhere, or whose result was lost
    /// in a restart) before fetching it from the store, so publication never stalls on a gap.
    pub gap_fill_delay: Duration,
    /// Live pushes buffered for a subscriber while its cold replay runs; past this the replay is
    /// simply extended instead of buffering more.
    pub replay_buffer: usize,
    /// A session actor that handled no request for this long stops; the session (connection,
    /// outbox, subscriptions) lives on and its next request starts a new incarnation. Short, so
    /// that a session which subscribed and went quiet costs no actor (about 8 KiB) for long.
    pub session_hibernate_after: Duration,
    /// Virtual rooms: the simulation, the grace period after a disconnect, the templates.
    pub rooms: RoomsConfig,
    /// Ticket actors, timers and the clock they read.
    pub tickets: crate::ticket::TicketConfig,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            outbox: OutboxLimits::default(),
            ring_capacity: 512,
            channel_idle_timeout: Duration::from_secs(60),
            typing_ttl: Duration::from_secs(6),
            presence_grace: Duration::from_secs(5),
            restart_budget: RestartBudget::default(),
            replay_page: 200,
            gap_fill_delay: Duration::from_millis(250),
            replay_buffer: 512,
            session_hibernate_after: Duration::from_secs(1),
            rooms: RoomsConfig::default(),
            tickets: crate::ticket::TicketConfig::default(),
        }
    }
}
