//! The simulation against a brute-force model of its documented behaviour.
//!
//! Randomised rooms full of walkers, teleports, leaves and rejoins, over a lossy network (lost
//! snapshots, lost and late acknowledgements). Every tick, for every client, the model works out
//! from first principles — every pair, no grid, no caches — what the client must see (interest),
//! what it must hear (gains by the `PannerNode` formulas, sent only past the threshold) and the
//! exact bytes of its snapshot (delta against the acknowledged view, keepalives, splitting), and
//! the simulation's outputs must equal it. The internals (grids, shared encodings, skipped gain
//! evaluations) may change freely; this behaviour may not.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use atrium_spatial::audio::source_gain;
use atrium_spatial::snapshot::{
    AvatarState, View, apply_snapshot, decode_part, diff, encode_snapshot, flags,
    quantize_position, quantize_yaw,
};
use atrium_spatial::{
    AvatarId, AvatarInput, ClientId, RoomId, RoomTemplate, Simulation, SourceGain, SpatialConfig,
    SpatialInput, SpatialOutput, Tick, TickOutputs,
};
use common::template;
use glam::Vec3;

/// xorshift64*: deterministic, seedable, good enough for scenarios.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A room with every feature the rules care about: a linear distance model, a stage, a private
/// booth, seats and spawn points (one on the stage, one in the booth).
const MIXED_ROOM: &str = r#"
    name = "mixed"
    capacity = 40
    audible_range = 14.0
    bounds = { min = [0.0, 0.0, 0.0], max = [30.0, 4.0, 30.0] }

    [audio]
    distance_model = "linear"
    ref_distance = 1.5
    max_distance = 16.0
    rolloff_factor = 0.9

    [[spawn_points]]
    position = [5.0, 0.0, 5.0]
    [[spawn_points]]
    position = [15.0, 0.0, 12.0]
    [[spawn_points]]
    label = "booth"
    position = [24.0, 0.0, 20.0]
    [[spawn_points]]
    label = "stage"
    position = [15.0, 0.5, 28.0]

    [[seats]]
    position = [10.0, 0.0, 10.0]
    [[seats]]
    position = [11.0, 0.0, 10.0]
    [[seats]]
    position = [25.0, 0.0, 21.0]

    [[zones]]
    name = "Booth"
    kind = "private"
    min = [22.0, 18.0]
    max = [27.0, 23.0]

    [[zones]]
    name = "Stage"
    kind = "stage"
    min = [5.0, 26.0]
    max = [25.0, 30.0]
"#;

/// An open hall for a crowd larger than `max_visible`, with spawn points scattered irregularly
/// (walkers only: no two avatars ever share a spot or an exact distance, so "the nearest" is
/// never a tie).
fn hall() -> RoomTemplate {
    let mut text = String::from(
        "name = \"hall\"\ncapacity = 100\naudible_range = 10.0\n\
         bounds = { min = [-20.0, 0.0, -20.0], max = [20.0, 3.0, 20.0] }\n\
         [audio]\ndistance_model = \"inverse\"\nref_distance = 0.8\nrolloff_factor = 1.3\n",
    );
    let mut rng = Rng(0x5eed);
    for _ in 0..40 {
        let (x, z) = (rng.range(-16.0, 16.0), rng.range(-16.0, 16.0));
        text.push_str(&format!("[[spawn_points]]\nposition = [{x}, 0.0, {z}]\n"));
    }
    RoomTemplate::from_toml(&text).expect("valid hall")
}

/// What the server remembers per client, as `docs/spatial.md` §7 describes it.
#[derive(Default)]
struct ServerModel {
    acked: Option<Tick>,
    sent: VecDeque<Tick>,
    last_sent: Option<Tick>,
}

impl ServerModel {
    fn ack(&mut self, tick: Tick) {
        if self.acked.is_some_and(|a| a >= tick) {
            return;
        }
        if let Some(i) = self.sent.iter().position(|t| *t == tick) {
            self.sent.drain(..=i);
            self.acked = Some(tick);
        }
    }
}

struct Client {
    id: ClientId,
    room: usize,
    /// Whether the client may teleport (not in the crowded hall: teleports stack avatars).
    teleports: bool,
    avatar: Option<AvatarId>,
    /// Rejoin at this tick after a leave.
    rejoin_at: Option<Tick>,
    views: BTreeMap<Tick, View>,
    book: BTreeMap<AvatarId, f32>,
    server: ServerModel,
    /// Acknowledgements on their way: (submit before the step of this tick, acknowledged tick).
    acks: Vec<(Tick, Tick)>,
}

struct Truth {
    client: ClientId,
    avatar: AvatarId,
    position: Vec3,
    yaw: f32,
    seated: bool,
}

fn state_of(t: &Truth, template: &RoomTemplate) -> AvatarState {
    let zones = template.zone_presence(t.position);
    let mut bits = 0;
    if zones.on_stage {
        bits |= flags::ON_STAGE;
    }
    if t.seated {
        bits |= flags::SEATED;
    }
    if zones.private_zone.is_some() {
        bits |= flags::IN_PRIVATE_ZONE;
    }
    let [x, y, z] = quantize_position(&template.bounds, t.position);
    AvatarState {
        id: t.avatar,
        x,
        y,
        z,
        yaw: quantize_yaw(t.yaw),
        flags: bits,
    }
}

/// Interest by brute force: self, then stage broadcasters, then everyone within the AOI radius
/// (floor distance), nearest first, at most `max_visible`; ordered by avatar id.
fn expected_interest(
    config: &SpatialConfig,
    template: &RoomTemplate,
    everyone: &[Truth],
    viewer: &Truth,
) -> Vec<AvatarId> {
    let mut ranked: Vec<((u64, u32), AvatarId)> = Vec::new();
    for other in everyone {
        if other.avatar == viewer.avatar {
            ranked.push(((0, 0), other.avatar));
            continue;
        }
        let zones = template.zone_presence(other.position);
        if zones.on_stage && zones.private_zone.is_none() {
            let d = other.position.distance_squared(viewer.position);
            ranked.push(((1, d.to_bits()), other.avatar));
            continue;
        }
        let dx = other.position.x - viewer.position.x;
        let dz = other.position.z - viewer.position.z;
        let d = dx * dx + dz * dz;
        if d <= config.aoi_radius * config.aoi_radius {
            ranked.push(((2, d.to_bits()), other.avatar));
        }
    }
    ranked.sort();
    if ranked.len() > config.max_visible {
        assert_ne!(
            ranked[config.max_visible - 1].0,
            ranked[config.max_visible].0,
            "scenario produced a tie at the visibility cut"
        );
        ranked.truncate(config.max_visible);
    }
    let mut ids: Vec<AvatarId> = ranked.into_iter().map(|(_, id)| id).collect();
    ids.sort();
    ids
}

/// The gain update the rules demand, applied to the client's book.
fn expected_gains(
    config: &SpatialConfig,
    template: &RoomTemplate,
    everyone: &[Truth],
    listener: &Truth,
    visible: &[AvatarId],
    book: &mut BTreeMap<AvatarId, f32>,
) -> Vec<SourceGain> {
    let here = template.zone_presence(listener.position);
    let mut current = BTreeMap::new();
    for id in visible {
        if *id == listener.avatar {
            continue;
        }
        let source = everyone.iter().find(|t| t.avatar == *id).expect("visible");
        let gain = source_gain(
            &template.audio,
            template.audible_range,
            listener.position,
            here,
            source.position,
            source.yaw,
            template.zone_presence(source.position),
        );
        if gain >= config.min_audible_gain {
            current.insert(*id, gain);
        }
    }
    let mut changes = Vec::new();
    let ids: std::collections::BTreeSet<AvatarId> =
        book.keys().chain(current.keys()).copied().collect();
    for id in ids {
        match (book.get(&id).copied(), current.get(&id).copied()) {
            (Some(old), Some(new)) if (new - old).abs() <= config.gain_threshold => {}
            (_, Some(new)) => {
                changes.push(SourceGain {
                    avatar: id,
                    gain: new,
                });
                book.insert(id, new);
            }
            (Some(_), None) => {
                changes.push(SourceGain {
                    avatar: id,
                    gain: 0.0,
                });
                book.remove(&id);
            }
            (None, None) => {}
        }
    }
    changes
}

fn outputs_for(out: &TickOutputs, client: ClientId) -> Vec<&SpatialOutput> {
    out.outputs
        .iter()
        .filter(|a| a.client == client)
        .map(|a| &a.output)
        .collect()
}

struct Scenario {
    rng: Rng,
    config: SpatialConfig,
    sim: Simulation,
    rooms: Vec<(RoomId, Arc<RoomTemplate>)>,
    clients: Vec<Client>,
    checked_snapshots: usize,
    checked_gains: usize,
    full_snapshots: usize,
    split_snapshots: usize,
}

impl Scenario {
    fn new(seed: u64, config: SpatialConfig) -> Self {
        let mut sim = Simulation::new(config.clone()).expect("valid config");
        let rooms: Vec<(RoomId, Arc<RoomTemplate>)> = [
            Arc::new(RoomTemplate::from_toml(MIXED_ROOM).expect("valid")),
            template("gallery"),
            Arc::new(hall()),
        ]
        .into_iter()
        .map(|t| (RoomId::new(), t))
        .collect();
        for (room, template) in &rooms {
            sim.submit(SpatialInput::CreateRoom {
                room: *room,
                template: Arc::clone(template),
            });
        }
        sim.step();
        let mut clients = Vec::new();
        for (room, count, teleports) in [(0, 14, true), (1, 10, true), (2, 36, false)] {
            for _ in 0..count {
                let id = ClientId::new();
                sim.submit(SpatialInput::Join {
                    client: id,
                    room: rooms[room].0,
                });
                clients.push(Client {
                    id,
                    room,
                    teleports,
                    avatar: None,
                    rejoin_at: None,
                    views: BTreeMap::new(),
                    book: BTreeMap::new(),
                    server: ServerModel::default(),
                    acks: Vec::new(),
                });
            }
        }
        Self {
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            config,
            sim,
            rooms,
            clients,
            checked_snapshots: 0,
            checked_gains: 0,
            full_snapshots: 0,
            split_snapshots: 0,
        }
    }

    /// Inputs for the next tick: moves, a few teleports, leaves and rejoins, due acks.
    fn drive(&mut self) {
        let next = self.sim.tick() + 1;
        for client in &mut self.clients {
            for (_, tick) in client.acks.iter().filter(|(at, _)| *at <= next) {
                self.sim.submit(SpatialInput::Ack {
                    client: client.id,
                    tick: *tick,
                });
            }
            client.acks.retain(|(at, _)| *at > next);
            if client.rejoin_at.is_some_and(|at| at <= next) {
                client.rejoin_at = None;
                self.sim.submit(SpatialInput::Join {
                    client: client.id,
                    room: self.rooms[client.room].0,
                });
                continue;
            }
            let Some(me) = self.sim.avatar(client.id) else {
                continue;
            };
            let template = &self.rooms[client.room].1;
            let roll = self.rng.unit();
            if roll < 0.8 {
                let step = Vec3::new(self.rng.range(-0.2, 0.2), 0.0, self.rng.range(-0.2, 0.2));
                let mut to = me.position + step;
                if !client.teleports {
                    // keep the crowd off the walls (clamping could stack two avatars)
                    to = to.clamp(Vec3::new(-17.0, 0.0, -17.0), Vec3::new(17.0, 0.0, 17.0));
                }
                let velocity = if self.rng.chance(0.3) {
                    Vec3::new(self.rng.range(-1.0, 1.0), 0.0, self.rng.range(-1.0, 1.0))
                } else {
                    Vec3::ZERO
                };
                self.sim.submit(SpatialInput::Avatar {
                    client: client.id,
                    input: AvatarInput::Move {
                        position: to,
                        yaw: me.yaw + self.rng.range(-0.4, 0.4),
                        velocity,
                    },
                });
            } else if roll < 0.83 && client.teleports {
                let targets: Vec<Vec3> = template
                    .seats
                    .iter()
                    .chain(&template.spawn_points)
                    .map(|p| p.position)
                    .collect();
                let to = targets[self.rng.below(targets.len())];
                self.sim.submit(SpatialInput::Avatar {
                    client: client.id,
                    input: AvatarInput::Teleport { to },
                });
            } else if roll < 0.845 && client.teleports {
                self.sim.submit(SpatialInput::Leave { client: client.id });
                client.rejoin_at = Some(next + 1 + self.rng.below(4) as Tick);
            } else if roll < 0.85 {
                // a reconnect: joining the room it is in restarts its streams
                self.sim.submit(SpatialInput::Join {
                    client: client.id,
                    room: self.rooms[client.room].0,
                });
            }
        }
    }

    /// Steps once and checks every client's outputs against the model.
    fn step_and_check(&mut self) {
        let out = self.sim.step();
        let now = out.tick;
        let config = self.config.clone();
        for client in &mut self.clients {
            for output in outputs_for(&out, client.id) {
                match output {
                    SpatialOutput::Joined(joined) => {
                        client.avatar = Some(joined.avatar);
                        client.views.clear();
                        client.book.clear();
                        client.server = ServerModel::default();
                        client.acks.clear();
                    }
                    SpatialOutput::Left { .. } => client.avatar = None,
                    SpatialOutput::JoinRefused { .. } => panic!("no join is refused here"),
                    _ => {}
                }
            }
        }
        for room in 0..self.rooms.len() {
            let template = Arc::clone(&self.rooms[room].1);
            let everyone: Vec<Truth> = self
                .clients
                .iter()
                .filter(|c| c.room == room && c.avatar.is_some())
                .map(|c| {
                    let info = self.sim.avatar(c.id).expect("joined clients have avatars");
                    assert_eq!(Some(info.avatar), c.avatar);
                    Truth {
                        client: c.id,
                        avatar: info.avatar,
                        position: info.position,
                        yaw: info.yaw,
                        seated: info.seat.is_some(),
                    }
                })
                .collect();
            for viewer in &everyone {
                let visible = expected_interest(&config, &template, &everyone, viewer);
                let client = self
                    .clients
                    .iter_mut()
                    .find(|c| c.id == viewer.client)
                    .expect("known client");
                let outputs = outputs_for(&out, client.id);

                // Gains.
                let expected = expected_gains(
                    &config,
                    &template,
                    &everyone,
                    viewer,
                    &visible,
                    &mut client.book,
                );
                let actual: Vec<SourceGain> = outputs
                    .iter()
                    .filter_map(|o| match o {
                        SpatialOutput::Gains(g) => Some(g.gains.clone()),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                assert_eq!(
                    actual, expected,
                    "gains of {:?} at tick {now}",
                    viewer.avatar
                );
                self.checked_gains += 1;

                // Snapshot.
                let states: Vec<AvatarState> = visible
                    .iter()
                    .map(|id| {
                        let t = everyone.iter().find(|t| t.avatar == *id).expect("visible");
                        state_of(t, &template)
                    })
                    .collect();
                let view = View::from_states(states);
                let server = &mut client.server;
                if server
                    .acked
                    .is_some_and(|a| now.saturating_sub(a) > config.ack_window)
                {
                    server.acked = None;
                }
                let baseline = server.acked.map(|tick| (tick, &client.views[&tick]));
                let (removed, changes) = diff(baseline.map(|(_, v)| v), &view);
                let due = !removed.is_empty()
                    || !changes.is_empty()
                    || server.acked.is_none()
                    || server
                        .last_sent
                        .is_none_or(|t| now - t >= config.snapshot_keepalive_ticks);
                let actual = outputs.iter().find_map(|o| match o {
                    SpatialOutput::Snapshot(s) => Some(s.snapshot.clone()),
                    _ => None,
                });
                if !due {
                    assert!(actual.is_none(), "nothing was due for {:?}", viewer.avatar);
                    continue;
                }
                let expected = encode_snapshot(
                    now,
                    server.acked,
                    &removed,
                    &changes,
                    config.max_datagram_bytes,
                    config.max_datagram_parts,
                );
                let actual = actual.expect("a snapshot was due");
                assert_eq!(
                    actual, expected,
                    "snapshot of {:?} at tick {now}",
                    viewer.avatar
                );
                self.checked_snapshots += 1;
                if expected.baseline.is_none() {
                    self.full_snapshots += 1;
                }
                if expected.parts.len() > 1 {
                    self.split_snapshots += 1;
                }
                while server
                    .sent
                    .front()
                    .is_some_and(|t| now - t > config.ack_window)
                {
                    server.sent.pop_front();
                }
                server.sent.push_back(now);
                server.last_sent = Some(now);

                // The network: a tenth of snapshots are lost, a fifth of acks, the rest arrive
                // after 0–2 ticks.
                if self.rng.chance(0.1) {
                    continue;
                }
                let parts: Vec<_> = actual
                    .parts
                    .iter()
                    .map(|bytes| decode_part(bytes).expect("server snapshots decode"))
                    .collect();
                let rebuilt = apply_snapshot(|tick| client.views.get(&tick), &parts)
                    .expect("the client holds the baseline");
                assert_eq!(rebuilt, view);
                client.views.insert(now, rebuilt);
                let oldest = now.saturating_sub(config.ack_window + 2);
                client.views.retain(|t, _| *t >= oldest);
                if !self.rng.chance(0.2) {
                    let delay = self.rng.below(3) as Tick;
                    client.acks.push((now + 1 + delay, now));
                }
            }
        }
        // The model's copy of the server's acknowledgement handling, applied in the order the
        // acks will be submitted.
        let next = now + 1;
        for client in &mut self.clients {
            for (_, tick) in client.acks.iter().filter(|(at, _)| *at <= next) {
                client.server.ack(*tick);
            }
        }
    }
}

fn run(seed: u64, config: SpatialConfig, ticks: usize) -> Scenario {
    let mut scenario = Scenario::new(seed, config);
    for _ in 0..ticks {
        scenario.drive();
        scenario.step_and_check();
    }
    scenario
}

fn config() -> SpatialConfig {
    SpatialConfig {
        aoi_radius: 12.0,
        grid_cell_size: 4.0,
        max_visible: 16,
        ack_window: 8,
        snapshot_keepalive_ticks: 5,
        ..SpatialConfig::default()
    }
}

#[test]
fn the_simulation_matches_the_brute_force_model() {
    for seed in 1..=3 {
        let s = run(seed, config(), 150);
        assert!(s.checked_snapshots > 5_000, "{}", s.checked_snapshots);
        assert!(s.checked_gains > 5_000);
        assert!(s.full_snapshots > 50, "joins, rejoins and stale acks");
    }
}

#[test]
fn the_model_holds_with_small_datagrams_and_streams() {
    let config = SpatialConfig {
        max_datagram_bytes: 80,
        max_datagram_parts: 3,
        ..config()
    };
    let s = run(7, config, 80);
    assert!(s.split_snapshots > 100, "{}", s.split_snapshots);
}

#[test]
fn the_model_holds_with_coarse_grids_and_wide_thresholds() {
    let config = SpatialConfig {
        aoi_radius: 25.0,
        grid_cell_size: 25.0,
        max_visible: 64,
        gain_threshold: 0.2,
        min_audible_gain: 0.05,
        ..config()
    };
    run(11, config, 80);
}
