//! `RoomRegistry`: who is in which room, and which session drives each avatar.
//!
//! It lives in the node's `Context`, beside the rooms actor rather than inside it, for two
//! reasons: the transports read it on every `pos` (which goes straight to the simulation without
//! an actor hop), and it tells a restarted rooms actor whom to notify that the simulation was
//! reset. Clients are keyed by user (`ClientId::from(UserId)`): one avatar per user per node, so
//! a reconnect (or a second device) of the same user takes the same avatar over.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use atrium_core::ids::{OrgId, RoomId, SessionId, UserId};
use atrium_core::protocol::RoomInfo;
use atrium_spatial::{AvatarId, ClientId, SpatialHandle};

use crate::session::SessionShared;

/// One user's avatar (or the join that will create it).
pub struct Seat {
    pub user: UserId,
    pub org: OrgId,
    pub room: RoomId,
    /// The session receiving this avatar's outputs; `None` while away (grace period).
    pub session: Option<Arc<SessionShared>>,
    /// `rid` of the `room.join` waiting for its `ok`.
    pub pending_join: Option<u32>,
    /// Set once the simulation placed the avatar.
    pub avatar: Option<AvatarId>,
    pub seat: Option<u16>,
    /// Bumped on every disconnect, so a grace timer only acts on the absence it was set for.
    pub away_generation: u64,
    /// The newest `pos` datagram sequence number taken (older, reordered ones are ignored).
    pub last_pos_seq: Option<u32>,
}

/// A room open in the simulation.
pub struct LiveRoom {
    pub org: OrgId,
    pub info: Arc<RoomInfo>,
    /// Avatars placed in it, by client.
    pub clients: BTreeMap<ClientId, AvatarId>,
}

/// One occupant, as `GET /api/v1/rooms/{id}/occupants` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occupant {
    pub user: UserId,
    pub avatar: u32,
    pub seat: Option<u16>,
    /// The user's connection is gone; the avatar waits out the grace period.
    pub away: bool,
}

#[derive(Default)]
pub struct Tables {
    pub seats: HashMap<ClientId, Seat>,
    pub by_session: HashMap<SessionId, ClientId>,
    pub rooms: HashMap<RoomId, LiveRoom>,
}

impl Tables {
    /// Clients whose seat is in `room` (placed or joining).
    pub fn clients_in(&self, room: RoomId) -> impl Iterator<Item = (&ClientId, &Seat)> {
        self.seats.iter().filter(move |(_, seat)| seat.room == room)
    }

    /// Detaches `client`'s seat from its session (if any).
    pub fn detach(&mut self, client: ClientId) -> Option<Arc<SessionShared>> {
        let seat = self.seats.get_mut(&client)?;
        let session = seat.session.take()?;
        if self.by_session.get(&session.id) == Some(&client) {
            self.by_session.remove(&session.id);
        }
        Some(session)
    }

    /// Forgets `client` entirely.
    pub fn remove(&mut self, client: ClientId) -> Option<Seat> {
        self.detach(client);
        let seat = self.seats.remove(&client)?;
        if let Some(room) = self.rooms.get_mut(&seat.room) {
            room.clients.remove(&client);
        }
        Some(seat)
    }
}

#[derive(Default)]
pub struct RoomRegistry {
    tables: Mutex<Tables>,
    handle: Mutex<Option<SpatialHandle>>,
}

impl RoomRegistry {
    pub fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The running simulation's input handle.
    pub fn handle(&self) -> Option<SpatialHandle> {
        self.handle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_handle(&self, handle: Option<SpatialHandle>) {
        *self.handle.lock().unwrap_or_else(|p| p.into_inner()) = handle;
    }

    /// The client a session drives, if it is in a room.
    pub fn client_of(&self, session: SessionId) -> Option<ClientId> {
        self.lock().by_session.get(&session).copied()
    }

    /// The occupants of a room of `org`; `None` when it is not open (or another tenant's).
    pub fn occupants(&self, org: OrgId, room: RoomId) -> Option<Vec<Occupant>> {
        let tables = self.lock();
        let live = tables.rooms.get(&room).filter(|live| live.org == org)?;
        let mut list: Vec<Occupant> = live
            .clients
            .iter()
            .filter_map(|(client, avatar)| {
                let seat = tables.seats.get(client)?;
                Some(Occupant {
                    user: seat.user,
                    avatar: avatar.0,
                    seat: seat.seat,
                    away: seat.session.is_none(),
                })
            })
            .collect();
        list.sort_by_key(|o| o.avatar);
        Some(list)
    }

    /// How many avatars are in rooms right now.
    pub fn avatars(&self) -> usize {
        self.lock().rooms.values().map(|r| r.clients.len()).sum()
    }
}
