//! Tunables of the ticket subsystem.

use std::time::Duration;

use crate::ticket::clock::SharedClock;

/// Configuration of tickets on a node (`RealtimeConfig::tickets`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketConfig {
    /// A ticket actor with no command for this long stops (its timer stays armed).
    pub idle_timeout: Duration,
    /// How long a caller waits for a ticket actor's answer before giving up.
    pub call_timeout: Duration,
    /// The wall clock deadlines are measured on.
    pub clock: SharedClock,
}

impl Default for TicketConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(60),
            call_timeout: Duration::from_secs(10),
            clock: SharedClock::default(),
        }
    }
}
