//! Virtual rooms over WebSocket, end to end on a real node: joining a theater, moving, seeing
//! each other at the tick rate, gains equal to the Web Audio formulas, a stage speaker heard by
//! everyone, the room's chat, the reconnect grace period, and every kind of bad input.

mod rooms_support;
mod ws_support;

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use atrium_actors::RealtimeConfig;
use atrium_core::ids::RoomId;
use atrium_core::protocol::{ClientFrame, ErrorCode, RoomClosedReason, RoomEventKind, ServerFrame};
use atrium_spatial::snapshot::flags;

use rooms_support::{Occupant, create_room, distance, f64s, inverse_gain, theater, with_grace};
use ws_support::{Account, Node, Raw, WAIT, unlimited};

#[tokio::test]
async fn two_clients_move_see_each_other_at_the_tick_rate_and_hear_the_web_audio_gains() {
    let node = Node::start_with(RealtimeConfig::default(), unlimited()).await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let cid = node.register("cid").await;
    let (room, channel) = theater(&node, &ann).await;

    // Ann joins: the room's description, her avatar on the first seat, a full snapshot.
    let mut a = Occupant::join(&node, &ann, room).await;
    let layout = a.joined.room.layout.clone();
    assert_eq!(a.joined.room.id, room);
    assert_eq!(a.joined.room.template, "theater");
    assert_eq!(a.joined.room.channel, channel);
    assert_eq!(a.joined.room.capacity, 150);
    assert_eq!(layout.seats.len(), 72);
    assert!(layout.zones.iter().any(|z| z.kind == "stage"));
    assert_eq!(
        (a.joined.avatar, a.joined.seat, a.joined.occupants),
        (1, Some(0), 1)
    );
    assert_eq!(a.joined.p, layout.seats[0].p);
    let own = a.position_of(1).expect("ann sees herself");
    assert!(distance(own, f64s(layout.seats[0].p)) < 0.01);

    // Bob joins next to her; each sees the other arrive.
    let mut b = Occupant::join(&node, &bob, room).await;
    assert_eq!(
        (b.joined.avatar, b.joined.seat, b.joined.occupants),
        (2, Some(1), 2)
    );
    assert!(b.position_of(1).is_some(), "bob's first snapshot shows ann");
    a.until("bob's arrival", |a| {
        a.position_of(2).is_some() && a.saw_event(RoomEventKind::Joined, 2)
    })
    .await;
    assert!(a.events.iter().any(|f| matches!(f,
        ServerFrame::RoomEvent { kind: RoomEventKind::Joined, avatar: Some(2), user: Some(u), .. }
            if *u == bob.id)));

    // Gains: the theater's PannerNode is "inverse" (refDistance 1, rolloffFactor 1.5, no cone),
    // two seats 2 m apart.
    let audio = &layout.audio;
    assert_eq!(audio.distance_model, "inverse");
    assert_eq!(audio.cone_inner_angle, 360.0);
    let seat_gain = inverse_gain(
        distance(f64s(layout.seats[0].p), f64s(layout.seats[1].p)),
        audio.ref_distance,
        audio.rolloff_factor,
    );
    a.until("ann's gain for bob", |a| a.gains.contains_key(&2))
        .await;
    b.until("bob's gain for ann", |b| b.gains.contains_key(&1))
        .await;
    assert!(
        (f64::from(a.gains[&2]) - seat_gain).abs() < 1e-6,
        "{} vs {seat_gain}",
        a.gains[&2]
    );
    assert!((f64::from(b.gains[&1]) - seat_gain).abs() < 1e-6);

    // Bob walks along the row at 1 m/s for a second (a pose per tick, as a headset would send).
    let start = layout.seats[1].p;
    let walker = b.client.clone();
    let walk = tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(50));
        for step in 1..=20 {
            pace.tick().await;
            let x = start[0] + 0.05 * step as f32;
            walker
                .send_pos([x, start[1], start[2]], 0.0, Some([1.0, 0.0, 0.0]), None)
                .expect("pos");
        }
        pace.tick().await;
        walker
            .send_pos(
                [start[0] + 1.0, start[1], start[2]],
                0.0,
                Some([0.0; 3]),
                None,
            )
            .expect("pos");
    });
    let before = a.snapshot_ticks.len();
    let target = f64::from(start[0]) + 1.0;
    a.until("bob's walk in ann's view", |a| {
        a.position_of(2)
            .is_some_and(|p| (p[0] - target).abs() < 0.02)
    })
    .await;
    walk.await.expect("walker");
    let during: Vec<u64> = a.snapshot_ticks[before..].to_vec();
    assert!(
        during.len() >= 10,
        "ann got {} snapshots during the walk",
        during.len()
    );
    let gaps: Vec<u64> = during.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= 1), "ticks only grow: {during:?}");
    let every_tick = gaps.iter().filter(|g| **g == 1).count();
    assert!(
        every_tick * 2 >= gaps.len(),
        "while bob moves, ann's view changes at the tick rate: {during:?}"
    );
    assert!(
        a.deltas > 0,
        "acknowledged views make later snapshots deltas"
    );
    assert!(a.saw_event(RoomEventKind::Stood, 2), "bob left his seat");

    // Standing 3 m from ann: her gain for bob follows the formula (within the send threshold).
    let walked_gain = inverse_gain(
        distance(
            f64s(layout.seats[0].p),
            [target, f64::from(start[1]), f64::from(start[2])],
        ),
        audio.ref_distance,
        audio.rolloff_factor,
    );
    a.until("ann's gain after the walk", |a| {
        a.gains
            .get(&2)
            .is_some_and(|g| (f64::from(*g) - walked_gain).abs() <= 0.02 + 1e-6)
    })
    .await;

    // Bob steps onto the stage: everyone in the room hears him at full gain, far or near.
    let stage = layout.spawn_points[1].p;
    // (Wait until his last pose was taken: within one tick, a move applies after a teleport.)
    let seen = a.snapshot_ticks.len();
    a.until("two more snapshots", |a| a.snapshot_ticks.len() >= seen + 2)
        .await;
    b.client.teleport(stage).await.expect("teleport");
    let mut c = Occupant::join(&node, &cid, room).await;
    assert_eq!(c.joined.avatar, 3);
    let cid_seat = f64s(layout.seats[usize::from(c.joined.seat.expect("seat"))].p);
    let without_stage = inverse_gain(
        distance(cid_seat, f64s(stage)),
        audio.ref_distance,
        audio.rolloff_factor,
    );
    assert!(
        without_stage < 0.1,
        "the stage rule, not distance, makes cid hear bob"
    );
    for (who, occupant) in [("ann", &mut a), ("cid", &mut c)] {
        occupant
            .until(&format!("{who} hearing the stage"), |o| {
                o.gains.get(&2).is_some_and(|g| (*g - 1.0).abs() < 1e-6)
            })
            .await;
        occupant
            .until(&format!("{who} seeing bob on stage"), |o| {
                o.tracker
                    .avatar(2)
                    .is_some_and(|s| s.flags & flags::ON_STAGE != 0)
            })
            .await;
        let on_stage = occupant.position_of(2).expect("bob");
        assert!(
            distance(on_stage, f64s(stage)) < 0.01,
            "{who}: {on_stage:?}"
        );
    }

    // The occupants endpoint agrees.
    let (status, list) = node
        .get(&format!("/api/v1/rooms/{room}/occupants"), &ann.token)
        .await;
    assert_eq!(status, 200, "{list}");
    let avatars: Vec<u64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["avatar"].as_u64().expect("avatar"))
        .collect();
    assert_eq!(avatars, [1, 2, 3]);

    // Bob leaves: the others see it, and his next pose is refused.
    b.client.leave_room().await.expect("leave");
    a.until("bob leaving", |a| a.saw_event(RoomEventKind::Left, 2))
        .await;
    let rid = b.client.send_pos([0.0; 3], 0.0, None, None).expect("pos");
    let refused = ws_support::expect_push(&b.client, |f| match f {
        ServerFrame::Err {
            rid: Some(r), code, ..
        } if *r == rid => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(refused, ErrorCode::NotInRoom);
}

#[tokio::test]
async fn occupants_chat_in_the_linked_channel() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let (room, channel) = theater(&node, &ann).await;
    let channel = channel.expect("a chat channel is created with the room");
    let a = Occupant::join(&node, &ann, room).await;
    let b = Occupant::join(&node, &bob, room).await;
    assert_eq!(b.joined.room.channel, Some(channel));
    // Bob was no member of the channel before; joining the room made him one.
    a.client.sub(channel).await.expect("ann subscribes");
    b.client.sub(channel).await.expect("bob subscribes");
    let sent = a
        .client
        .send(channel, "welcome to the show")
        .await
        .expect("send");
    let seq = ws_support::expect_push(&b.client, |f| match f {
        ServerFrame::Msg { ch, seq, body, .. }
            if *ch == channel && body == "welcome to the show" =>
        {
            Some(*seq)
        }
        _ => None,
    })
    .await;
    assert_eq!(seq, sent.seq);
}

#[tokio::test]
async fn a_reconnect_within_the_grace_period_keeps_the_avatar_and_seat() {
    let node = Node::start_with(with_grace(Duration::from_secs(30)), unlimited()).await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let (room, _) = theater(&node, &ann).await;
    let mut a = Occupant::join(&node, &ann, room).await;
    let b = Occupant::join(&node, &bob, room).await;
    let (avatar, seat) = (b.joined.avatar, b.joined.seat);

    // Bob's connection goes away; his avatar waits, marked away.
    b.client.close();
    drop(b);
    wait_for_occupant(&node, &ann, room, avatar, |o| o["away"] == true).await;

    // He comes back within the grace period: same avatar, same seat, a fresh full snapshot.
    let again = Occupant::join(&node, &bob, room).await;
    assert_eq!((again.joined.avatar, again.joined.seat), (avatar, seat));
    assert!(again.position_of(1).is_some());
    wait_for_occupant(&node, &ann, room, avatar, |o| o["away"] == false).await;
    // Ann never saw him leave (and no newcomer took a new number).
    again
        .client
        .send_pos(
            [b_seat_x(&again) + STEP, 0.0, -6.0],
            0.0,
            Some([0.0; 3]),
            None,
        )
        .expect("pos");
    a.until("bob moving again", |a| {
        a.position_of(avatar)
            .is_some_and(|p| (p[0] - f64::from(b_seat_x(&again) + STEP)).abs() < 0.02)
    })
    .await;
    assert!(!a.saw_event(RoomEventKind::Left, avatar), "{:?}", a.events);
    assert!(!a.saw_event(RoomEventKind::Joined, avatar + 1));
}

/// A step small enough to be taken as sent right after a (re)join.
const STEP: f32 = 0.3;

fn b_seat_x(o: &Occupant) -> f32 {
    o.joined.room.layout.seats[usize::from(o.joined.seat.expect("seat"))].p[0]
}

#[tokio::test]
async fn after_the_grace_period_the_avatar_leaves() {
    let node = Node::start_with(with_grace(Duration::from_millis(200)), unlimited()).await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let (room, _) = theater(&node, &ann).await;
    let mut a = Occupant::join(&node, &ann, room).await;
    let b = Occupant::join(&node, &bob, room).await;
    b.client.close();
    a.until("bob's avatar leaving", |a| {
        a.saw_event(RoomEventKind::Left, 2)
    })
    .await;
    let (_, list) = node
        .get(&format!("/api/v1/rooms/{room}/occupants"), &ann.token)
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    // Coming back later is a new arrival with a new avatar number.
    let again = Occupant::join(&node, &bob, room).await;
    assert_eq!(again.joined.avatar, 3);
    a.drain();
}

#[tokio::test]
async fn deleting_a_room_takes_its_occupants_out() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let (room, _) = theater(&node, &ann).await;
    let mut a = Occupant::join(&node, &ann, room).await;
    let response = reqwest::Client::new()
        .delete(format!("{}/api/v1/rooms/{room}", node.base))
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 204);
    a.until("the room closing", |a| {
        a.events.iter().any(|f| matches!(f,
            ServerFrame::RoomEvent { kind: RoomEventKind::Closed, reason: Some(RoomClosedReason::Deleted), room: r, .. }
                if *r == room))
    })
    .await;
    let err = a.client.join_room(room).await.expect_err("gone");
    assert!(matches!(
        err,
        atrium_client::ClientError::Server {
            code: ErrorCode::NotFound,
            ..
        }
    ));
}

/// Polls the occupants endpoint until `avatar`'s entry satisfies `check`.
async fn wait_for_occupant(
    node: &Node,
    account: &Account,
    room: RoomId,
    avatar: u32,
    check: impl Fn(&serde_json::Value) -> bool,
) {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let (_, list) = node
                .get(&format!("/api/v1/rooms/{room}/occupants"), &account.token)
                .await;
            let entry = list["items"]
                .as_array()
                .and_then(|items| items.iter().find(|o| o["avatar"] == avatar).cloned());
            if entry.as_ref().is_some_and(&check) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "occupant {avatar} never reached the expected state"
    );
}

async fn expect_err(raw: &mut Raw, rid: u32) -> ErrorCode {
    loop {
        match raw.frame().await {
            ServerFrame::Err {
                rid: Some(r), code, ..
            } if r == rid => return code,
            ServerFrame::Err { rid, code, message } => {
                panic!("unexpected err {rid:?} {code}: {message}")
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn bad_room_input_is_refused_with_clear_codes() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let (room, _) = theater(&node, &ann).await;
    let mut raw = Raw::hello(&node, &bob.token).await;

    // Room frames before any join.
    let pos = |rid, p: [f32; 3]| ClientFrame::Pos {
        rid,
        p,
        yaw: 0.0,
        v: None,
        ack: None,
    };
    raw.send_frame(&pos(5, [0.0; 3])).await;
    assert_eq!(expect_err(&mut raw, 5).await, ErrorCode::NotInRoom);
    raw.send_frame(&ClientFrame::RoomAck { rid: 6, tick: 3 })
        .await;
    assert_eq!(expect_err(&mut raw, 6).await, ErrorCode::NotInRoom);
    raw.send_frame(&ClientFrame::RoomLeave { rid: 7 }).await;
    assert_eq!(expect_err(&mut raw, 7).await, ErrorCode::NotInRoom);
    raw.send_frame(&ClientFrame::RoomTeleport {
        rid: 8,
        to: [0.0; 3],
    })
    .await;
    assert_eq!(expect_err(&mut raw, 8).await, ErrorCode::NotInRoom);

    // A room that does not exist, and a room id that is not one.
    raw.send_frame(&ClientFrame::RoomJoin {
        rid: 9,
        room: RoomId::new(),
    })
    .await;
    assert_eq!(expect_err(&mut raw, 9).await, ErrorCode::NotFound);
    let bad_id = rmp_serde::to_vec_named(&json!({"t": "room.join", "rid": 10, "room": "lobby"}))
        .expect("encode");
    raw.send(Message::Binary(bad_id.into())).await;
    assert_eq!(expect_err(&mut raw, 10).await, ErrorCode::BadFrame);

    // Malformed poses: wrong types, not numbers, oversized.
    let wrong = rmp_serde::to_vec_named(&json!({"t": "pos", "rid": 11, "p": "here", "yaw": 0}))
        .expect("encode");
    raw.send(Message::Binary(wrong.into())).await;
    assert_eq!(expect_err(&mut raw, 11).await, ErrorCode::BadFrame);
    let short = rmp_serde::to_vec_named(&json!({"t": "pos", "rid": 12, "p": [1.0], "yaw": 0}))
        .expect("encode");
    raw.send(Message::Binary(short.into())).await;
    assert_eq!(expect_err(&mut raw, 12).await, ErrorCode::BadFrame);
    raw.send_frame(&pos(13, [f32::NAN, 0.0, 0.0])).await;
    assert_eq!(expect_err(&mut raw, 13).await, ErrorCode::Invalid);
    raw.send_frame(&pos(14, [1e9, 0.0, 0.0])).await;
    assert_eq!(expect_err(&mut raw, 14).await, ErrorCode::Invalid);
    let huge = rmp_serde::to_vec_named(&json!({
        "t": "pos", "rid": 15, "p": [0.0, 0.0, 0.0], "yaw": 0.0, "pad": "x".repeat(70_000)
    }))
    .expect("encode");
    raw.send(Message::Binary(huge.into())).await;
    // (The `rid` sits behind the padding, past what the server reads of an oversized frame.)
    match raw.frame().await {
        ServerFrame::Err { code, .. } => assert_eq!(code, ErrorCode::TooLarge),
        other => panic!("expected too_large, got {other:?}"),
    }

    // Another organization's room reads as not found.
    let eve = node.foreign_account("eve").await;
    let mut foreign = Raw::hello(&node, &eve.token).await;
    foreign
        .send_frame(&ClientFrame::RoomJoin { rid: 20, room })
        .await;
    assert_eq!(expect_err(&mut foreign, 20).await, ErrorCode::NotFound);

    // After all that, the session still works: bob joins and his pose is taken.
    raw.send_frame(&ClientFrame::RoomJoin { rid: 21, room })
        .await;
    loop {
        match raw.frame().await {
            ServerFrame::Ok { rid: 21, .. } => break,
            ServerFrame::Err {
                rid: Some(21),
                code,
                message,
            } => panic!("join: {code} {message}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_full_room_refuses_the_next_join() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let cid = node.register("cid").await;
    let (room, _) = create_room(
        &node,
        &ann,
        json!({"name": "Phone booth", "template": "conference", "capacity": 2}),
    )
    .await;
    let _a = Occupant::join(&node, &ann, room).await;
    let _b = Occupant::join(&node, &bob, room).await;
    let c = node.client(&cid).await;
    let err = c.join_room(room).await.expect_err("full");
    assert!(
        matches!(
            err,
            atrium_client::ClientError::Server {
                code: ErrorCode::RoomFull,
                ..
            }
        ),
        "{err:?}"
    );
    // A full room still lets its occupants be and others try again later: one leaves, cid fits.
    _b.client.leave_room().await.expect("leave");
    let joined = c.join_room(room).await.expect("room for one more");
    assert_eq!(joined.occupants, 2);
}
