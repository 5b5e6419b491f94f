//! Who does what: sessions, channels, users and worker processes, as pure arithmetic.
//!
//! Every process computes the same plan from the same configuration, so the coordinator only
//! sends the configuration and the provisioned tokens. Sessions are numbered globally:
//!
//! - `fanout`/`soak`: subscribers `0 .. M·K` (subscriber `s` is in channel `s / K`), then
//!   publishers `M·K .. M·K + M·P` (publisher `p` posts to channel `p / P`), then (soak) churning
//!   sessions (churner `j` subscribes to channel `j mod M`);
//! - `connect`: sessions `0 .. N`, session `i` subscribing to channel `i mod C`;
//! - `rooms`: sessions `0 .. R·A`, session `s` is avatar `s mod A` of room `s / A`; whole rooms
//!   go to one worker (room `r` to worker `r mod P`), so an avatar and the peer it watches (picked
//!   in `worker/rooms.rs`, the nearest at arrival) share a process and its bookkeeping;
//! - `llm`: one session per user that has a stream (sessions `0 .. min(S, U)`), stream `j`
//!   belonging to user `j mod U`.
//!
//! Session `i` belongs to user `i mod U` and uses that user's token. Sessions, publishers and
//! churners are dealt to workers round-robin, so every worker carries a slice of every channel.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::config::{LoadConfig, ScenarioKind};

/// A session that subscribes to one channel (or, `channel: None`, to nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSpec {
    /// Global session number (picks the user and the source address).
    pub session: u64,
    pub channel: Option<u32>,
}

/// A publishing session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublisherSpec {
    /// Global publisher number, written into every payload.
    pub id: u32,
    pub session: u64,
    pub channel: u32,
}

/// One avatar of `rooms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvatarSpec {
    pub session: u64,
    pub room: u32,
    /// Its place among the room's avatars (`0 .. A`), which also picks its walk.
    pub index: u32,
    /// The session whose avatar this one measures until arrivals are known (the next of the
    /// room; itself when alone); `worker/rooms.rs` then picks the nearest.
    pub watches: u64,
}

/// One `llm` session: a user and the streams it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmSessionSpec {
    pub session: u64,
    /// Global stream numbers (indexes into the provisioned conversations).
    pub streams: Vec<u32>,
}

/// The plan of one run.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    config: &'a LoadConfig,
}

impl<'a> Plan<'a> {
    pub fn new(config: &'a LoadConfig) -> Self {
        Self { config }
    }

    fn workers(&self) -> u64 {
        u64::from(self.config.run.processes.max(1))
    }

    fn mine(&self, index: u64, worker: u32) -> bool {
        index % self.workers() == u64::from(worker)
    }

    /// The user (index into the provisioned users) a session logs in as.
    pub fn user_of(&self, session: u64) -> u32 {
        (session % u64::from(self.config.users.count.max(1))) as u32
    }

    /// Channels the run uses.
    pub fn channel_count(&self) -> u32 {
        match self.config.scenario {
            ScenarioKind::Fanout | ScenarioKind::Soak => self.config.fanout.channels,
            ScenarioKind::Connect if self.config.connect.subscribe => self.config.connect.channels,
            _ => 0,
        }
    }

    fn uses_fanout(&self) -> bool {
        matches!(
            self.config.scenario,
            ScenarioKind::Fanout | ScenarioKind::Soak
        )
    }

    fn subscriber_count(&self) -> u64 {
        u64::from(self.config.fanout.channels) * u64::from(self.config.fanout.members)
    }

    fn publisher_count(&self) -> u64 {
        u64::from(self.config.fanout.channels)
            * u64::from(self.config.fanout.publishers_per_channel)
    }

    /// The fan-out subscribers a worker runs.
    pub fn subscribers(&self, worker: u32) -> Vec<SessionSpec> {
        if !self.uses_fanout() {
            return Vec::new();
        }
        let k = u64::from(self.config.fanout.members.max(1));
        (0..self.subscriber_count())
            .filter(|&s| self.mine(s, worker))
            .map(|s| SessionSpec {
                session: s,
                channel: Some((s / k) as u32),
            })
            .collect()
    }

    /// The publishers a worker runs.
    pub fn publishers(&self, worker: u32) -> Vec<PublisherSpec> {
        if !self.uses_fanout() {
            return Vec::new();
        }
        let per = u64::from(self.config.fanout.publishers_per_channel.max(1));
        let base = self.subscriber_count();
        (0..self.publisher_count())
            .filter(|&p| self.mine(p, worker))
            .map(|p| PublisherSpec {
                id: p as u32,
                session: base + p,
                channel: (p / per) as u32,
            })
            .collect()
    }

    /// Every publisher id posting to `channel`.
    pub fn publishers_of(&self, channel: u32) -> Range<u32> {
        let per = self.config.fanout.publishers_per_channel;
        channel * per..(channel + 1) * per
    }

    /// The sessions a worker opens in `connect`.
    pub fn connect_sessions(&self, worker: u32) -> Vec<SessionSpec> {
        if self.config.scenario != ScenarioKind::Connect {
            return Vec::new();
        }
        let channels = u64::from(self.config.connect.channels.max(1));
        let subscribe = self.config.connect.subscribe;
        (0..self.config.connect.sessions)
            .filter(|&i| self.mine(i, worker))
            .map(|i| SessionSpec {
                session: i,
                channel: subscribe.then_some((i % channels) as u32),
            })
            .collect()
    }

    /// The churning session slots a worker runs in `soak`.
    pub fn churners(&self, worker: u32) -> Vec<SessionSpec> {
        if self.config.scenario != ScenarioKind::Soak {
            return Vec::new();
        }
        let base = self.subscriber_count() + self.publisher_count();
        let channels = u64::from(self.config.fanout.channels.max(1));
        (0..self.config.soak.churn_sessions)
            .filter(|&j| self.mine(j, worker))
            .map(|j| SessionSpec {
                session: base + j,
                channel: Some((j % channels) as u32),
            })
            .collect()
    }

    /// The avatars a worker runs in `rooms`.
    pub fn avatars(&self, worker: u32) -> Vec<AvatarSpec> {
        if self.config.scenario != ScenarioKind::Rooms {
            return Vec::new();
        }
        let per_room = u64::from(self.config.rooms.avatars.max(1));
        (0..self.config.rooms.rooms)
            .filter(|&room| self.mine(u64::from(room), worker))
            .flat_map(|room| {
                let base = u64::from(room) * per_room;
                (0..per_room).map(move |i| AvatarSpec {
                    session: base + i,
                    room,
                    index: i as u32,
                    watches: base + (i + 1) % per_room,
                })
            })
            .collect()
    }

    /// The sessions a worker runs in `llm`, with their streams.
    pub fn llm_sessions(&self, worker: u32) -> Vec<LlmSessionSpec> {
        if self.config.scenario != ScenarioKind::Llm {
            return Vec::new();
        }
        let users = self.config.users.count.max(1);
        let streams = self.config.llm.streams;
        (0..streams.min(users))
            .filter(|&u| self.mine(u64::from(u), worker))
            .map(|u| LlmSessionSpec {
                session: u64::from(u),
                streams: (u..streams).step_by(users as usize).collect(),
            })
            .collect()
    }

    /// The user owning stream `stream` (who creates its conversation).
    pub fn stream_owner(&self, stream: u32) -> u32 {
        stream % self.config.users.count.max(1)
    }

    /// A per-worker share of a global rate (at least 1 when the global rate is not 0).
    pub fn share_of_rate(&self, rate: u64) -> u64 {
        if rate == 0 {
            return 0;
        }
        rate.div_ceil(self.workers())
    }

    /// For each channel, the users that must be its members (everyone who subscribes or
    /// publishes there), for Atrium provisioning.
    pub fn channel_members(&self) -> Vec<BTreeSet<u32>> {
        let mut members = vec![BTreeSet::new(); self.channel_count() as usize];
        let workers = self.config.run.processes.max(1);
        for worker in 0..workers {
            let sessions = self
                .subscribers(worker)
                .into_iter()
                .chain(self.connect_sessions(worker))
                .chain(self.churners(worker));
            for spec in sessions {
                if let Some(ch) = spec.channel.and_then(|c| members.get_mut(c as usize)) {
                    ch.insert(self.user_of(spec.session));
                }
            }
            for publisher in self.publishers(worker) {
                if let Some(ch) = members.get_mut(publisher.channel as usize) {
                    ch.insert(self.user_of(publisher.session));
                }
            }
        }
        members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fanout(channels: u32, members: u32, pubs: u32, processes: u32) -> LoadConfig {
        let mut c = LoadConfig::default();
        c.fanout.channels = channels;
        c.fanout.members = members;
        c.fanout.publishers_per_channel = pubs;
        c.run.processes = processes;
        c
    }

    #[test]
    fn workers_split_every_session_exactly_once() {
        let config = fanout(3, 7, 2, 4);
        let plan = Plan::new(&config);
        let mut subs: Vec<u64> = (0..4)
            .flat_map(|w| plan.subscribers(w))
            .map(|s| s.session)
            .collect();
        subs.sort_unstable();
        assert_eq!(subs, (0..21).collect::<Vec<_>>());
        let mut pubs: Vec<u32> = (0..4)
            .flat_map(|w| plan.publishers(w))
            .map(|p| p.id)
            .collect();
        pubs.sort_unstable();
        assert_eq!(pubs, (0..6).collect::<Vec<_>>());
        // Each worker gets some of every channel's subscribers.
        for w in 0..4 {
            let channels: BTreeSet<_> = plan
                .subscribers(w)
                .iter()
                .filter_map(|s| s.channel)
                .collect();
            assert_eq!(channels.len(), 3, "worker {w}");
        }
    }

    #[test]
    fn subscribers_and_publishers_land_in_the_right_channels() {
        let config = fanout(100, 100, 1, 1);
        let plan = Plan::new(&config);
        let subs = plan.subscribers(0);
        assert_eq!(subs.len(), 10_000);
        assert_eq!(subs[0].channel, Some(0));
        assert_eq!(subs[99].channel, Some(0));
        assert_eq!(subs[100].channel, Some(1));
        assert_eq!(subs[9_999].channel, Some(99));
        let pubs = plan.publishers(0);
        assert_eq!(pubs.len(), 100);
        assert_eq!((pubs[5].channel, pubs[5].session), (5, 10_005));
        assert_eq!(plan.publishers_of(5), 5..6);
    }

    #[test]
    fn members_are_the_users_of_every_subscriber_and_publisher() {
        let mut config = fanout(2, 3, 1, 1);
        config.users.count = 4;
        let plan = Plan::new(&config);
        // Channel 0: subscribers 0,1,2 → users 0,1,2; publisher session 6 → user 2.
        // Channel 1: subscribers 3,4,5 → users 3,0,1; publisher session 7 → user 3.
        let members = plan.channel_members();
        assert_eq!(members[0], BTreeSet::from([0, 1, 2]));
        assert_eq!(members[1], BTreeSet::from([0, 1, 3]));
    }

    #[test]
    fn connect_sessions_spread_over_channels_or_none() {
        let mut config = LoadConfig {
            scenario: ScenarioKind::Connect,
            ..LoadConfig::default()
        };
        config.connect.sessions = 10;
        config.connect.channels = 3;
        config.run.processes = 2;
        let plan = Plan::new(&config);
        let w1 = plan.connect_sessions(1);
        assert_eq!(
            w1.iter().map(|s| s.session).collect::<Vec<_>>(),
            [1, 3, 5, 7, 9]
        );
        assert_eq!(w1[1].channel, Some(0));
        assert!(plan.subscribers(0).is_empty() && plan.publishers(0).is_empty());
        config.connect.subscribe = false;
        let plan = Plan::new(&config);
        assert_eq!(plan.channel_count(), 0);
        assert!(plan.connect_sessions(0).iter().all(|s| s.channel.is_none()));
    }

    #[test]
    fn churners_follow_the_fanout_sessions() {
        let mut config = fanout(2, 5, 1, 1);
        config.scenario = ScenarioKind::Soak;
        config.soak.churn_sessions = 3;
        let plan = Plan::new(&config);
        let churners = plan.churners(0);
        assert_eq!(
            churners.iter().map(|c| c.session).collect::<Vec<_>>(),
            [12, 13, 14]
        );
        assert_eq!(churners[1].channel, Some(1));
    }

    #[test]
    fn whole_rooms_go_to_one_worker_and_avatars_watch_their_neighbour() {
        let mut config = LoadConfig {
            scenario: ScenarioKind::Rooms,
            ..LoadConfig::default()
        };
        config.rooms.rooms = 3;
        config.rooms.avatars = 4;
        config.run.processes = 2;
        let plan = Plan::new(&config);
        let w0 = plan.avatars(0);
        let w1 = plan.avatars(1);
        assert_eq!(w0.len() + w1.len(), 12);
        assert!(w0.iter().all(|a| a.room != 1) && w1.iter().all(|a| a.room == 1));
        let last_of_room_2 = w0.iter().find(|a| a.session == 11).unwrap();
        assert_eq!((last_of_room_2.room, last_of_room_2.index), (2, 3));
        assert_eq!(last_of_room_2.watches, 8, "the ring closes within the room");
        assert_eq!(w1[0].watches, 5);
        // With one user per avatar (what validation asks for) every avatar has its own user.
        config.users.count = 12;
        let plan = Plan::new(&config);
        let users: BTreeSet<u32> = (0..2)
            .flat_map(|w| plan.avatars(w))
            .map(|a| plan.user_of(a.session))
            .collect();
        assert_eq!(users.len(), 12);
        assert!(plan.subscribers(0).is_empty() && plan.channel_count() == 0);
        config.rooms.avatars = 1;
        assert_eq!(Plan::new(&config).avatars(0)[0].watches, 0, "alone: itself");
    }

    #[test]
    fn llm_streams_are_spread_over_one_session_per_user() {
        let mut config = LoadConfig {
            scenario: ScenarioKind::Llm,
            ..LoadConfig::default()
        };
        config.llm.streams = 10;
        config.users.count = 4;
        config.run.processes = 2;
        let plan = Plan::new(&config);
        let w0 = plan.llm_sessions(0);
        let w1 = plan.llm_sessions(1);
        assert_eq!(w0.iter().map(|s| s.session).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(w0[0].streams, [0, 4, 8]);
        assert_eq!(w1[1].streams, [3, 7]);
        let all: usize = w0.iter().chain(&w1).map(|s| s.streams.len()).sum();
        assert_eq!(all, 10);
        assert!(w0.iter().chain(&w1).all(|s| {
            s.streams
                .iter()
                .all(|&j| plan.stream_owner(j) as u64 == s.session)
        }));
        // Fewer streams than users: only users with a stream get a session.
        config.llm.streams = 3;
        assert_eq!(Plan::new(&config).llm_sessions(0).len(), 2);
    }

    #[test]
    fn rates_are_shared_without_dropping_to_zero() {
        let config = fanout(1, 1, 1, 3);
        let plan = Plan::new(&config);
        assert_eq!(plan.share_of_rate(1000), 334);
        assert_eq!(plan.share_of_rate(1), 1);
        assert_eq!(plan.share_of_rate(0), 0);
    }
}
