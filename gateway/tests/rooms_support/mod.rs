//! Helpers for the room tests: rooms over HTTP, a client-side snapshot tracker (the view a
//! client rebuilds from snapshot parts and acknowledges), and the Web Audio distance formula.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::{Value, json};

use atrium_client::{Client, Event};
use atrium_core::protocol::{RoomEventKind, RoomJoined, ServerFrame};

use atrium_actors::{RealtimeConfig, RoomsConfig};
use atrium_core::ids::{ChannelId, RoomId};
use atrium_spatial::AvatarId;
use atrium_spatial::snapshot::{AvatarState, SnapshotPart, View, decode_part};

use crate::ws_support::{Account, Node, WAIT};

/// A realtime configuration whose rooms keep a disconnected avatar for `grace`.
pub fn with_grace(grace: Duration) -> RealtimeConfig {
    RealtimeConfig {
        rooms: RoomsConfig {
            grace,
            ..RoomsConfig::default()
        },
        ..RealtimeConfig::default()
    }
}

/// Creates a room over HTTP; returns its id and chat channel.
pub async fn create_room(node: &Node, owner: &Account, body: Value) -> (RoomId, Option<ChannelId>) {
    let (status, created) = node.post("/api/v1/rooms", Some(&owner.token), body).await;
    assert_eq!(status, 201, "create room: {created}");
    let id = created["id"].as_str().expect("id").parse().expect("uuid");
    let channel = created["channel_id"]
        .as_str()
        .map(|c| c.parse().expect("uuid"));
    (id, channel)
}

/// A theater room with a chat channel.
pub async fn theater(node: &Node, owner: &Account) -> (RoomId, Option<ChannelId>) {
    create_room(
        node,
        owner,
        json!({"name": format!("theater-{}", uuid::Uuid::new_v4().simple()), "template": "theater"}),
    )
    .await
}

/// What a client rebuilds from snapshot parts: one view per complete tick.
#[derive(Default)]
pub struct Tracker {
    views: BTreeMap<u64, View>,
    partial: BTreeMap<u64, Vec<SnapshotPart>>,
}

impl Tracker {
    /// Takes one encoded part; returns the tick once all its parts are in (and its view is
    /// built), which is what the client acknowledges.
    pub fn take(&mut self, bytes: &[u8]) -> Option<u64> {
        let part = decode_part(bytes).expect("a well-formed snapshot part");
        let tick = part.tick;
        let parts = self.partial.entry(tick).or_default();
        parts.push(part);
        if parts.len() < usize::from(parts[0].parts) {
            return None;
        }
        let parts = self.partial.remove(&tick)?;
        let views = &self.views;
        let view = atrium_spatial::snapshot::apply_snapshot(|base| views.get(&base), &parts)
            .expect("the baseline of a snapshot is a view the client acknowledged");
        self.views.insert(tick, view);
        Some(tick)
    }

    /// The newest complete view.
    pub fn latest(&self) -> Option<(u64, &View)> {
        self.views.iter().next_back().map(|(t, v)| (*t, v))
    }

    /// An avatar in the newest view.
    pub fn avatar(&self, id: u32) -> Option<AvatarState> {
        self.latest()?.1.get(AvatarId(id)).copied()
    }

    /// Whether the snapshot of `tick` was a delta (had a baseline).
    pub fn ticks(&self) -> Vec<u64> {
        self.views.keys().copied().collect()
    }
}

/// Whether a snapshot part is a delta against an acknowledged view.
pub fn is_delta(bytes: &[u8]) -> bool {
    decode_part(bytes).expect("part").baseline.is_some()
}

/// Metres from the room's lower corner, as snapshots carry positions (centimetres).
pub fn metres(state: &AvatarState, min: [f32; 3]) -> [f64; 3] {
    [
        f64::from(min[0]) + f64::from(state.x) / 100.0,
        f64::from(min[1]) + f64::from(state.y) / 100.0,
        f64::from(min[2]) + f64::from(state.z) / 100.0,
    ]
}

pub fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// The Web Audio `PannerNode` "inverse" distance gain (Distance Effects):
/// `refDistance / (refDistance + rolloffFactor * (max(distance, refDistance) - refDistance))`.
pub fn inverse_gain(distance: f64, ref_distance: f64, rolloff: f64) -> f64 {
    ref_distance / (ref_distance + rolloff * (distance.max(ref_distance) - ref_distance))
}

pub fn f64s(p: [f32; 3]) -> [f64; 3] {
    [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
}

/// One user in a room through `atrium-client`, keeping what a real client keeps: its view
/// (acknowledging every complete snapshot), its gain table and the room events it saw.
pub struct Occupant {
    pub client: Client,
    pub joined: RoomJoined,
    pub tracker: Tracker,
    pub gains: HashMap<u32, f32>,
    pub events: Vec<ServerFrame>,
    /// Ticks of complete snapshots, in arrival order.
    pub snapshot_ticks: Vec<u64>,
    pub deltas: usize,
}

impl Occupant {
    pub async fn join(node: &Node, account: &Account, room: RoomId) -> Self {
        let client = node.client(account).await;
        Self::join_with(client, room).await
    }

    pub async fn join_with(client: Client, room: RoomId) -> Self {
        let joined = client.join_room(room).await.expect("join");
        let mut me = Self {
            client,
            joined: joined.clone(),
            tracker: Tracker::default(),
            gains: HashMap::new(),
            events: Vec::new(),
            snapshot_ticks: Vec::new(),
            deltas: 0,
        };
        assert!(!joined.snapshot.is_empty(), "join carries a first snapshot");
        for part in &joined.snapshot {
            assert!(!is_delta(&part.0), "the first snapshot is full");
            me.take_part(&part.0);
        }
        me
    }

    pub fn take_part(&mut self, bytes: &[u8]) {
        if is_delta(bytes) {
            self.deltas += 1;
        }
        if let Some(tick) = self.tracker.take(bytes) {
            self.snapshot_ticks.push(tick);
            self.client.ack_snapshot(tick).expect("ack");
        }
    }

    pub fn absorb(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::RoomSnapshot { data } => self.take_part(&data.0),
            ServerFrame::RoomGains { gains, .. } => {
                for (avatar, gain) in gains {
                    self.gains.insert(avatar, gain);
                }
            }
            other => self.events.push(other),
        }
    }

    /// Reads pushes until `done` holds (at most [`WAIT`]).
    pub async fn until(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let outcome = tokio::time::timeout(WAIT, async {
            while !done(self) {
                match self.client.next_event().await {
                    Some(Event::Push(frame)) => self.absorb(frame),
                    Some(_) => {}
                    None => panic!("client closed while waiting for {what}"),
                }
            }
        })
        .await;
        assert!(outcome.is_ok(), "timed out waiting for {what}");
    }

    /// Takes whatever already arrived, without waiting.
    pub fn drain(&mut self) {
        while let Some(Some(Event::Push(frame))) = self.client.next_event().now_or_never() {
            self.absorb(frame);
        }
    }

    pub fn saw_event(&self, kind: RoomEventKind, avatar: u32) -> bool {
        self.events.iter().any(|f| {
            matches!(f, ServerFrame::RoomEvent { kind: k, avatar: Some(a), .. }
                if *k == kind && *a == avatar)
        })
    }

    pub fn min(&self) -> [f32; 3] {
        self.joined.room.layout.bounds[0]
    }

    /// Where this client's view puts `avatar`, metres.
    pub fn position_of(&self, avatar: u32) -> Option<[f64; 3]> {
        self.tracker.avatar(avatar).map(|s| metres(&s, self.min()))
    }
}
