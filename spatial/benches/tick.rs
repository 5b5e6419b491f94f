//! One simulation tick with every avatar moving and every client acknowledging its snapshots.
//!
//! Loads: 10 rooms × 50 avatars, 200 rooms × 50 (10,000) and one room of 1,000. Each load runs
//! twice: as configured (interest management, delta coding, acknowledgements) and "naive" — the
//! baseline for the ratio: everyone sees and hears everyone in the room (every pair is
//! evaluated) and nobody acknowledges, so every snapshot is a full one. After measuring, each
//! scenario prints the snapshot bytes per client per second at the configured tick rate.
//!
//! What is timed is `Simulation::step` — the span the driver records as
//! `atrium_spatial_tick_seconds`: routing whatever inputs are still queued, applying the
//! acknowledgements, validation, integration, grid, interest, gains and snapshot encoding. Moves
//! and acknowledgements are parked on their avatars when submitted (as the driver does between
//! ticks), so that lookup is outside the timed span; building the inputs and consuming the
//! outputs (the engine's side) are too.
//!
//! Run: `cargo bench -p atrium-spatial --bench tick` (one load: `… -- 1x1000`).
//!
//! For profilers: `ATRIUM_SPATIAL_PROFILE_TICKS=N <bench binary> NAME` skips Criterion and just
//! runs N ticks of the scenario called NAME (e.g. `200x50`), printing the mean step time, the
//! mean of each step of the tick (`Simulation::step_times`) and the mean time spent submitting
//! one tick's inputs (building them included) — short enough for
//! `valgrind --tool=callgrind --toggle-collect='*Simulation*step*'`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use atrium_spatial::{
    AvatarInput, ClientId, RoomId, RoomTemplate, Simulation, SpatialConfig, SpatialInput,
    SpatialOutput, TickOutputs, TickStep,
};
use criterion::{Criterion, criterion_group};
use glam::Vec3;

/// A square hall with spawn points on a grid, so arrivals spread out evenly.
fn hall(side: f32, spacing: f32, capacity: u32) -> Arc<RoomTemplate> {
    let mut spawns = String::new();
    // 2 m margins: every walker's circle stays inside the walls.
    let mut x = 2.0;
    while x <= side - 2.0 {
        let mut z = 2.0;
        while z <= side - 2.0 {
            spawns.push_str(&format!("[[spawn_points]]\nposition = [{x}, 0.0, {z}]\n"));
            z += spacing;
        }
        x += spacing;
    }
    let text = format!(
        "name = \"bench-hall\"\ncapacity = {capacity}\naudible_range = 15.0\n\
         bounds = {{ min = [0.0, 0.0, 0.0], max = [{side}, 4.0, {side}] }}\n{spawns}"
    );
    Arc::new(RoomTemplate::from_toml(&text).expect("bench template is valid"))
}

struct Load {
    sim: Simulation,
    /// Per client: its spawn point (the centre of its walk) and its phase.
    walkers: Vec<(ClientId, Vec3, f32)>,
    acks: bool,
}

impl Load {
    fn new(
        config: SpatialConfig,
        rooms: usize,
        per_room: usize,
        template: Arc<RoomTemplate>,
        acks: bool,
    ) -> Self {
        let mut sim = Simulation::new(config).expect("valid config");
        let mut clients = Vec::new();
        for _ in 0..rooms {
            let room = RoomId::new();
            sim.submit(SpatialInput::CreateRoom {
                room,
                template: Arc::clone(&template),
            });
            for _ in 0..per_room {
                let client = ClientId::new();
                sim.submit(SpatialInput::Join { client, room });
                clients.push(client);
            }
        }
        sim.step();
        let walkers = clients
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, sim.avatar(*c).expect("joined").position, i as f32))
            .collect();
        let mut load = Self { sim, walkers, acks };
        // Settle into steady state (first full snapshots acknowledged, gains sent).
        for _ in 0..10 {
            load.tick();
        }
        load
    }

    /// One tick: the inputs, the step, the acknowledgements.
    fn tick(&mut self) -> TickOutputs {
        self.drive();
        let outputs = self.sim.step();
        self.acknowledge(&outputs);
        outputs
    }

    /// One tick, returning how long the step took.
    fn timed_tick(&mut self) -> Duration {
        self.timed_tick_and_submits().0
    }

    /// One tick, returning how long the step took and how long submitting its inputs took
    /// (moves and acknowledgements are parked on their avatars as they are submitted; the
    /// driver does that between ticks, as inputs arrive).
    fn timed_tick_and_submits(&mut self) -> (Duration, Duration) {
        let started = Instant::now();
        self.drive();
        let moves = started.elapsed();
        let started = Instant::now();
        let outputs = self.sim.step();
        let took = started.elapsed();
        let started = Instant::now();
        self.acknowledge(&outputs);
        let acks = started.elapsed();
        drop(outputs);
        (took, moves + acks)
    }

    /// Everyone walks a 2 m circle around its spawn point (2 m/s at 20 Hz).
    fn drive(&mut self) {
        let t = self.sim.tick() as f32 * 0.05;
        for (client, centre, phase) in &self.walkers {
            let angle = t + phase;
            let position = *centre + Vec3::new(angle.sin(), 0.0, angle.cos()) * 2.0;
            self.sim.submit(SpatialInput::Avatar {
                client: *client,
                input: AvatarInput::Move {
                    position,
                    yaw: angle,
                    velocity: Vec3::new(angle.cos(), 0.0, -angle.sin()) * 2.0 * 0.05 * 20.0,
                },
            });
        }
    }

    /// Every client acknowledges the snapshot it received (when the scenario acknowledges).
    fn acknowledge(&mut self, outputs: &TickOutputs) {
        if self.acks {
            for out in &outputs.outputs {
                if let SpatialOutput::Snapshot(s) = &out.output {
                    self.sim.submit(SpatialInput::Ack {
                        client: out.client,
                        tick: s.snapshot.tick,
                    });
                }
            }
        }
    }

    /// Snapshot bytes per client per second over `ticks` ticks.
    fn bytes_per_client_second(&mut self, ticks: u64) -> f64 {
        let before = self.sim.stats().snapshot_bytes;
        for _ in 0..ticks {
            self.tick();
        }
        let bytes = (self.sim.stats().snapshot_bytes - before) as f64;
        let seconds = ticks as f64 / f64::from(self.sim.config().tick_hz);
        bytes / self.walkers.len() as f64 / seconds
    }
}

/// Benchmarks one scenario. The load is built on first use, so a filtered run
/// (`cargo bench … -- 1x1000`) does not pay for the other scenarios' setup.
fn scenario(c: &mut Criterion, name: &str, samples: usize, make: impl Fn() -> Load) {
    let mut load: Option<Load> = None;
    let mut group = c.benchmark_group("tick");
    group.sample_size(samples);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function(name, |b| {
        let load = load.get_or_insert_with(&make);
        b.iter_custom(|iters| (0..iters).map(|_| load.timed_tick()).sum());
    });
    group.finish();
    if let Some(load) = load.as_mut() {
        let rate = load.bytes_per_client_second(100);
        eprintln!("tick/{name}: {rate:.0} snapshot bytes per client per second");
    }
}

/// The naive baseline's configuration: an AOI that covers the whole room, no cap on what a
/// client sees, and as many datagram parts as a full snapshot needs.
fn naive(config: &SpatialConfig, room_side: f32) -> SpatialConfig {
    let aoi = room_side * 1.5; // more than the diagonal
    SpatialConfig {
        aoi_radius: aoi,
        grid_cell_size: aoi / 8.0,
        max_visible: 100_000,
        max_datagram_parts: 255,
        ..config.clone()
    }
}

/// A scenario: its name, Criterion's sample count and how to build its load.
type Scenario = (String, usize, Box<dyn Fn() -> Load>);

/// Every scenario.
fn scenarios() -> Vec<Scenario> {
    let config = SpatialConfig::default();
    let small_hall = hall(40.0, 4.0, 100);
    let big_hall = hall(100.0, 3.0, 1_000);
    let loads = [
        ("10x50", 10, 50, &small_hall, naive(&config, 40.0), 20),
        ("200x50", 200, 50, &small_hall, naive(&config, 40.0), 20),
        ("1x1000", 1, 1_000, &big_hall, naive(&config, 100.0), 10),
    ];
    let mut all: Vec<Scenario> = Vec::new();
    for (name, rooms, per_room, template, naive_config, naive_samples) in loads {
        let (config, template_a, template_b) =
            (config.clone(), Arc::clone(template), Arc::clone(template));
        all.push((
            name.to_string(),
            20,
            Box::new(move || {
                Load::new(
                    config.clone(),
                    rooms,
                    per_room,
                    Arc::clone(&template_a),
                    true,
                )
            }),
        ));
        all.push((
            format!("{name}-naive"),
            naive_samples,
            Box::new(move || {
                Load::new(
                    naive_config.clone(),
                    rooms,
                    per_room,
                    Arc::clone(&template_b),
                    false,
                )
            }),
        ));
    }
    all
}

fn ticks(c: &mut Criterion) {
    for (name, samples, make) in scenarios() {
        scenario(c, &name, samples, make);
    }
}

criterion_group!(benches, ticks);

fn main() {
    match std::env::var("ATRIUM_SPATIAL_PROFILE_TICKS") {
        Ok(ticks) => {
            let ticks: u32 = ticks.parse().expect("a tick count");
            let wanted: Vec<String> = std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect();
            for (name, _, make) in scenarios() {
                if !wanted.contains(&name) {
                    continue;
                }
                let mut load = make();
                let (mut steps, mut submits) = (Duration::ZERO, Duration::ZERO);
                let mut per_step = [Duration::ZERO; TickStep::ALL.len()];
                for _ in 0..ticks {
                    let (step, submit) = load.timed_tick_and_submits();
                    steps += step;
                    submits += submit;
                    for (sum, (_, took)) in per_step.iter_mut().zip(load.sim.step_times()) {
                        *sum += took;
                    }
                }
                eprintln!(
                    "{name}: {:?} per step over {ticks} ticks (submitting a tick's inputs: {:?})",
                    steps / ticks,
                    submits / ticks
                );
                for (step, sum) in TickStep::ALL.iter().zip(per_step) {
                    eprintln!("  {:>9}: {:?}", step.as_str(), sum / ticks);
                }
            }
        }
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
