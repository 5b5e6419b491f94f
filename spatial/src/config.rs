//! Tunables of the simulation, with defaults sized for conversational rooms at 20 Hz.
//!
//! Every limit the simulation enforces lives here (or in a template), so the engine can expose it
//! as configuration and a test can shrink it.

use std::time::Duration;

use thiserror::Error;

/// The highest tick rate accepted. Above this the per-tick bookkeeping costs more than it buys.
pub const MAX_TICK_HZ: u32 = 240;

/// A snapshot is split into at most this many datagram parts (the part index is one byte).
pub const MAX_SNAPSHOT_PARTS: usize = 255;

/// The smallest datagram budget accepted: a part must hold its header plus one full avatar entry.
pub const MIN_DATAGRAM_BYTES: usize = 64;

/// The AOI circle may span at most this many grid cells across its radius; beyond that a query
/// would scan a quadratic number of cells.
pub const MAX_AOI_CELLS: f32 = 8.0;

/// Simulation settings. Build one with `SpatialConfig::default()` and override fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SpatialConfig {
    /// Simulation steps per second.
    pub tick_hz: u32,
    /// Area-of-interest radius in metres: a client receives avatars this close (plus everyone on
    /// a stage). Audio sources are taken from the same set, so keep it at least as large as the
    /// rooms' `audible_range`.
    pub aoi_radius: f32,
    /// Edge of one spatial hash grid cell in metres. The AOI query visits every cell its circle
    /// touches, so a cell near the AOI radius keeps that to about 9 cells.
    pub grid_cell_size: f32,
    /// At most this many avatars per snapshot (the client itself and stage avatars first, then
    /// the nearest). Bounds snapshot size and per-client work in a crowd.
    pub max_visible: usize,
    /// Fastest an avatar may move, in metres per second.
    pub max_speed: f32,
    /// Slack added to the allowed displacement of each move, in metres, for clock jitter and
    /// float noise; a legitimate client never trips a correction.
    pub move_tolerance: f32,
    /// A client silent for a while may cover the distance it could have walked in at most this
    /// many ticks in one move, no more (no banking of speed).
    pub max_move_budget_ticks: u32,
    /// A teleport target within this distance (metres) of a seat or spawn point snaps to it;
    /// anything else is refused.
    pub teleport_snap_radius: f32,
    /// A seated avatar that moves farther than this (metres) from its seat stands up.
    pub seat_release_distance: f32,
    /// Deltas are coded against the client's acknowledged snapshot only while it is at most this
    /// many ticks old; past that the client gets a full snapshot.
    pub ack_window: u64,
    /// When nothing changed for a client, an (empty) snapshot is still sent this often, in ticks,
    /// so lost acknowledgements heal and the ack never ages out in a quiet room.
    pub snapshot_keepalive_ticks: u64,
    /// Largest encoded snapshot part, in bytes (a datagram payload after transport overhead).
    pub max_datagram_bytes: usize,
    /// A snapshot needing more parts than this is flagged for a reliable stream instead.
    pub max_datagram_parts: usize,
    /// A gain is re-sent only when it moved by more than this (linear gain, 0..1) since the
    /// value last sent.
    pub gain_threshold: f32,
    /// Gains below this are treated as silence (not sent; a source dropping below is sent as 0).
    pub min_audible_gain: f32,
    /// Capacity of the driver's input channel. A full channel refuses new inputs instead of
    /// letting memory grow.
    pub input_queue_capacity: usize,
    /// Most rooms one simulation holds.
    pub max_rooms: usize,
}

impl Default for SpatialConfig {
    fn default() -> Self {
        Self {
            tick_hz: 20,
            aoi_radius: 20.0,
            grid_cell_size: 10.0,
            max_visible: 64,
            max_speed: 6.0,
            move_tolerance: 0.25,
            max_move_budget_ticks: 10,
            teleport_snap_radius: 0.5,
            seat_release_distance: 0.75,
            ack_window: 40,
            snapshot_keepalive_ticks: 20,
            max_datagram_bytes: 1100,
            max_datagram_parts: 8,
            gain_threshold: 0.02,
            min_audible_gain: 0.001,
            input_queue_capacity: 16_384,
            max_rooms: 10_000,
        }
    }
}

/// A setting outside its meaningful range.
#[derive(Debug, Error, PartialEq)]
#[error("invalid spatial setting `{field}`: {reason}")]
pub struct ConfigError {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

fn positive(field: &'static str, value: f32) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ConfigError {
            field,
            reason: format!("must be a positive finite number, got {value}"),
        })
    }
}

fn non_negative(field: &'static str, value: f32) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError {
            field,
            reason: format!("must be a finite number ≥ 0, got {value}"),
        })
    }
}

fn at_least(field: &'static str, value: u64, min: u64) -> Result<(), ConfigError> {
    if value >= min {
        Ok(())
    } else {
        Err(ConfigError {
            field,
            reason: format!("must be at least {min}, got {value}"),
        })
    }
}

impl SpatialConfig {
    /// The fixed simulated time one tick covers.
    pub fn tick_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.tick_hz.max(1)))
    }

    /// The same, in seconds, for integration.
    pub fn tick_seconds(&self) -> f32 {
        1.0 / self.tick_hz.max(1) as f32
    }

    /// Checks every field; the driver and the simulation refuse to start with an invalid config.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tick_hz == 0 || self.tick_hz > MAX_TICK_HZ {
            return Err(ConfigError {
                field: "tick_hz",
                reason: format!("must be in 1..={MAX_TICK_HZ}, got {}", self.tick_hz),
            });
        }
        positive("aoi_radius", self.aoi_radius)?;
        positive("grid_cell_size", self.grid_cell_size)?;
        positive("max_speed", self.max_speed)?;
        non_negative("move_tolerance", self.move_tolerance)?;
        non_negative("teleport_snap_radius", self.teleport_snap_radius)?;
        positive("seat_release_distance", self.seat_release_distance)?;
        non_negative("gain_threshold", self.gain_threshold)?;
        non_negative("min_audible_gain", self.min_audible_gain)?;
        if self.aoi_radius / self.grid_cell_size > MAX_AOI_CELLS {
            return Err(ConfigError {
                field: "grid_cell_size",
                reason: format!(
                    "must be at least aoi_radius / {MAX_AOI_CELLS} ({} m)",
                    self.aoi_radius / MAX_AOI_CELLS
                ),
            });
        }
        at_least("max_visible", self.max_visible as u64, 1)?;
        at_least(
            "max_move_budget_ticks",
            u64::from(self.max_move_budget_ticks),
            1,
        )?;
        at_least("ack_window", self.ack_window, 1)?;
        at_least("snapshot_keepalive_ticks", self.snapshot_keepalive_ticks, 1)?;
        at_least(
            "max_datagram_bytes",
            self.max_datagram_bytes as u64,
            MIN_DATAGRAM_BYTES as u64,
        )?;
        at_least("max_datagram_parts", self.max_datagram_parts as u64, 1)?;
        if self.max_datagram_parts > MAX_SNAPSHOT_PARTS {
            return Err(ConfigError {
                field: "max_datagram_parts",
                reason: format!(
                    "must be at most {MAX_SNAPSHOT_PARTS}, got {}",
                    self.max_datagram_parts
                ),
            });
        }
        at_least("input_queue_capacity", self.input_queue_capacity as u64, 1)?;
        at_least("max_rooms", self.max_rooms as u64, 1)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_tick_at_20_hz() {
        let config = SpatialConfig::default();
        config.validate().unwrap();
        assert_eq!(config.tick_period(), Duration::from_millis(50));
    }

    #[test]
    fn nonsense_is_refused_with_the_field_name() {
        let bad = SpatialConfig {
            tick_hz: 0,
            ..SpatialConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "tick_hz");
        let bad = SpatialConfig {
            aoi_radius: f32::NAN,
            ..SpatialConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "aoi_radius");
        let bad = SpatialConfig {
            max_datagram_bytes: 10,
            ..SpatialConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "max_datagram_bytes");
    }
}
