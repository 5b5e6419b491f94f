//! The `[realtime]` table: the realtime core's limits in config-file units (milliseconds, counts).
//!
//! `atrium_actors::RealtimeConfig` works in `Duration`s; this is its serialisable face, with the
//! same defaults (taken from `RealtimeConfig::default()`, so there is one source for them).

use std::time::Duration;

use atrium_actors::{OutboxLimits, RealtimeConfig, RestartBudget};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeSettings {
    /// Most frames queued for one session before droppable frames are evicted and, if reliable
    /// frames still overflow, the session is closed with `slow_consumer`.
    pub outbox_max_frames: usize,
    /// Most encoded bytes queued for one session.
    pub outbox_max_bytes: usize,
    /// Recent messages each channel keeps in memory for resume.
    pub ring_capacity: usize,
    /// An idle channel actor stops after this long.
    pub channel_idle_timeout_ms: u64,
    /// `typing {on: true}` expires after this long unless renewed.
    pub typing_ttl_ms: u64,
    /// Wait this long after a user's last session closes before announcing them offline.
    pub presence_grace_ms: u64,
    /// Restarts one child may have within `restart_window_ms` before its supervisor gives up.
    pub restart_max: u32,
    pub restart_window_ms: u64,
    /// Messages per store round trip when replaying a gap the ring does not cover.
    pub replay_page: u32,
    /// How long a channel waits for a missing seq before fetching it from the store.
    pub gap_fill_delay_ms: u64,
    /// Live pushes buffered for a subscriber while its replay runs.
    pub replay_buffer: usize,
    /// A session's actor stops after this long without requests (the session lives on).
    pub session_hibernate_after_ms: u64,
    /// A ticket actor with no command for this long stops (its SLA timer stays armed).
    pub ticket_idle_timeout_ms: u64,
    /// How long an HTTP request or `ticket.sub` waits for a ticket actor's answer.
    pub ticket_call_timeout_ms: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<&RealtimeConfig> for RealtimeSettings {
    fn from(c: &RealtimeConfig) -> Self {
        Self {
            outbox_max_frames: c.outbox.max_frames,
            outbox_max_bytes: c.outbox.max_bytes,
            ring_capacity: c.ring_capacity,
            channel_idle_timeout_ms: millis(c.channel_idle_timeout),
            typing_ttl_ms: millis(c.typing_ttl),
            presence_grace_ms: millis(c.presence_grace),
            restart_max: c.restart_budget.max_restarts,
            restart_window_ms: millis(c.restart_budget.window),
            replay_page: c.replay_page,
            gap_fill_delay_ms: millis(c.gap_fill_delay),
            replay_buffer: c.replay_buffer,
            session_hibernate_after_ms: millis(c.session_hibernate_after),
            ticket_idle_timeout_ms: millis(c.tickets.idle_timeout),
            ticket_call_timeout_ms: millis(c.tickets.call_timeout),
        }
    }
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self::from(&RealtimeConfig::default())
    }
}

impl RealtimeSettings {
    /// The actors' configuration; refuses values that would disable a limit.
    pub fn to_config(&self) -> anyhow::Result<RealtimeConfig> {
        anyhow::ensure!(
            self.outbox_max_frames > 0 && self.outbox_max_bytes > 0,
            "realtime.outbox_max_frames and realtime.outbox_max_bytes must be positive"
        );
        anyhow::ensure!(
            self.ring_capacity > 0 && self.replay_page > 0 && self.replay_buffer > 0,
            "realtime.ring_capacity, replay_page and replay_buffer must be positive"
        );
        anyhow::ensure!(
            self.channel_idle_timeout_ms > 0 && self.typing_ttl_ms > 0,
            "realtime.channel_idle_timeout_ms and typing_ttl_ms must be positive"
        );
        anyhow::ensure!(
            self.ticket_idle_timeout_ms > 0 && self.ticket_call_timeout_ms > 0,
            "realtime.ticket_idle_timeout_ms and ticket_call_timeout_ms must be positive"
        );
        Ok(RealtimeConfig {
            outbox: OutboxLimits {
                max_frames: self.outbox_max_frames,
                max_bytes: self.outbox_max_bytes,
            },
            ring_capacity: self.ring_capacity,
            channel_idle_timeout: Duration::from_millis(self.channel_idle_timeout_ms),
            typing_ttl: Duration::from_millis(self.typing_ttl_ms),
            presence_grace: Duration::from_millis(self.presence_grace_ms),
            restart_budget: RestartBudget {
                max_restarts: self.restart_max,
                window: Duration::from_millis(self.restart_window_ms),
            },
            replay_page: self.replay_page,
            gap_fill_delay: Duration::from_millis(self.gap_fill_delay_ms),
            replay_buffer: self.replay_buffer,
            session_hibernate_after: Duration::from_millis(self.session_hibernate_after_ms),
            // Rooms have their own table (`[spatial]`, see `spatial_settings.rs`).
            rooms: Default::default(),
            tickets: atrium_actors::ticket::TicketConfig {
                idle_timeout: Duration::from_millis(self.ticket_idle_timeout_ms),
                call_timeout: Duration::from_millis(self.ticket_call_timeout_ms),
                ..atrium_actors::ticket::TicketConfig::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_to_the_actors_defaults() {
        let settings = RealtimeSettings::default();
        assert_eq!(settings.to_config().unwrap(), RealtimeConfig::default());
        assert_eq!(settings.outbox_max_frames, 1024);
    }

    #[test]
    fn zero_limits_are_refused() {
        let settings = RealtimeSettings {
            outbox_max_frames: 0,
            ..RealtimeSettings::default()
        };
        let err = settings.to_config().unwrap_err();
        assert!(err.to_string().contains("outbox_max_frames"), "{err}");
    }
}
