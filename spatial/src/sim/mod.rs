//! The simulation: one bevy_ecs `World` of rooms and avatars and the schedule that steps it.
//!
//! [`Simulation`] has no clock and no thread: [`Simulation::submit`] queues inputs and
//! [`Simulation::step`] runs exactly one tick and returns its outputs. Tests drive it by hand;
//! the [`crate::SpatialDriver`] drives it at a fixed rate on its own thread.

mod components;
mod parallel;
mod resources;
mod schedule;
mod systems;

pub use parallel::WORKER_THREAD_NAME;
pub use resources::SimStats;
pub use schedule::TickStep;

use std::time::Duration;

use bevy_ecs::schedule::Schedule;
use bevy_ecs::world::World;
use glam::Vec3;

use crate::config::{ConfigError, SpatialConfig};
use crate::ids::{AvatarId, ClientId, RoomId, Tick};
use crate::messages::{SpatialInput, TickOutputs};
use crate::telemetry;
use components::{Avatar, Position, Seat, Velocity, Yaw};
use resources::{Directory, Inbox, Outbox, Settings, SimTick};
use schedule::StepClock;

/// Where one client's avatar is, as the simulation holds it (for tests and diagnostics).
#[derive(Debug, Clone, PartialEq)]
pub struct AvatarInfo {
    /// The room.
    pub room: RoomId,
    /// The avatar's number in it.
    pub avatar: AvatarId,
    /// Position, metres.
    pub position: Vec3,
    /// Facing, radians.
    pub yaw: f32,
    /// Velocity, metres per second.
    pub velocity: Vec3,
    /// Occupied seat.
    pub seat: Option<u16>,
}

/// The room simulation, stepped by hand.
pub struct Simulation {
    world: World,
    schedule: Schedule,
}

impl Simulation {
    /// An empty simulation (no rooms) at tick 0.
    pub fn new(config: SpatialConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        parallel::start_pool();
        let mut world = World::new();
        world.insert_resource(Settings(config));
        world.insert_resource(SimTick(0));
        world.insert_resource(Inbox::default());
        world.insert_resource(Outbox::default());
        world.insert_resource(Directory::default());
        world.insert_resource(SimStats::default());
        world.insert_resource(StepClock::default());
        Ok(Self {
            world,
            schedule: schedule::tick_schedule(),
        })
    }

    /// Queues an input for the next tick (inputs apply in the order submitted). Moves,
    /// teleports and acknowledgements of clients with an avatar are parked on it right away
    /// when nothing is queued ahead of them, which has the same effect and keeps their lookups
    /// out of the tick.
    pub fn submit(&mut self, input: SpatialInput) {
        if let Some(input) = systems::route::park_on_arrival(&mut self.world, input) {
            self.world.resource_mut::<Inbox>().0.push(input);
        }
    }

    /// Runs one tick and returns everything it produced.
    pub fn step(&mut self) -> TickOutputs {
        let tick = {
            let mut tick = self.world.resource_mut::<SimTick>();
            tick.0 += 1;
            tick.0
        };
        self.world.resource_mut::<StepClock>().started = std::time::Instant::now();
        self.schedule.run(&mut self.world);
        let mut outbox = self.world.resource_mut::<Outbox>();
        // The next tick will produce about as much: keep the room for it.
        let room = outbox.outputs.len();
        let outbox = Outbox {
            outputs: std::mem::replace(&mut outbox.outputs, Vec::with_capacity(room)),
            notices: std::mem::take(&mut outbox.notices),
        };
        let directory = self.world.resource::<Directory>();
        metrics::gauge!(telemetry::ROOMS).set(directory.rooms.len() as f64);
        metrics::gauge!(telemetry::AVATARS).set(directory.clients.len() as f64);
        TickOutputs {
            tick,
            outputs: outbox.outputs,
            notices: outbox.notices,
        }
    }

    /// How long each step of the last tick took, in tick order (zero before the first tick).
    /// The driver exports them as the histogram `atrium_spatial_step_seconds{step}`.
    pub fn step_times(&self) -> [(TickStep, Duration); TickStep::ALL.len()] {
        self.world.resource::<StepClock>().durations()
    }

    /// The last tick run (0 before the first).
    pub fn tick(&self) -> Tick {
        self.world.resource::<SimTick>().0
    }

    /// The configuration in use.
    pub fn config(&self) -> &SpatialConfig {
        &self.world.resource::<Settings>().0
    }

    /// Running totals.
    pub fn stats(&self) -> SimStats {
        self.world.resource::<SimStats>().clone()
    }

    /// Open rooms.
    pub fn room_count(&self) -> usize {
        self.world.resource::<Directory>().rooms.len()
    }

    /// Avatars in rooms.
    pub fn avatar_count(&self) -> usize {
        self.world.resource::<Directory>().clients.len()
    }

    /// Occupants of a room, if it exists.
    pub fn occupants(&self, room: RoomId) -> Option<usize> {
        let entity = *self.world.resource::<Directory>().rooms.get(&room)?;
        self.world
            .get::<components::Occupants>(entity)
            .map(|o| o.members.len())
    }

    /// A client's avatar.
    pub fn avatar(&self, client: ClientId) -> Option<AvatarInfo> {
        let entity = *self.world.resource::<Directory>().clients.get(&client)?;
        let avatar = self.world.get::<Avatar>(entity)?;
        Some(AvatarInfo {
            room: avatar.room_id,
            avatar: avatar.id,
            position: self.world.get::<Position>(entity)?.0,
            yaw: self.world.get::<Yaw>(entity)?.0,
            velocity: self.world.get::<Velocity>(entity)?.0,
            seat: self.world.get::<Seat>(entity)?.0,
        })
    }
}
