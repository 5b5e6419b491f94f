//! `SessionHandle`: what a transport holds for its connection.
//!
//! In: decoded requests ([`SessionHandle::request`]). Out: the [`SessionOutbox`], which the
//! transport drains and writes. Dropping the handle closes the session, so a transport that
//! returns early (error, panic) never leaves a session behind.

use std::sync::Arc;

use atrium_core::ids::{SessionId, UserId};
use atrium_core::protocol::ClientFrame;

use crate::context::Context;
use crate::datagram::DatagramSink;
use crate::outbox::SessionOutbox;
use crate::rooms::{RoomInput, RoomInputRefused, input};
use crate::session::{SessionAuth, SessionMsg, SessionShared};
use crate::slot::Sent;

/// The session is closed; the request was not taken.
#[derive(Debug, thiserror::Error)]
#[error("the session is closed")]
pub struct SessionClosed;

/// `auth.refresh` brought a token for someone else.
#[derive(Debug, thiserror::Error)]
#[error("the new token belongs to another user")]
pub struct WrongUser;

pub struct SessionHandle {
    pub(crate) ctx: Arc<Context>,
    pub(crate) shared: Arc<SessionShared>,
}

impl SessionHandle {
    pub fn id(&self) -> SessionId {
        self.shared.id
    }

    pub fn user(&self) -> UserId {
        self.shared.auth().user
    }

    /// The current authentication (updated by [`SessionHandle::refresh_auth`]).
    pub fn auth(&self) -> SessionAuth {
        self.shared.auth()
    }

    /// Where replies and pushes for this session appear.
    pub fn outbox(&self) -> &Arc<SessionOutbox> {
        &self.shared.outbox
    }

    /// Hands a decoded request to the session actor (never waits).
    pub fn request(&self, frame: ClientFrame) -> Result<(), SessionClosed> {
        if self.shared.is_closed() {
            return Err(SessionClosed);
        }
        self.deliver(SessionMsg::Frame(frame))
    }

    /// Sends a counted message (one that keeps the actor from hibernating until handled),
    /// waking a hibernating session.
    fn deliver(&self, message: SessionMsg) -> Result<(), SessionClosed> {
        match self.shared.slot.send(message, true) {
            Sent::Delivered => Ok(()),
            Sent::Parked => {
                self.ctx.sessions.wake(&self.ctx, &self.shared);
                Ok(())
            }
            Sent::Refused(_) | Sent::Lost => Err(SessionClosed),
        }
    }

    /// Submits an avatar input (`pos`, `room.ack`, `room.teleport`) straight to the room
    /// simulation, without waking the session actor.
    pub fn room_input(&self, room_input: RoomInput) -> Result<(), RoomInputRefused> {
        input::submit(&self.ctx.rooms, self.shared.id, room_input)
    }

    /// Lets room snapshots reach this session as datagrams (WebTransport).
    pub fn attach_datagrams(&self, sink: Arc<dyn DatagramSink>) {
        self.shared.set_datagrams(sink);
    }

    /// Replaces the session's authentication after `auth.refresh` verified a new token for the
    /// same user (the role may have changed; the expiry has).
    pub fn refresh_auth(&self, auth: SessionAuth) -> Result<(), WrongUser> {
        let current = self.shared.auth();
        if auth.user != current.user || auth.org != current.org {
            return Err(WrongUser);
        }
        self.shared.set_auth(auth);
        Ok(())
    }

    /// Ends the session: unsubscribes, leaves presence, stops the actor. Idempotent.
    pub fn close(&self) {
        if self.shared.is_closed() {
            return;
        }
        if self.deliver(SessionMsg::Close).is_err() {
            // No actor will run the cleanup: do it here.
            crate::session::actor::cleanup(&self.ctx, &self.shared);
        }
    }

    /// Test hook: makes the session actor panic.
    #[cfg(feature = "fault-injection")]
    pub fn crash(&self) {
        if let Sent::Parked = self.shared.slot.send(SessionMsg::Crash, false) {
            self.ctx.sessions.wake(&self.ctx, &self.shared);
        }
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        self.close();
    }
}
