//! The order of a tick, stated once.
//!
//! ```text
//! Route → Inputs → Integrate → Grid → Interest → Audio → Snapshots
//! ```
//!
//! Each step is a system set so that later additions (say, a second audio system) slot into the
//! right place without re-reading every other system. The schedule runs on a single-threaded
//! executor: the steps depend on each other in a chain anyway, the driver already owns its own
//! thread, and a fixed order keeps ticks deterministic for tests.

use std::time::{Duration, Instant};

use bevy_ecs::resource::Resource;
use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, SingleThreadedExecutor, SystemSet};
use bevy_ecs::system::ResMut;

use super::systems::{gains, gains_table, grid, inputs, interest, movement, route, snapshots};

/// The steps of a tick.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum TickStep {
    /// Room creation, joins and leaves; inputs parked on avatars; acknowledgements.
    Route,
    /// Validated teleports and moves.
    Inputs,
    /// Dead reckoning with each avatar's velocity.
    Integrate,
    /// Rosters, interest matrices or spatial hash grids, stages and zone presence; each room's
    /// snapshot material.
    Grid,
    /// Who sees whom.
    Interest,
    /// Who hears whom, and how loud.
    Audio,
    /// Per-client snapshots.
    Snapshots,
}

impl TickStep {
    /// Every step, in tick order.
    pub const ALL: [TickStep; 7] = [
        TickStep::Route,
        TickStep::Inputs,
        TickStep::Integrate,
        TickStep::Grid,
        TickStep::Interest,
        TickStep::Audio,
        TickStep::Snapshots,
    ];

    /// Stable lower-case name (the `step` label of the per-step metric).
    pub fn as_str(self) -> &'static str {
        match self {
            TickStep::Route => "route",
            TickStep::Inputs => "inputs",
            TickStep::Integrate => "integrate",
            TickStep::Grid => "grid",
            TickStep::Interest => "interest",
            TickStep::Audio => "audio",
            TickStep::Snapshots => "snapshots",
        }
    }
}

/// When the tick started and when each step ended (written by a marker system closing each
/// step).
#[derive(Resource)]
pub(crate) struct StepClock {
    pub started: Instant,
    pub ended: [Instant; TickStep::ALL.len()],
}

impl Default for StepClock {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            ended: [now; TickStep::ALL.len()],
        }
    }
}

impl StepClock {
    /// How long each step of the last tick took, in tick order.
    pub fn durations(&self) -> [(TickStep, Duration); TickStep::ALL.len()] {
        let mut from = self.started;
        TickStep::ALL.map(|step| {
            let to = self.ended[step as usize];
            let took = to.saturating_duration_since(from);
            from = to;
            (step, took)
        })
    }
}

/// Closes step `S` (its index in [`TickStep::ALL`]).
fn end_of_step<const S: usize>(mut clock: ResMut<StepClock>) {
    clock.ended[S] = Instant::now();
}

/// Builds the tick schedule.
pub(crate) fn tick_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    for pair in TickStep::ALL.windows(2) {
        schedule.configure_sets(pair[0].before(pair[1]));
    }
    // Each step's systems, chained, then the marker that closes the step.
    macro_rules! step {
        ($step:expr, $($system:expr),+ $(,)?) => {
            ($($system,)+ end_of_step::<{ $step as usize }>)
                .chain()
                .in_set($step)
        };
    }
    schedule.add_systems((
        step!(TickStep::Route, route::route_inputs, route::apply_acks),
        step!(TickStep::Inputs, inputs::apply_inputs),
        step!(TickStep::Integrate, movement::integrate),
        step!(TickStep::Grid, grid::rebuild_grids),
        step!(TickStep::Interest, interest::update_interest),
        step!(
            TickStep::Audio,
            gains_table::hand_over,
            gains_table::update_table_gains,
            gains::update_gains,
        ),
        step!(
            TickStep::Snapshots,
            snapshots::build_snapshots,
            snapshots::collect_outputs,
        ),
    ));
    schedule
}
