//! One simulation tick with every avatar moving and every client acknowledging its snapshots.
//!
//! Scenarios: 10 rooms × 50 avatars, 200 rooms × 50 avatars (10,000) and one room of 1,000.
//! "naive" runs the same 10 × 50 load with interest management and delta coding defeated
//! (everyone sees and hears everyone, no acknowledgements, so every snapshot is full) as the
//! baseline for the ratio. After measuring, each scenario prints the snapshot bytes per client
//! per second at the configured tick rate.
//!
//! Run: `cargo bench -p atrium-spatial --bench tick`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use atrium_spatial::{
    AvatarInput, ClientId, RoomId, RoomTemplate, Simulation, SpatialConfig, SpatialInput,
    SpatialOutput, TickOutputs,
};
use criterion::{Criterion, criterion_group, criterion_main};
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

    /// Everyone walks a 2 m circle around its spawn point (2 m/s at 20 Hz), then one tick runs,
    /// then every client acknowledges what it received.
    fn tick(&mut self) -> TickOutputs {
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
        let outputs = self.sim.step();
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
        outputs
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
fn scenario(c: &mut Criterion, name: &str, make: impl Fn() -> Load) {
    let mut load: Option<Load> = None;
    let mut group = c.benchmark_group("tick");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function(name, |b| {
        let load = load.get_or_insert_with(&make);
        b.iter(|| black_box(load.tick()));
    });
    group.finish();
    if let Some(load) = load.as_mut() {
        let rate = load.bytes_per_client_second(100);
        eprintln!("tick/{name}: {rate:.0} snapshot bytes per client per second");
    }
}

fn ticks(c: &mut Criterion) {
    let config = SpatialConfig::default();
    let small_hall = hall(40.0, 4.0, 100);
    scenario(c, "10x50", || {
        Load::new(config.clone(), 10, 50, Arc::clone(&small_hall), true)
    });

    let naive = SpatialConfig {
        aoi_radius: 80.0,
        grid_cell_size: 10.0,
        max_visible: 10_000,
        max_datagram_parts: 255,
        ..config.clone()
    };
    scenario(c, "10x50-naive", || {
        Load::new(naive.clone(), 10, 50, Arc::clone(&small_hall), false)
    });

    scenario(c, "200x50", || {
        Load::new(config.clone(), 200, 50, Arc::clone(&small_hall), true)
    });

    let big_hall = hall(100.0, 3.0, 1_000);
    scenario(c, "1x1000", || {
        Load::new(config.clone(), 1, 1_000, Arc::clone(&big_hall), true)
    });
}

criterion_group!(benches, ticks);
criterion_main!(benches);
