//! The `[spatial]` table: virtual rooms in config-file units (metres, milliseconds, counts).
//!
//! It maps onto `atrium_actors::RoomsConfig` (the simulation's `SpatialConfig` plus the grace
//! period and the template catalog); defaults come from those types, so there is one source.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use atrium_actors::RoomsConfig;
use atrium_actors::rooms::templates::load_catalog;
use atrium_spatial::SpatialConfig;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpatialSettings {
    /// Run virtual rooms on this node.
    pub enabled: bool,
    /// Simulation ticks per second (1–240).
    pub tick_hz: u32,
    /// Area-of-interest radius, metres: clients receive avatars this close (plus stages).
    pub aoi_radius: f32,
    /// Spatial hash grid cell edge, metres (at least `aoi_radius / 8`).
    pub grid_cell_size: f32,
    /// Most avatars in one client's snapshot.
    pub max_visible: usize,
    /// Fastest allowed avatar speed, metres per second.
    pub max_speed: f32,
    /// A disconnected user's avatar waits this long for a reconnect before it leaves.
    pub grace_ms: u64,
    /// A directory of extra `*.toml` room templates (added to the built-in ones).
    pub templates_dir: Option<PathBuf>,
    /// Largest snapshot part, bytes (one datagram).
    pub max_datagram_bytes: usize,
    /// A snapshot needing more parts goes on the reliable stream instead.
    pub max_datagram_parts: usize,
    /// Snapshots are deltas against an acknowledged one at most this many ticks old.
    pub ack_window: u64,
    /// A gain is re-sent only when it moved by more than this (linear).
    pub gain_threshold: f32,
    /// Most rooms open at once on this node.
    pub max_rooms: usize,
    /// Inputs queued for the simulation before new ones are refused.
    pub input_queue_capacity: usize,
}

impl Default for SpatialSettings {
    fn default() -> Self {
        let rooms = RoomsConfig::default();
        let s = &rooms.spatial;
        Self {
            enabled: rooms.enabled,
            tick_hz: s.tick_hz,
            aoi_radius: s.aoi_radius,
            grid_cell_size: s.grid_cell_size,
            max_visible: s.max_visible,
            max_speed: s.max_speed,
            grace_ms: u64::try_from(rooms.grace.as_millis()).unwrap_or(u64::MAX),
            templates_dir: None,
            max_datagram_bytes: s.max_datagram_bytes,
            max_datagram_parts: s.max_datagram_parts,
            ack_window: s.ack_window,
            gain_threshold: s.gain_threshold,
            max_rooms: s.max_rooms,
            input_queue_capacity: s.input_queue_capacity,
        }
    }
}

impl SpatialSettings {
    /// The actors' configuration: validates the simulation settings and loads the templates.
    pub fn to_config(&self) -> anyhow::Result<RoomsConfig> {
        let defaults = RoomsConfig::default();
        let spatial = SpatialConfig {
            tick_hz: self.tick_hz,
            aoi_radius: self.aoi_radius,
            grid_cell_size: self.grid_cell_size,
            max_visible: self.max_visible,
            max_speed: self.max_speed,
            max_datagram_bytes: self.max_datagram_bytes,
            max_datagram_parts: self.max_datagram_parts,
            ack_window: self.ack_window,
            gain_threshold: self.gain_threshold,
            max_rooms: self.max_rooms,
            input_queue_capacity: self.input_queue_capacity,
            ..defaults.spatial
        };
        spatial
            .validate()
            .map_err(|e| anyhow::anyhow!("spatial.{}: {}", e.field, e.reason))?;
        let catalog = load_catalog(self.templates_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("spatial.templates_dir: {e}"))?;
        Ok(RoomsConfig {
            spatial,
            grace: Duration::from_millis(self.grace_ms),
            catalog: Arc::new(catalog),
            enabled: self.enabled,
            ..defaults
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_actors_defaults() {
        let config = SpatialSettings::default().to_config().unwrap();
        assert_eq!(config, RoomsConfig::default());
        assert_eq!(config.spatial.tick_hz, 20);
        assert_eq!(config.catalog.len(), 4, "the built-in templates");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let bad = SpatialSettings {
            tick_hz: 0,
            ..SpatialSettings::default()
        };
        let err = bad.to_config().unwrap_err().to_string();
        assert!(err.contains("spatial.tick_hz"), "{err}");
        let missing = SpatialSettings {
            templates_dir: Some("/nonexistent/templates".into()),
            ..SpatialSettings::default()
        };
        let err = missing.to_config().unwrap_err().to_string();
        assert!(err.contains("templates_dir"), "{err}");
    }
}
