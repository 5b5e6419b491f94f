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

use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, SingleThreadedExecutor, SystemSet};

use super::systems::{gains, grid, inputs, interest, movement, route, snapshots};

/// The steps of a tick.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickStep {
    /// Room creation, joins and leaves; inputs parked on avatars; acknowledgements.
    Route,
    /// Validated teleports and moves.
    Inputs,
    /// Dead reckoning with each avatar's velocity.
    Integrate,
    /// Spatial hash grids, stages and zone presence.
    Grid,
    /// Who sees whom.
    Interest,
    /// Who hears whom, and how loud.
    Audio,
    /// Per-client snapshots.
    Snapshots,
}

/// Builds the tick schedule.
pub(crate) fn tick_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.configure_sets(
        (
            TickStep::Route,
            TickStep::Inputs,
            TickStep::Integrate,
            TickStep::Grid,
            TickStep::Interest,
            TickStep::Audio,
            TickStep::Snapshots,
        )
            .chain(),
    );
    schedule.add_systems((
        (route::route_inputs, route::apply_acks)
            .chain()
            .in_set(TickStep::Route),
        inputs::apply_inputs.in_set(TickStep::Inputs),
        movement::integrate.in_set(TickStep::Integrate),
        grid::rebuild_grids.in_set(TickStep::Grid),
        interest::update_interest.in_set(TickStep::Interest),
        gains::update_gains.in_set(TickStep::Audio),
        (
            snapshots::prepare_frames,
            snapshots::build_snapshots,
            snapshots::collect_outputs,
        )
            .chain()
            .in_set(TickStep::Snapshots),
    ));
    schedule
}
