//! `ActorSlot`: the current incarnation of a restartable actor, and what waits for the next one.
//!
//! Everyone who talks to a restartable actor (a channel, a session, presence) goes through its
//! slot instead of keeping an `ActorRef`. While the actor runs, a send is a plain `cast`. When it
//! has died and its supervisor has not yet installed the replacement, the message is *parked*
//! in order and handed to the replacement first, so a restart loses only what was already inside
//! the dead actor's mailbox, and a sender's messages keep their order across the restart.
//!
//! A slot is *retired* when its actor stopped for good (idle, or out of restart budget); a send
//! to a retired slot hands the message back so the caller can start a fresh actor.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ractor::{ActorRef, Message, MessagingErr};

/// Most messages parked for a dead actor; beyond this, sends fail (the actor is not coming back
/// soon, and an unbounded queue would turn a crash into an outage of the whole node).
pub const MAX_PARKED: usize = 10_000;

/// What happened to a message handed to a slot.
#[derive(Debug)]
pub enum Sent<M> {
    /// Cast to the running actor.
    Delivered,
    /// Kept for the next incarnation.
    Parked,
    /// The slot is retired (or full): the message comes back.
    Refused(M),
    /// The runtime refused the message without returning it (cannot happen with typed refs).
    Lost,
}

struct State<M> {
    actor: Option<ActorRef<M>>,
    /// Parked messages, with whether each counts as pending.
    parked: VecDeque<(M, bool)>,
    retired: bool,
}

pub struct ActorSlot<M> {
    state: Mutex<State<M>>,
    /// Counted messages cast but not yet handled (the actor decrements); an actor only retires
    /// itself when this is zero, so no request is ever stranded in a stopping mailbox.
    pending: AtomicUsize,
}

impl<M: Message> Default for ActorSlot<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Message> ActorSlot<M> {
    /// An empty slot; messages park until [`ActorSlot::install`].
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                actor: None,
                parked: VecDeque::new(),
                retired: false,
            }),
            pending: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `message`; `counted` messages raise the pending count until the actor calls
    /// [`ActorSlot::handled`].
    pub fn send(&self, message: M, counted: bool) -> Sent<M> {
        let mut state = self.lock();
        if state.retired {
            return Sent::Refused(message);
        }
        let message = match &state.actor {
            Some(actor) => {
                if counted {
                    self.pending.fetch_add(1, Ordering::AcqRel);
                }
                match actor.cast(message) {
                    Ok(()) => return Sent::Delivered,
                    Err(MessagingErr::SendErr(message)) => {
                        if counted {
                            self.pending.fetch_sub(1, Ordering::AcqRel);
                        }
                        message
                    }
                    // Only a wrong message type fails otherwise, which the types rule out.
                    Err(_) => {
                        if counted {
                            self.pending.fetch_sub(1, Ordering::AcqRel);
                        }
                        return Sent::Lost;
                    }
                }
            }
            None => message,
        };
        if state.parked.len() >= MAX_PARKED {
            return Sent::Refused(message);
        }
        state.parked.push_back((message, counted));
        Sent::Parked
    }

    /// The actor finished handling one counted message.
    pub fn handled(&self) {
        // Saturating: a restart resets the count while old messages may still be reported.
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Installs a (new) incarnation and hands it the parked messages, in order. Counted messages
    /// lost in the previous incarnation's mailbox no longer count.
    pub fn install(&self, actor: ActorRef<M>) {
        let mut state = self.lock();
        self.pending.store(0, Ordering::Release);
        while let Some((message, counted)) = state.parked.pop_front() {
            if counted {
                self.pending.fetch_add(1, Ordering::AcqRel);
            }
            if actor.cast(message).is_err() && counted {
                self.pending.fetch_sub(1, Ordering::AcqRel);
            }
        }
        state.actor = Some(actor);
    }

    /// Empties the slot if its actor has nothing pending or parked, so the actor can stop
    /// while its owner lives on (a hibernating session); the next send parks and the owner
    /// starts a new incarnation. Returns whether the slot was vacated.
    pub fn vacate_if_idle(&self) -> bool {
        let mut state = self.lock();
        if state.retired || self.pending() > 0 || !state.parked.is_empty() {
            return false;
        }
        state.actor = None;
        true
    }

    /// Whether no incarnation is installed (never started, or vacated).
    pub fn is_vacant(&self) -> bool {
        self.lock().actor.is_none()
    }

    /// The running incarnation, if any.
    pub fn current(&self) -> Option<ActorRef<M>> {
        self.lock().actor.clone()
    }

    /// Retires the slot if `may_retire(pending)` holds (checked under the slot's lock, so no send
    /// slips in between); returns whether it retired.
    pub fn retire_if(&self, may_retire: impl FnOnce(usize) -> bool) -> bool {
        let mut state = self.lock();
        if state.retired || !may_retire(self.pending()) {
            return false;
        }
        state.retired = true;
        true
    }

    /// Retires the slot unconditionally and returns what was parked (to be answered).
    pub fn retire(&self) -> Vec<M> {
        let mut state = self.lock();
        state.retired = true;
        state.actor = None;
        state.parked.drain(..).map(|(m, _)| m).collect()
    }

    pub fn is_retired(&self) -> bool {
        self.lock().retired
    }
}
