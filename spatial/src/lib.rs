//! `atrium-spatial`: the virtual-room simulation.
//!
//! Rooms and avatars live in one bevy_ecs world stepped at a fixed rate. Each tick applies the
//! queued inputs (validated, never trusted), moves avatars, buckets them in a spatial hash grid
//! per room, works out who sees whom (area of interest plus stages), computes the audio gain of
//! every audible pair exactly as a Web Audio `PannerNode` would, and encodes a delta-coded
//! snapshot per client. There is no networking here: the engine feeds inputs and ships outputs.
//!
//! - [`Simulation`] steps by hand (tests, benchmarks); [`SpatialDriver`] steps it on its own
//!   thread at `tick_hz`, fed through a [`SpatialHandle`] and delivering to an [`OutputSink`].
//! - [`RoomTemplate`]s are data (`templates/*.toml`); see [`TemplateCatalog`].
//! - [`audio`] holds the `PannerNode` formulas; [`snapshot`] the wire encoding.
//!
//! `docs/spatial.md` describes the model, the zone rules and the snapshot byte layout.

pub mod audio;
mod clock;
mod config;
mod driver;
pub mod grid;
mod hash;
mod ids;
mod input;
mod messages;
mod pacer;
mod sim;
pub mod snapshot;
pub mod telemetry;
pub mod template;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ConfigError, MAX_AOI_CELLS, MAX_SNAPSHOT_PARTS, MAX_TICK_HZ, MIN_DATAGRAM_BYTES, SpatialConfig,
};
pub use driver::{
    DRIVER_THREAD_NAME, DriverError, DriverReport, FnSink, OutputSink, SinkClosed, SpatialDriver,
    SpatialHandle, SubmitError,
};
pub use ids::{AvatarId, ClientId, RoomId, Tick};
pub use input::{
    AvatarInput, CorrectionReason, MoveLimits, MoveOutcome, Pose, TeleportTarget, resolve_teleport,
    validate_move,
};
pub use messages::{
    Addressed, Correction, GAINS_INLINE, GainUpdate, JoinRefusal, JoinedRoom, RoomEvent,
    RoomNotice, RoomSnapshot, SourceGain, SpatialInput, SpatialOutput, TickOutputs,
};
pub use pacer::TickPacer;
pub use sim::{AvatarInfo, SimStats, Simulation, TickStep, WORKER_THREAD_NAME};
pub use template::{RoomTemplate, TemplateCatalog, TemplateError};
