//! Virtual rooms over WebTransport, with a WebSocket user in the same room: poses go in as
//! `pos` datagrams, snapshot parts come out as `snap` datagrams (acknowledged with `ack`
//! datagrams), everything else travels on the control stream.

mod rooms_support;
mod ws_support;
mod wt_support;

use std::time::Duration;

use atrium_core::protocol::{ClientFrame, Datagram, OkResult, RoomEventKind, ServerFrame};

use rooms_support::{Occupant, Tracker, distance, f64s, metres, theater};
use wt_support::{WtClient, WtNode};

/// Reads `snap` datagrams into `tracker` (acknowledging each complete tick with an `ack`
/// datagram) until `done` holds.
async fn follow(wt: &WtClient, tracker: &mut Tracker, what: &str, done: impl Fn(&Tracker) -> bool) {
    let outcome = tokio::time::timeout(ws_support::WAIT, async {
        while !done(tracker) {
            match wt.datagram().await {
                Datagram::Snap { data } => {
                    if let Some(tick) = tracker.take(&data) {
                        wt.send_datagram(Datagram::Ack { tick });
                    }
                }
                other => panic!("unexpected datagram {other:?}"),
            }
        }
    })
    .await;
    assert!(outcome.is_ok(), "timed out waiting for {what}");
}

#[tokio::test]
async fn webtransport_and_websocket_users_share_a_room() {
    let node = WtNode::start().await;
    let ann = node.node.register("ann").await;
    let bob = node.node.register("bob").await;
    let (room, _) = theater(&node.node, &ann).await;

    // Ann on WebSocket.
    let mut a = Occupant::join(&node.node, &ann, room).await;
    let layout = a.joined.room.layout.clone();

    // Bob over WebTransport: the join on the control stream, the first snapshot in its reply.
    let mut wt = node.hello(&bob.token).await;
    let rid = wt.rid();
    let joined = match wt.request(ClientFrame::RoomJoin { rid, room }).await {
        ServerFrame::Ok {
            result: OkResult::RoomJoined(joined),
            ..
        } => *joined,
        other => panic!("join: {other:?}"),
    };
    assert_eq!(joined.avatar, 2);
    let mut view = Tracker::default();
    for part in &joined.snapshot {
        view.take(&part.0);
    }
    assert!(view.avatar(1).is_some(), "bob's first snapshot shows ann");
    a.until("bob arriving", |a| a.saw_event(RoomEventKind::Joined, 2))
        .await;

    // Ann walks; bob follows her in snapshots that arrive as datagrams.
    let min = layout.bounds[0];
    let ann_target = [layout.seats[0].p[0] + 0.8, 0.0, layout.seats[0].p[2]];
    a.client
        .send_pos(ann_target, 0.0, Some([0.0; 3]), None)
        .expect("pos");
    follow(&wt, &mut view, "ann's move over datagrams", |v| {
        v.avatar(1)
            .is_some_and(|s| distance(metres(&s, min), f64s(ann_target)) < 0.02)
    })
    .await;

    // Bob walks with `pos` datagrams (a reordered, older one is ignored); ann sees him move.
    let start = layout.seats[1].p;
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    for step in 1..=10u32 {
        pace.tick().await;
        wt.send_datagram(Datagram::Pos {
            seq: step,
            p: [start[0] + 0.05 * step as f32, start[1], start[2]],
            yaw: 0.0,
            v: [1.0, 0.0, 0.0],
            ack: None,
        });
    }
    let bob_target = [start[0] + 0.5, start[1], start[2]];
    wt.send_datagram(Datagram::Pos {
        seq: 11,
        p: bob_target,
        yaw: 0.0,
        v: [0.0; 3],
        ack: None,
    });
    // Late and stale: must not pull bob back.
    wt.send_datagram(Datagram::Pos {
        seq: 3,
        p: [start[0], start[1], start[2]],
        yaw: 0.0,
        v: [0.0; 3],
        ack: None,
    });
    a.until("bob's datagram walk in ann's view", |a| {
        a.position_of(2)
            .is_some_and(|p| distance(p, f64s(bob_target)) < 0.02)
    })
    .await;
    // Two snapshots later (keepalives come every second at the latest) he is still there:
    // the stale pose was dropped.
    let seen = a.snapshot_ticks.len();
    a.until("two more snapshots", |a| a.snapshot_ticks.len() >= seen + 2)
        .await;
    assert!(distance(a.position_of(2).expect("bob"), f64s(bob_target)) < 0.02);

    // Gains reach the WebTransport user on the control stream.
    let gains = wt
        .expect(|f| match f {
            ServerFrame::RoomGains { gains, .. } => Some(gains.clone()),
            _ => None,
        })
        .await;
    assert!(gains.iter().any(|(avatar, _)| *avatar == 1), "{gains:?}");
}
