//! The simulation driven tick by tick, as the engine will drive it, checked from the clients'
//! side: what they are told, what they can reconstruct, what they hear.

mod common;

use std::f32::consts::PI;
use std::sync::Arc;

use atrium_spatial::audio::{DistanceModel, distance_gain, facing, panner_gain};
use atrium_spatial::snapshot::Delivery;
use atrium_spatial::{
    AvatarInput, ClientId, CorrectionReason, JoinRefusal, RoomEvent, RoomId, RoomNotice,
    RoomTemplate, SpatialConfig, SpatialInput, SpatialOutput, TickOutputs, TickStep,
};
use common::*;
use glam::Vec3;

fn join(sim: &mut atrium_spatial::Simulation, room: RoomId, clients: &[ClientId]) -> TickOutputs {
    for client in clients {
        sim.submit(SpatialInput::Join {
            client: *client,
            room,
        });
    }
    sim.step()
}

fn move_to(sim: &mut atrium_spatial::Simulation, client: ClientId, position: Vec3, yaw: f32) {
    sim.submit(SpatialInput::Avatar {
        client,
        input: AvatarInput::Move {
            position,
            yaw,
            velocity: Vec3::ZERO,
        },
    });
}

/// Walks an avatar to `target` in legal steps (one per tick), stepping the simulation; returns
/// the outputs of every tick on the way.
fn walk_to(
    sim: &mut atrium_spatial::Simulation,
    client: ClientId,
    target: Vec3,
    yaw: f32,
) -> Vec<TickOutputs> {
    let mut outputs = Vec::new();
    for _ in 0..1000 {
        let here = sim.avatar(client).expect("avatar").position;
        if here.distance(target) < 1e-4 {
            return outputs;
        }
        let step = (target - here).clamp_length_max(0.25);
        move_to(sim, client, here + step, yaw);
        outputs.push(sim.step());
    }
    panic!("could not walk to {target}");
}

fn corrections(outputs: &TickOutputs, client: ClientId) -> Vec<CorrectionReason> {
    for_client(outputs, client)
        .into_iter()
        .filter_map(|o| match o {
            SpatialOutput::Correction(c) => Some(c.reasons.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn events(outputs: &TickOutputs, client: ClientId) -> Vec<RoomEvent> {
    for_client(outputs, client)
        .into_iter()
        .filter_map(|o| match o {
            SpatialOutput::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn two_clients_join_a_theater_and_see_each_other_move_every_tick() {
    let mut sim = simulation(SpatialConfig::default());
    let room = open_room(&mut sim, "theater");
    let theater = template("theater");
    let (a, b) = (ClientId::new(), ClientId::new());
    let out = join(&mut sim, room, &[a, b]);

    let joined_a = joined(&out, a).expect("a joined");
    let joined_b = joined(&out, b).expect("b joined");
    assert_eq!(joined_a.seat, Some(0), "theater seats arrivals");
    assert_eq!(joined_b.seat, Some(1));
    assert_eq!(joined_a.template.name, "theater");
    assert!(events(&out, a).contains(&RoomEvent::Joined {
        room,
        avatar: joined_b.avatar,
        client: b
    }));
    let who = [(a, joined_a.avatar), (b, joined_b.avatar)];

    let (mut mirror_a, mut mirror_b) = (Mirror::new(a), Mirror::new(b));
    for mirror in [&mut mirror_a, &mut mirror_b] {
        mirror.receive(&out).unwrap();
        assert!(mirror.sees(joined_a.avatar) && mirror.sees(joined_b.avatar));
        let encoded = snapshot(&out, mirror.client).unwrap();
        assert_eq!(encoded.baseline, None, "the first snapshot is full");
    }

    // a walks along its row at 5 m/s; every tick both clients get a snapshot and acknowledge.
    let mut position = joined_a.position;
    let mut stood = false;
    for _ in 0..10 {
        position.x += 0.25;
        sim.submit(SpatialInput::Avatar {
            client: a,
            input: AvatarInput::Move {
                position,
                yaw: PI,
                velocity: Vec3::ZERO,
            },
        });
        let out = sim.step();
        assert!(
            corrections(&out, a).is_empty(),
            "legal moves are not corrected"
        );
        stood |= events(&out, b)
            .iter()
            .any(|e| matches!(e, RoomEvent::Stood { seat: 0, .. }));
        for mirror in [&mut mirror_a, &mut mirror_b] {
            let tick = mirror
                .receive(&out)
                .unwrap()
                .expect("a moving avatar means a snapshot");
            assert_eq!(tick, out.tick);
            assert_view_matches(&sim, mirror.latest_view(), &who, &theater);
            sim.submit(SpatialInput::Ack {
                client: mirror.client,
                tick,
            });
        }
    }
    assert!(stood, "walking away from a seat frees it");
    assert_eq!(sim.avatar(a).unwrap().seat, None);
    assert_eq!(sim.stats().corrections, 0);
}

#[test]
fn invalid_inputs_are_corrected_counted_and_reported() {
    let config = SpatialConfig::default();
    let max_speed = config.max_speed;
    let mut sim = simulation(config);
    let room = open_room(&mut sim, "conference");
    let conference = template("conference");
    let (a, b) = (ClientId::new(), ClientId::new());
    join(&mut sim, room, &[a, b]);
    let start = sim.avatar(a).unwrap();
    assert_eq!(start.seat, Some(0));

    // Too fast: the velocity is scaled down to the maximum speed.
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Move {
            position: start.position,
            yaw: 0.0,
            velocity: Vec3::new(100.0, 0.0, 0.0),
        },
    });
    let out = sim.step();
    assert_eq!(corrections(&out, a), [CorrectionReason::SpeedClamped]);
    let now = sim.avatar(a).unwrap();
    assert!((now.velocity.length() - max_speed).abs() < 1e-4);

    // Out of the room (and too far): clamped to the walls and to walking distance.
    move_to(&mut sim, a, Vec3::new(50.0, 0.0, 0.0), 0.0);
    let out = sim.step();
    let reasons = corrections(&out, a);
    assert!(reasons.contains(&CorrectionReason::OutOfBounds));
    assert!(reasons.contains(&CorrectionReason::TooFast));
    let now = sim.avatar(a).unwrap();
    assert!(conference.bounds.contains(now.position));
    // The correction tells the client the authoritative pose.
    let correction = for_client(&out, a)
        .into_iter()
        .find_map(|o| match o {
            SpatialOutput::Correction(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(correction.position, now.position);

    // A bogus teleport is refused and the avatar stays put.
    let before = sim.avatar(a).unwrap().position;
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Teleport {
            to: Vec3::new(5.0, 0.0, -3.0),
        },
    });
    let out = sim.step();
    assert_eq!(corrections(&out, a), [CorrectionReason::TeleportRefused]);
    assert_eq!(sim.avatar(a).unwrap().position, before);

    // A teleport onto b's seat is refused; onto a free seat it snaps exactly.
    let b_seat = sim.avatar(b).unwrap().seat.unwrap();
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Teleport {
            to: conference.seats[usize::from(b_seat)].position,
        },
    });
    let out = sim.step();
    assert_eq!(corrections(&out, a), [CorrectionReason::SeatTaken]);
    let free = conference.seats[5].position + Vec3::new(0.2, 0.0, 0.0);
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Teleport { to: free },
    });
    let out = sim.step();
    assert!(corrections(&out, a).is_empty());
    let seated = sim.avatar(a).unwrap();
    assert_eq!(seated.seat, Some(5));
    assert_eq!(seated.position, conference.seats[5].position);
    assert!(events(&out, b).contains(&RoomEvent::Seated {
        room,
        avatar: seated.avatar,
        seat: 5
    }));

    // NaN is ignored outright.
    move_to(&mut sim, a, Vec3::new(f32::NAN, 0.0, 0.0), 0.0);
    let out = sim.step();
    assert_eq!(corrections(&out, a), [CorrectionReason::NonFinite]);
    assert_eq!(
        sim.avatar(a).unwrap().position,
        conference.seats[5].position
    );

    // Every reason was counted.
    assert_eq!(sim.stats().corrections, 6);
}

#[test]
fn a_teleport_discards_the_moves_before_it_and_keeps_the_ones_after_it_in_the_same_tick() {
    let mut sim = simulation(SpatialConfig::default());
    let room = open_room(&mut sim, "conference");
    let conference = template("conference");
    let a = ClientId::new();
    join(&mut sim, room, &[a]);
    let seat = sim.avatar(a).unwrap().position;
    let spawn = conference.spawn_points[0].position;
    assert!(
        spawn.distance(seat) > 1.0,
        "the test needs a far spawn point"
    );

    // A step near the seat, then a teleport, within one tick: the teleport wins outright.
    move_to(&mut sim, a, seat + Vec3::new(0.05, 0.0, 0.0), 0.3);
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Teleport { to: spawn },
    });
    let out = sim.step();
    assert!(
        corrections(&out, a).is_empty(),
        "{:?}",
        corrections(&out, a)
    );
    let now = sim.avatar(a).unwrap();
    assert_eq!(
        now.position, spawn,
        "the earlier move must not drag the avatar back"
    );
    assert_eq!(now.seat, None);

    // A teleport back to the seat, then a small turn there: both apply, in that order.
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Teleport { to: seat },
    });
    move_to(&mut sim, a, seat, 1.25);
    let out = sim.step();
    assert!(
        corrections(&out, a).is_empty(),
        "{:?}",
        corrections(&out, a)
    );
    let now = sim.avatar(a).unwrap();
    assert_eq!(now.position, seat);
    assert!(
        (now.yaw - 1.25).abs() < 1e-5,
        "the later move applies: yaw {}",
        now.yaw
    );
    assert_eq!(sim.stats().corrections, 0);
}

#[test]
fn interest_holds_near_and_stage_avatars_but_not_far_ones_and_the_stage_is_heard_by_all() {
    let config = SpatialConfig {
        aoi_radius: 6.0,
        grid_cell_size: 3.0,
        ..SpatialConfig::default()
    };
    let mut sim = simulation(config);
    let room = open_room(&mut sim, "theater");
    let theater = template("theater");
    let clients: Vec<ClientId> = (0..4).map(|_| ClientId::new()).collect();
    let (a, b, speaker, far) = (clients[0], clients[1], clients[2], clients[3]);
    let joined_out = join(&mut sim, room, &clients);
    // speaker goes on stage, far takes the last seat of the last row
    sim.submit(SpatialInput::Avatar {
        client: speaker,
        input: AvatarInput::Teleport {
            to: theater.spawn_points[1].position,
        },
    });
    sim.submit(SpatialInput::Avatar {
        client: far,
        input: AvatarInput::Teleport {
            to: theater.seats[71].position,
        },
    });
    let out = sim.step();
    assert!(corrections(&out, speaker).is_empty() && corrections(&out, far).is_empty());
    let id = |c: ClientId| sim.avatar(c).unwrap().avatar;

    let mut mirror = Mirror::new(a);
    mirror.receive(&out).unwrap();
    assert!(mirror.sees(id(a)), "a client sees itself");
    assert!(mirror.sees(id(b)), "a neighbour 2 m away is in the AOI");
    assert!(
        mirror.sees(id(speaker)),
        "the stage is visible from anywhere"
    );
    assert!(!mirror.sees(id(far)), "someone 24 m away is not");
    let stage_state = mirror.latest_view().get(id(speaker)).unwrap();
    assert_ne!(
        stage_state.flags & atrium_spatial::snapshot::flags::ON_STAGE,
        0
    );

    // Gains: the neighbour through the theater's inverse model, the stage at full gain.
    let mut book = GainBook::default();
    book.update(&joined_out, a);
    book.update(&out, a);
    // inverse, ref 1, rolloff 1.5, 2 m: 1 / (1 + 1.5 × (2 − 1)) = 0.4
    assert!((book.get(id(b)).unwrap() - 0.4).abs() < 1e-6);
    assert_eq!(book.get(id(speaker)), Some(1.0));
    assert_eq!(book.get(id(far)), None, "out of the AOI: silenced");
    // The far listener hears the stage too, at full gain.
    let far_heard = gains(&out, far).expect("the stage reaches the back row");
    assert!(
        far_heard
            .gains
            .iter()
            .any(|g| g.avatar == id(speaker) && g.gain == 1.0)
    );
}

const BOOTH_ROOM: &str = r#"
    name = "booths"
    capacity = 10
    audible_range = 30.0
    bounds = { min = [0.0, 0.0, 0.0], max = [20.0, 4.0, 20.0] }

    [audio]
    distance_model = "exponential"
    ref_distance = 1.0
    rolloff_factor = 1.2
    cone_inner_angle = 180.0
    cone_outer_angle = 300.0
    cone_outer_gain = 0.3

    [[spawn_points]]
    position = [2.0, 0.0, 2.0]
    [[spawn_points]]
    label = "booth"
    position = [10.0, 0.0, 10.0]
    [[spawn_points]]
    position = [2.0, 0.0, 6.0]
    [[spawn_points]]
    label = "stage"
    position = [10.0, 0.0, 18.0]

    [[zones]]
    name = "Booth"
    kind = "private"
    min = [8.0, 8.0]
    max = [12.0, 12.0]

    [[zones]]
    name = "Stage"
    kind = "stage"
    min = [0.0, 16.0]
    max = [20.0, 20.0]
"#;

fn custom_room(sim: &mut atrium_spatial::Simulation, text: &str) -> (RoomId, Arc<RoomTemplate>) {
    let template = Arc::new(RoomTemplate::from_toml(text).expect("valid custom template"));
    let room = RoomId::new();
    sim.submit(SpatialInput::CreateRoom {
        room,
        template: Arc::clone(&template),
    });
    let out = sim.step();
    assert_eq!(out.notices, [RoomNotice::Created { room }]);
    (room, template)
}

#[test]
fn gains_equal_the_panner_formula_and_private_zones_isolate() {
    let mut sim = simulation(SpatialConfig::default());
    let (room, booths) = custom_room(&mut sim, BOOTH_ROOM);
    let (a, b, c) = (ClientId::new(), ClientId::new(), ClientId::new());
    let out = join(&mut sim, room, &[a, b, c]); // spawns: a (2,2), b in the booth, c (2,6)
    assert_eq!(sim.avatar(b).unwrap().position, Vec3::new(10.0, 0.0, 10.0));
    let id = |sim: &atrium_spatial::Simulation, c: ClientId| sim.avatar(c).unwrap().avatar;
    let (mut book_a, mut book_b, mut book_c) = (
        GainBook::default(),
        GainBook::default(),
        GainBook::default(),
    );
    let listen = |out: &TickOutputs, books: (&mut GainBook, &mut GainBook, &mut GainBook)| {
        books.0.update(out, a);
        books.1.update(out, b);
        books.2.update(out, c);
    };
    listen(&out, (&mut book_a, &mut book_b, &mut book_c));

    // a faces +Z (towards c), c faces −Z (towards a): both on axis, 4 m apart.
    move_to(&mut sim, a, Vec3::new(2.0, 0.0, 2.0), PI);
    move_to(&mut sim, c, Vec3::new(2.0, 0.0, 6.0), 0.0);
    let out = sim.step();
    listen(&out, (&mut book_a, &mut book_b, &mut book_c));
    let c_gain = book_a.get(id(&sim, c)).expect("a hears c");
    // exponential: (4 / 1)^-1.2, cone on axis = 1
    let expected = 4f64.powf(-1.2);
    assert!(
        (f64::from(c_gain) - expected).abs() < 1e-6,
        "{c_gain} vs {expected}"
    );
    assert_eq!(book_a.get(id(&sim, b)), None, "the booth is private");
    assert!(
        book_b.0.is_empty(),
        "nobody else is in the booth: b hears no one"
    );

    // c turns its back on a: 180° off axis, beyond the 150° outer half-angle → coneOuterGain.
    move_to(&mut sim, c, Vec3::new(2.0, 0.0, 6.0), PI);
    let out = sim.step();
    assert!(gains(&out, a).is_some(), "the change exceeds the threshold");
    listen(&out, (&mut book_a, &mut book_b, &mut book_c));
    let c_gain = book_a.get(id(&sim, c)).unwrap();
    let direct = panner_gain(
        &booths.audio,
        Vec3::new(2.0, 0.0, 6.0).as_dvec3(),
        facing(PI).as_dvec3(),
        Vec3::new(2.0, 0.0, 2.0).as_dvec3(),
    );
    assert!((f64::from(c_gain) - direct).abs() < 1e-6);
    assert!((direct - 0.3 * expected).abs() < 1e-9);
    assert_eq!(booths.audio.distance_model, DistanceModel::Exponential);
    assert!((distance_gain(&booths.audio, 4.0) - expected).abs() < 1e-12);

    // Unchanged gains are not re-sent.
    let out = sim.step();
    assert!(gains(&out, a).is_none());

    // c walks into the booth: a loses c, b and c hear each other.
    for out in walk_to(&mut sim, c, Vec3::new(10.0, 0.0, 9.0), 0.0) {
        listen(&out, (&mut book_a, &mut book_b, &mut book_c));
    }
    assert!(
        booths
            .zone_presence(sim.avatar(c).unwrap().position)
            .private_zone
            .is_some()
    );
    assert_eq!(book_a.get(id(&sim, c)), None);
    assert!(book_b.get(id(&sim, c)).is_some());
    assert!(book_c.get(id(&sim, b)).is_some());
    assert_eq!(book_c.get(id(&sim, a)), None);

    // A speaker on the stage is heard by everyone outside private zones — not inside.
    sim.submit(SpatialInput::Avatar {
        client: a,
        input: AvatarInput::Teleport {
            to: Vec3::new(10.0, 0.0, 18.0),
        },
    });
    let out = sim.step();
    assert!(corrections(&out, a).is_empty());
    listen(&out, (&mut book_a, &mut book_b, &mut book_c));
    assert_eq!(
        book_b.get(id(&sim, a)),
        None,
        "the booth does not hear the stage"
    );
    assert_eq!(book_c.get(id(&sim, a)), None);
}

#[test]
fn gains_inside_a_private_zone_reach_only_its_occupants() {
    let mut sim = simulation(SpatialConfig::default());
    let (room, _) = custom_room(&mut sim, BOOTH_ROOM);
    let (a, b, c) = (ClientId::new(), ClientId::new(), ClientId::new());
    join(&mut sim, room, &[a, b, c]); // b is in the booth
    // c teleports into the booth (the booth spawn point)
    sim.submit(SpatialInput::Avatar {
        client: c,
        input: AvatarInput::Teleport {
            to: Vec3::new(10.0, 0.0, 10.0),
        },
    });
    let out = sim.step();
    let ids = |c: ClientId| sim.avatar(c).unwrap().avatar;
    let b_gains = gains(&out, b).expect("b now hears c");
    assert_eq!(b_gains.gains.len(), 1);
    assert_eq!(b_gains.gains[0].avatar, ids(c));
    assert_eq!(
        b_gains.gains[0].gain, 1.0,
        "same spot: inside refDistance, cone on axis"
    );
    let a_gains = gains(&out, a).expect("a is told c fell silent");
    assert_eq!(a_gains.gains.len(), 1);
    assert_eq!(
        (a_gains.gains[0].avatar, a_gains.gains[0].gain),
        (ids(c), 0.0)
    );
}

#[test]
fn delta_snapshots_survive_lost_acks_and_lost_datagrams() {
    let config = SpatialConfig {
        ack_window: 10,
        aoi_radius: 50.0, // the gallery's spawn points are far apart
        grid_cell_size: 10.0,
        ..SpatialConfig::default()
    };
    let mut sim = simulation(config);
    let room = open_room(&mut sim, "gallery");
    let gallery = template("gallery");
    let (a, b) = (ClientId::new(), ClientId::new());
    let out = join(&mut sim, room, &[a, b]);
    let who = [
        (a, joined(&out, a).unwrap().avatar),
        (b, joined(&out, b).unwrap().avatar),
    ];
    let mut mirror = Mirror::new(a);
    let first = mirror.receive(&out).unwrap().unwrap();
    sim.submit(SpatialInput::Ack {
        client: a,
        tick: first,
    });

    let mut b_pos = sim.avatar(b).unwrap().position;
    let mut baselines = Vec::new();
    for step in 0..40u32 {
        // b keeps walking (so there is always something to send)
        b_pos.x += if step % 2 == 0 { 0.2 } else { -0.1 };
        move_to(&mut sim, b, b_pos, step as f32 * 0.1);
        let out = sim.step();
        // datagrams of ticks 5 and 6 are lost on the way to a
        let lost = (5..=6).contains(&step);
        if lost {
            continue;
        }
        let tick = mirror.receive(&out).unwrap().expect("b moved");
        baselines.push(snapshot(&out, a).unwrap().baseline);
        assert_view_matches(&sim, mirror.latest_view(), &who, &gallery);
        // acks are lost for steps 2..=8 and again from 20 on (long enough to age out)
        let ack_lost = (2..=8).contains(&step) || step >= 20;
        if !ack_lost {
            sim.submit(SpatialInput::Ack { client: a, tick });
        }
    }
    // While acks were lost, snapshots kept coding against the last acknowledged tick.
    assert!(baselines.iter().any(Option::is_some));
    // After acks stopped for longer than the window, a full snapshot was sent.
    assert!(
        baselines[baselines.len() - 5..].iter().any(Option::is_none),
        "{baselines:?}"
    );
    // A bogus ack (a tick never sent) is ignored and counted.
    let ignored = sim.stats().ignored_inputs;
    sim.submit(SpatialInput::Ack {
        client: a,
        tick: 999_999,
    });
    sim.step();
    assert_eq!(sim.stats().ignored_inputs, ignored + 1);
}

#[test]
fn quiet_rooms_send_keepalives_not_snapshots_every_tick() {
    let config = SpatialConfig {
        snapshot_keepalive_ticks: 5,
        ..SpatialConfig::default()
    };
    let mut sim = simulation(config);
    let room = open_room(&mut sim, "conference");
    let a = ClientId::new();
    let out = join(&mut sim, room, &[a]);
    let mut mirror = Mirror::new(a);
    let tick = mirror.receive(&out).unwrap().unwrap();
    sim.submit(SpatialInput::Ack { client: a, tick });
    let mut sent = 0;
    for _ in 0..10 {
        let out = sim.step();
        if let Some(tick) = mirror.receive(&out).unwrap() {
            sent += 1;
            sim.submit(SpatialInput::Ack { client: a, tick });
        }
    }
    assert_eq!(sent, 2, "one keepalive every 5 ticks");
}

#[test]
fn crowded_views_split_into_datagram_parts_or_go_to_a_stream() {
    for (max_parts, delivery) in [(255, Delivery::Datagrams), (2, Delivery::Stream)] {
        let config = SpatialConfig {
            max_datagram_bytes: 64,
            max_datagram_parts: max_parts,
            aoi_radius: 40.0, // everyone in the theater
            grid_cell_size: 10.0,
            ..SpatialConfig::default()
        };
        let mut sim = simulation(config);
        let room = open_room(&mut sim, "theater");
        let clients: Vec<ClientId> = (0..40).map(|_| ClientId::new()).collect();
        let out = join(&mut sim, room, &clients);
        let encoded = snapshot(&out, clients[0]).unwrap();
        assert_eq!(encoded.delivery, delivery);
        if delivery == Delivery::Datagrams {
            assert!(encoded.parts.len() > 3);
            assert!(encoded.parts.iter().all(|p| p.len() <= 64));
        } else {
            assert_eq!(encoded.parts.len(), 1);
        }
        let mut mirror = Mirror::new(clients[0]);
        mirror.receive(&out).unwrap();
        assert_eq!(mirror.latest_view().len(), 40);
    }
}

#[test]
fn capacity_unknown_rooms_leaving_and_closing() {
    let mut sim = simulation(SpatialConfig::default());
    let tiny = BOOTH_ROOM.replace("capacity = 10", "capacity = 2");
    let (room, _) = custom_room(&mut sim, &tiny);
    let (a, b, c) = (ClientId::new(), ClientId::new(), ClientId::new());
    let out = join(&mut sim, room, &[a, b, c]);
    assert!(joined(&out, a).is_some() && joined(&out, b).is_some());
    let refused = |out: &TickOutputs, client| {
        for_client(out, client).into_iter().find_map(|o| match o {
            SpatialOutput::JoinRefused { reason, .. } => Some(*reason),
            _ => None,
        })
    };
    assert_eq!(refused(&out, c), Some(JoinRefusal::RoomFull));
    assert_eq!(sim.occupants(room), Some(2));

    let out = join(&mut sim, RoomId::new(), &[c]);
    assert_eq!(refused(&out, c), Some(JoinRefusal::UnknownRoom));

    // b leaves: b is told, a sees the event, c can now enter.
    let b_avatar = sim.avatar(b).unwrap().avatar;
    sim.submit(SpatialInput::Leave { client: b });
    sim.submit(SpatialInput::Join { client: c, room });
    let out = sim.step();
    assert!(
        for_client(&out, b)
            .iter()
            .any(|o| matches!(o, SpatialOutput::Left { room: r } if *r == room))
    );
    assert!(events(&out, a).contains(&RoomEvent::Left {
        room,
        avatar: b_avatar
    }));
    let c_joined = joined(&out, c).expect("a place was free");
    assert!(c_joined.avatar > b_avatar, "avatar numbers are not reused");

    // Joining the same room again re-sends the join and a full snapshot.
    let out = join(&mut sim, room, &[a]);
    assert!(joined(&out, a).is_some());
    assert_eq!(snapshot(&out, a).unwrap().baseline, None);

    // Closing the room tells everyone and removes the avatars.
    sim.submit(SpatialInput::CloseRoom { room });
    let out = sim.step();
    assert_eq!(out.notices, [RoomNotice::Closed { room }]);
    for client in [a, c] {
        assert!(
            for_client(&out, client)
                .iter()
                .any(|o| matches!(o, SpatialOutput::Left { .. }))
        );
        assert!(sim.avatar(client).is_none());
    }
    assert_eq!(sim.room_count(), 0);
    assert_eq!(sim.avatar_count(), 0);
}

#[test]
fn room_creation_is_refused_for_duplicates_and_invalid_templates() {
    let mut sim = simulation(SpatialConfig::default());
    let room = open_room(&mut sim, "gallery");
    sim.submit(SpatialInput::CreateRoom {
        room,
        template: template("gallery"),
    });
    let mut broken = template("gallery").as_ref().clone();
    broken.seats[0].position.x = 500.0;
    let other = RoomId::new();
    sim.submit(SpatialInput::CreateRoom {
        room: other,
        template: Arc::new(broken),
    });
    let out = sim.step();
    assert_eq!(out.notices.len(), 2);
    assert!(
        out.notices
            .iter()
            .all(|n| matches!(n, RoomNotice::CreateRefused { .. }))
    );
    assert_eq!(sim.room_count(), 1);
}

#[test]
fn inputs_apply_after_the_joins_and_leaves_submitted_before_them_in_the_same_tick() {
    // Moves and acknowledgements are parked on their avatar as they are submitted, unless
    // something is queued ahead of them: routed at the tick, in order, they must still land on
    // the avatar that exists at their turn.
    let mut sim = simulation(SpatialConfig::default());
    let first = open_room(&mut sim, "gallery");
    let second = open_room(&mut sim, "gallery");
    let a = ClientId::new();
    join(&mut sim, first, &[a]);
    let old = sim.avatar(a).unwrap();
    assert_eq!(old.room, first);

    // Moving to the other room, then stepping there, in one tick: the step is for the new
    // avatar (parked on the old one, it would vanish with it).
    sim.submit(SpatialInput::Join {
        client: a,
        room: second,
    });
    let spawn = template("gallery").spawn_points[0].position;
    let target = spawn + Vec3::new(0.2, 0.0, 0.0);
    move_to(&mut sim, a, target, 0.5);
    let out = sim.step();
    let now = sim.avatar(a).unwrap();
    assert_eq!(now.room, second);
    assert_eq!(
        now.position, target,
        "the move after the join applies in the new room"
    );
    assert!((now.yaw - 0.5).abs() < 1e-5);
    assert!(
        corrections(&out, a).is_empty(),
        "{:?}",
        corrections(&out, a)
    );

    // A move, a leave, then a move: the first is lost with the avatar, the last is ignored.
    let before = sim.stats().ignored_inputs;
    move_to(&mut sim, a, target + Vec3::new(0.1, 0.0, 0.0), 0.0);
    sim.submit(SpatialInput::Leave { client: a });
    move_to(&mut sim, a, target, 0.0);
    sim.step();
    assert!(sim.avatar(a).is_none());
    assert_eq!(sim.stats().ignored_inputs, before + 1);

    // Back in (the first room's next arrival spawn point is its second): a move submitted
    // after the join is a step from there.
    sim.submit(SpatialInput::Join {
        client: a,
        room: first,
    });
    let next_spawn = template("gallery").spawn_points[1].position + Vec3::new(0.0, 0.0, 0.2);
    move_to(&mut sim, a, next_spawn, 1.0);
    sim.step();
    let back = sim.avatar(a).unwrap();
    assert_eq!((back.room, back.position), (first, next_spawn));
    assert_eq!(sim.stats().corrections, 0);
}

#[test]
fn every_step_of_a_tick_is_timed_in_order() {
    let mut sim = simulation(SpatialConfig::default());
    assert!(sim.step_times().iter().all(|(_, took)| took.is_zero()));
    let room = open_room(&mut sim, "theater");
    let clients: Vec<ClientId> = (0..5).map(|_| ClientId::new()).collect();
    join(&mut sim, room, &clients);
    let started = std::time::Instant::now();
    sim.step();
    let took = started.elapsed();
    let times = sim.step_times();
    assert_eq!(times.map(|(step, _)| step), TickStep::ALL);
    let sum: std::time::Duration = times.iter().map(|(_, d)| *d).sum();
    assert!(
        sum <= took,
        "the steps ({sum:?}) fit in the tick ({took:?})"
    );
    assert!(!sum.is_zero());
}

#[test]
fn inputs_from_clients_without_an_avatar_are_ignored_and_counted() {
    let mut sim = simulation(SpatialConfig::default());
    let stranger = ClientId::new();
    move_to(&mut sim, stranger, Vec3::ZERO, 0.0);
    sim.submit(SpatialInput::Leave { client: stranger });
    let out = sim.step();
    assert!(out.outputs.is_empty());
    assert_eq!(sim.stats().ignored_inputs, 2);
}

#[test]
fn a_crowd_is_capped_at_max_visible_keeping_self_stage_and_nearest() {
    let config = SpatialConfig {
        aoi_radius: 40.0,
        grid_cell_size: 10.0,
        max_visible: 4,
        ..SpatialConfig::default()
    };
    let mut sim = simulation(config);
    let room = open_room(&mut sim, "theater");
    let theater = template("theater");
    let clients: Vec<ClientId> = (0..10).map(|_| ClientId::new()).collect();
    join(&mut sim, room, &clients); // seats 0..9 along the first row, 2 m apart
    let speaker = clients[9];
    sim.submit(SpatialInput::Avatar {
        client: speaker,
        input: AvatarInput::Teleport {
            to: theater.spawn_points[1].position,
        },
    });
    let out = sim.step();
    let mut mirror = Mirror::new(clients[0]);
    mirror.receive(&out).unwrap();
    let mut seen: Vec<_> = mirror.latest_view().states().iter().map(|s| s.id).collect();
    seen.sort();
    let mut expected: Vec<_> = [clients[0], clients[1], clients[2], speaker]
        .iter()
        .map(|c| sim.avatar(*c).unwrap().avatar)
        .collect();
    expected.sort();
    assert_eq!(seen, expected, "self, the stage, then the two nearest");
}

/// A room of at most 128 members (and `max_visible`) keeps its gains in one table for the room;
/// a larger one per client. Crossing the size either way hands the gains over: nobody is re-sent a gain
/// it holds, a newcomer is heard once and silenced once when it leaves.
#[test]
fn gains_survive_a_room_crossing_the_size_of_its_interest_matrix() {
    const MATRIX_MEMBERS: usize = 128;
    let config = SpatialConfig {
        aoi_radius: 100.0,
        grid_cell_size: 25.0,
        max_visible: 1_000,
        ..SpatialConfig::default()
    };
    let mut sim = simulation(config);
    let mut text = String::from(
        "name = \"crowd\"\ncapacity = 200\naudible_range = 40.0\n\
         bounds = { min = [0.0, 0.0, 0.0], max = [20.0, 3.0, 20.0] }\n",
    );
    for i in 0..=MATRIX_MEMBERS {
        let (x, z) = (1.0 + (i % 12) as f32 * 1.5, 1.0 + (i / 12) as f32 * 1.5);
        text.push_str(&format!("[[spawn_points]]\nposition = [{x}, 0.0, {z}]\n"));
    }
    let (room, _) = custom_room(&mut sim, &text);
    let first: Vec<ClientId> = (0..MATRIX_MEMBERS).map(|_| ClientId::new()).collect();
    let mut out = join(&mut sim, room, &first);
    let mut heard = vec![0usize; first.len()];
    for _ in 0..3 {
        for (count, client) in heard.iter_mut().zip(&first) {
            *count += gains(&out, *client).map_or(0, |g| g.gains.len());
        }
        out = sim.step();
    }
    assert!(
        heard.iter().all(|&n| n == MATRIX_MEMBERS - 1),
        "each hears the others, once"
    );

    // One more: the room is now larger than a matrix.
    let newcomer = ClientId::new();
    let out = join(&mut sim, room, &[newcomer]);
    let newcomer_id = joined(&out, newcomer).expect("joined").avatar;
    let mut updates: Vec<_> = first
        .iter()
        .flat_map(|c| gains(&out, *c).into_iter().flat_map(|g| g.gains))
        .collect();
    for _ in 0..3 {
        let out = sim.step();
        for client in &first {
            updates.extend(gains(&out, *client).into_iter().flat_map(|g| g.gains));
        }
    }
    let hearers = updates.len();
    assert_eq!(hearers, MATRIX_MEMBERS, "everyone hears the newcomer");
    assert!(
        updates
            .iter()
            .all(|g| g.avatar == newcomer_id && g.gain > 0.0),
        "only the newcomer, once each: {updates:?}"
    );

    // It leaves: back to a table, and the only news is its silence.
    sim.submit(SpatialInput::Leave { client: newcomer });
    let mut updates = Vec::new();
    for _ in 0..4 {
        let out = sim.step();
        for client in &first {
            updates.extend(gains(&out, *client).into_iter().flat_map(|g| g.gains));
        }
    }
    assert_eq!(updates.len(), first.len(), "{updates:?}");
    assert!(
        updates
            .iter()
            .all(|g| g.avatar == newcomer_id && g.gain == 0.0)
    );

    // And a rejoin starts the client's gains afresh in the table too.
    let out = join(&mut sim, room, &first[..1]);
    assert!(joined(&out, first[0]).is_some());
    let again = gains(&out, first[0]).map_or(0, |g| g.gains.len())
        + (0..2)
            .map(|_| gains(&sim.step(), first[0]).map_or(0, |g| g.gains.len()))
            .sum::<usize>();
    assert_eq!(again, MATRIX_MEMBERS - 1, "the others, sent again");
}
