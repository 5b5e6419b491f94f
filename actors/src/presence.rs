//! `PresenceActor`: who is online, and delivery to a user's sessions wherever they are.
//!
//! A user is online while they have at least one session. When their last session closes they
//! stay online for `presence_grace`, so a reconnect (a network blip, a page reload) does not
//! flap their status for everyone; only if no session came back by then are they announced
//! offline. Changes are pushed as `presence {user, status}` to every session of the user's
//! organization (droppable, coalesced per user).
//!
//! The same directory of sessions by user serves `mention` pushes, which reach a user's sessions
//! whether or not they are subscribed to the channel.
//!
//! A restarted presence actor rebuilds its directory from the session registry; a grace period
//! that was running is lost (the user is then simply offline, without an announcement).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use atrium_core::ids::{OrgId, SessionId, UserId};
use atrium_core::protocol::{PresenceStatus, ServerFrame};

use crate::context::Context;
use crate::outbox::{Delivery, SessionOutbox};
use crate::wire;

/// One user's presence as `GET /api/v1/presence` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserPresence {
    pub user: UserId,
    pub status: PresenceStatus,
    /// Live sessions right now (0 while in the grace period).
    pub sessions: usize,
}

pub enum PresenceMsg {
    Connected {
        session: SessionId,
        user: UserId,
        org: OrgId,
        outbox: Arc<SessionOutbox>,
    },
    Disconnected {
        session: SessionId,
        user: UserId,
    },
    /// The grace period of `user`'s last disconnect ended.
    GraceOver {
        user: UserId,
        generation: u64,
    },
    /// Push `frame` (reliable) to every session of each user.
    Deliver {
        users: Vec<UserId>,
        frame: Bytes,
    },
    /// The online users of an organization.
    Online {
        org: OrgId,
        reply: RpcReplyPort<Vec<UserPresence>>,
    },
}

struct UserEntry {
    org: OrgId,
    sessions: Vec<(SessionId, Arc<SessionOutbox>)>,
    /// Set while the grace period after the last disconnect runs.
    leaving: Option<u64>,
}

pub struct PresenceState {
    ctx: Arc<Context>,
    users: HashMap<UserId, UserEntry>,
    orgs: HashMap<OrgId, HashSet<UserId>>,
    generation: u64,
}

pub struct PresenceActor;

impl Actor for PresenceActor {
    type Msg = PresenceMsg;
    type State = PresenceState;
    type Arguments = Arc<Context>;

    async fn pre_start(
        &self,
        _myself: ActorRef<PresenceMsg>,
        ctx: Arc<Context>,
    ) -> Result<PresenceState, ActorProcessingErr> {
        let mut state = PresenceState {
            ctx: ctx.clone(),
            users: HashMap::new(),
            orgs: HashMap::new(),
            generation: 0,
        };
        // Rebuild from the live sessions (empty on first start).
        for session in ctx.sessions.all() {
            let auth = session.auth();
            state.connect(session.id, auth.user, auth.org, session.outbox.clone());
        }
        Ok(state)
    }

    async fn post_start(
        &self,
        myself: ActorRef<PresenceMsg>,
        state: &mut PresenceState,
    ) -> Result<(), ActorProcessingErr> {
        state.ctx.presence.install(myself);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<PresenceMsg>,
        message: PresenceMsg,
        state: &mut PresenceState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PresenceMsg::Connected {
                session,
                user,
                org,
                outbox,
            } => {
                if state.connect(session, user, org, outbox) {
                    state.announce(org, user, PresenceStatus::Online);
                }
            }
            PresenceMsg::Disconnected { session, user } => {
                let Some(entry) = state.users.get_mut(&user) else {
                    return Ok(());
                };
                entry.sessions.retain(|(id, _)| *id != session);
                if entry.sessions.is_empty() && entry.leaving.is_none() {
                    state.generation += 1;
                    let generation = state.generation;
                    entry.leaving = Some(generation);
                    myself.send_after(state.ctx.config.presence_grace, move || {
                        PresenceMsg::GraceOver { user, generation }
                    });
                }
            }
            PresenceMsg::GraceOver { user, generation } => {
                let gone = state
                    .users
                    .get(&user)
                    .is_some_and(|e| e.sessions.is_empty() && e.leaving == Some(generation));
                if gone && let Some(entry) = state.users.remove(&user) {
                    if let Some(users) = state.orgs.get_mut(&entry.org) {
                        users.remove(&user);
                        if users.is_empty() {
                            state.orgs.remove(&entry.org);
                        }
                    }
                    state.announce(entry.org, user, PresenceStatus::Offline);
                }
            }
            PresenceMsg::Deliver { users, frame } => {
                for user in users {
                    if let Some(entry) = state.users.get(&user) {
                        for (_, outbox) in &entry.sessions {
                            outbox.push(frame.clone(), Delivery::Reliable);
                        }
                    }
                }
            }
            PresenceMsg::Online { org, reply } => {
                let online = state
                    .orgs
                    .get(&org)
                    .into_iter()
                    .flatten()
                    .filter_map(|user| {
                        state.users.get(user).map(|entry| UserPresence {
                            user: *user,
                            status: PresenceStatus::Online,
                            sessions: entry.sessions.len(),
                        })
                    })
                    .collect();
                let _ = reply.send(online);
            }
        }
        Ok(())
    }
}

impl PresenceState {
    /// Records a session; returns whether the user just came online (was neither online nor in
    /// a grace period).
    fn connect(
        &mut self,
        session: SessionId,
        user: UserId,
        org: OrgId,
        outbox: Arc<SessionOutbox>,
    ) -> bool {
        let entry = self.users.entry(user).or_insert_with(|| UserEntry {
            org,
            sessions: Vec::new(),
            leaving: None,
        });
        let came_online = entry.sessions.is_empty() && entry.leaving.is_none();
        entry.leaving = None;
        if !entry.sessions.iter().any(|(id, _)| *id == session) {
            entry.sessions.push((session, outbox));
        }
        self.orgs.entry(org).or_default().insert(user);
        came_online
    }

    /// Pushes a presence change to every session of the organization.
    fn announce(&self, org: OrgId, user: UserId, status: PresenceStatus) {
        let Some(frame) = wire::encode(&ServerFrame::Presence { user, status }) else {
            return;
        };
        let mut hasher = DefaultHasher::new();
        ("presence", user).hash(&mut hasher);
        let delivery = Delivery::Droppable {
            key: hasher.finish(),
        };
        for member in self.orgs.get(&org).into_iter().flatten() {
            if let Some(entry) = self.users.get(member) {
                for (_, outbox) in &entry.sessions {
                    outbox.push(frame.clone(), delivery);
                }
            }
        }
    }
}
