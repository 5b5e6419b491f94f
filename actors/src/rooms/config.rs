//! `RoomsConfig`: the simulation's settings plus what the engine adds around it.

use std::sync::Arc;
use std::time::Duration;

use atrium_spatial::{SpatialConfig, TemplateCatalog};

/// How the node runs its virtual rooms.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomsConfig {
    /// The simulation (tick rate, area of interest, input limits, snapshot sizes, …).
    pub spatial: SpatialConfig,
    /// How long a disconnected user's avatar stays in its room, waiting for a reconnect. A
    /// `room.join` of the same user within it gets the same avatar and seat back.
    pub grace: Duration,
    /// The templates rooms are made from (the built-in ones, plus any loaded from files).
    pub catalog: Arc<TemplateCatalog>,
    /// Output batches (one per tick) allowed to wait for the rooms actor; beyond this, snapshots
    /// are shed from new batches (the next one is coded against the last acknowledged view, so
    /// nothing is lost for good) while everything reliable still goes through.
    pub max_output_backlog: usize,
    /// Whether the node runs rooms at all. Without, `room.*` frames are refused with `internal`.
    pub enabled: bool,
}

/// The default grace period after a disconnect.
pub const DEFAULT_ROOM_GRACE: Duration = Duration::from_secs(30);

/// The default output backlog, in ticks (a second at 20 Hz).
pub const DEFAULT_MAX_OUTPUT_BACKLOG: usize = 20;

impl Default for RoomsConfig {
    fn default() -> Self {
        Self {
            spatial: SpatialConfig::default(),
            grace: DEFAULT_ROOM_GRACE,
            catalog: Arc::new(builtin_catalog()),
            max_output_backlog: DEFAULT_MAX_OUTPUT_BACKLOG,
            enabled: true,
        }
    }
}

/// The built-in templates. They are compiled in and covered by the spatial crate's tests, so
/// failing to parse one is a build defect; an empty catalog is the harmless fallback.
pub fn builtin_catalog() -> TemplateCatalog {
    TemplateCatalog::builtin().unwrap_or_else(|error| {
        tracing::error!(%error, "built-in room templates are invalid");
        TemplateCatalog::default()
    })
}
