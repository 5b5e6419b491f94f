//! `SlaTimers`: the armed SLA deadline of every open ticket on this node, and the one task that
//! wakes ticket actors when a deadline comes.
//!
//! A ticket actor arms its ticket's timer for `SlaClock::next_deadline` after every change (and
//! disarms it when nothing can breach). The deadline is kept here rather than as a sleeping task
//! inside the actor, so an actor can stop when idle without losing its timer, and a timer costs
//! one map entry instead of one actor per open ticket. When a deadline comes, the ticket's actor
//! is started (if it is not running) and told `Deadline`; it recomputes the SLA picture from its
//! clock, records and pushes any breach and arms the next deadline.
//!
//! After a node restart the supervisor re-arms every open ticket from the store
//! (`armed_sla_deadlines`); deadlines that passed while the node was down fire at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};

use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::context::Context;
use crate::ticket::TicketKey;
use crate::ticket::clock::SharedClock;

#[derive(Default)]
struct State {
    by_ticket: HashMap<TicketKey, OffsetDateTime>,
    queue: BTreeSet<(OffsetDateTime, TicketKey)>,
}

#[derive(Default)]
pub struct SlaTimers {
    state: Mutex<State>,
    changed: Arc<Notify>,
}

impl SlaTimers {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms (or with `None` disarms) the ticket's timer, replacing any earlier one.
    pub fn arm(&self, key: TicketKey, deadline: Option<OffsetDateTime>) {
        let mut state = self.lock();
        if let Some(old) = state.by_ticket.remove(&key) {
            state.queue.remove(&(old, key));
        }
        if let Some(at) = deadline {
            state.by_ticket.insert(key, at);
            state.queue.insert((at, key));
        }
        drop(state);
        self.changed.notify_one();
    }

    /// The armed deadline of a ticket.
    pub fn armed(&self, key: TicketKey) -> Option<OffsetDateTime> {
        self.lock().by_ticket.get(&key).copied()
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.lock().by_ticket.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn earliest(&self) -> Option<OffsetDateTime> {
        self.lock().queue.first().map(|(at, _)| *at)
    }

    /// Takes every timer due at `now`.
    fn take_due(&self, now: OffsetDateTime) -> Vec<TicketKey> {
        let mut state = self.lock();
        let mut due = Vec::new();
        while let Some(&(at, key)) = state.queue.first() {
            if at > now {
                break;
            }
            state.queue.remove(&(at, key));
            state.by_ticket.remove(&key);
            due.push(key);
        }
        due
    }
}

/// The wake-up loop: sleeps until the earliest deadline (or until the table changes), then
/// tells each due ticket's actor. Holds the context weakly, so it ends with the node.
pub(crate) fn spawn_wakeup(ctx: &Arc<Context>) -> tokio::task::JoinHandle<()> {
    let weak: Weak<Context> = Arc::downgrade(ctx);
    let clock: SharedClock = ctx.config.tickets.clock.clone();
    tokio::spawn(async move {
        loop {
            let Some(ctx) = weak.upgrade() else { return };
            let notify = ctx.ticket_timers.changed.clone();
            let changed = notify.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let due = ctx.ticket_timers.take_due(clock.now());
            for key in due {
                crate::ticket::directory::deadline_due(&ctx, key);
            }
            let next = ctx.ticket_timers.earliest();
            drop(ctx);
            match next {
                Some(at) => {
                    tokio::select! {
                        () = clock.sleep_until(at) => {}
                        () = &mut changed => {}
                    }
                }
                None => changed.await,
            }
        }
    })
}
