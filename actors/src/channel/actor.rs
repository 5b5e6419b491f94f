//! `ChannelActor`: one per active channel.
//!
//! It owns the in-memory view of the channel (members and their roles, the last published seq,
//! the recent-message ring, who is typing) and is the only place that pushes the channel's
//! frames, so every subscriber sees one order. It never waits for the database on the hot path:
//! sends go through the commit [`pipeline`](super::pipeline), other store work through
//! [`work`](super::work), and both report back with messages.
//!
//! Lifecycle: started by the [`directory`](super::directory) on first use; `post_start` loads the
//! channel from the store (a restarted actor does the same, then publishes whatever was
//! committed after the last seq its subscribers saw); it stops itself after
//! `channel_idle_timeout` without subscribers or work.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef};

use atrium_core::ids::{ChannelId, UserId};
use atrium_core::model::{MemberRole, Message};
use atrium_core::protocol::{ErrorCode, OkResult, ServerFrame, SubOk};
use atrium_persistence::store::StoreError;

use crate::channel::pipeline::{CommitJob, Pipeline};
use crate::channel::ring::Ring;
use crate::channel::sequencer::Sequencer;
use crate::channel::work::{Work, message_frames};
use crate::channel::{ChannelMsg, ChannelRequest, ChannelShared, Outcome, Requester};
use crate::context::Context;
use crate::outbox::Delivery;
use crate::presence::PresenceMsg;
use crate::wire;

/// Permission (see `atrium_core::rbac`) that lets organization admins and moderators delete
/// anyone's message in any channel they belong to.
pub const MODERATE_PERMISSION: &str = "messages.moderate";
/// Permission needed to post, edit, react and type.
pub const WRITE_PERMISSION: &str = "messages.write";

pub struct ChannelActor;

/// The channel as loaded from the store; `None` in [`ChannelState::loaded`] means this
/// organization has no such channel.
struct Loaded {
    members: HashMap<UserId, MemberRole>,
}

pub struct ChannelState {
    ctx: Arc<Context>,
    shared: Arc<ChannelShared>,
    loaded: Option<Loaded>,
    sequencer: Sequencer,
    ring: Ring,
    /// Who is typing, with the generation of their latest `typing {on: true}`.
    typing: HashMap<UserId, u64>,
    typing_generation: u64,
    pipeline: Pipeline,
    work: Work,
    last_activity: Instant,
    gap_check_scheduled: bool,
    idle_timer: Option<tokio::task::JoinHandle<()>>,
}

impl ChannelState {
    fn channel(&self) -> ChannelId {
        self.shared.key.channel
    }
}

impl Actor for ChannelActor {
    type Msg = ChannelMsg;
    type State = ChannelState;
    type Arguments = (Arc<Context>, Arc<ChannelShared>);

    /// Cheap on purpose: the directory spawns under its lock. Loading happens in `post_start`.
    async fn pre_start(
        &self,
        _myself: ActorRef<ChannelMsg>,
        (ctx, shared): (Arc<Context>, Arc<ChannelShared>),
    ) -> Result<ChannelState, ActorProcessingErr> {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let pipeline = Pipeline::start(ctx.clone(), shared.clone(), in_flight.clone());
        let work = Work {
            ctx: ctx.clone(),
            shared: shared.clone(),
            in_flight,
        };
        Ok(ChannelState {
            ring: Ring::new(ctx.config.ring_capacity),
            ctx,
            shared,
            loaded: None,
            sequencer: Sequencer::new(0),
            typing: HashMap::new(),
            typing_generation: 0,
            pipeline,
            work,
            last_activity: Instant::now(),
            gap_check_scheduled: false,
            idle_timer: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<ChannelMsg>,
        state: &mut ChannelState,
    ) -> Result<(), ActorProcessingErr> {
        load(state).await?;
        let period = if state.loaded.is_some() {
            (state.ctx.config.channel_idle_timeout / 2).max(Duration::from_millis(10))
        } else {
            // No such channel for this organization: answer what is queued, then go away.
            let _ = myself.cast(ChannelMsg::IdleTick);
            Duration::from_secs(1)
        };
        state.idle_timer = Some(myself.send_interval(period, || ChannelMsg::IdleTick));
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ChannelMsg>,
        state: &mut ChannelState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(timer) = state.idle_timer.take() {
            timer.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ChannelMsg>,
        message: ChannelMsg,
        state: &mut ChannelState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ChannelMsg::Request { from, request } => {
                state.last_activity = Instant::now();
                let result = handle_request(&myself, state, from, request).await;
                state.shared.slot.handled();
                result?;
            }
            ChannelMsg::Committed(message) => accept(&myself, state, message),
            ChannelMsg::Applied(outcome) => apply(&myself, state, outcome),
            ChannelMsg::ReplayDone { session, upto } => {
                let after = state.shared.subscribers().finish_replay(session);
                if after == super::subscribers::AfterReplay::Extend {
                    let published = state.sequencer.published();
                    let outbox = state
                        .shared
                        .subscribers()
                        .iter()
                        .find(|s| s.session == session)
                        .map(|s| s.outbox.clone());
                    if let Some(outbox) = outbox {
                        state.work.replay(session, outbox, upto, published);
                    }
                }
            }
            ChannelMsg::CheckGap => {
                state.gap_check_scheduled = false;
                if let Some((after, before)) = state.sequencer.gap() {
                    state.work.fetch_missing(after, before);
                }
            }
            ChannelMsg::TypingExpired { user, generation } => {
                if state.typing.get(&user) == Some(&generation) {
                    state.typing.remove(&user);
                    publish_typing(state, user, false);
                }
            }
            ChannelMsg::IdleTick => maybe_retire(&myself, state),
            ChannelMsg::ReloadMembers => reload_members(state).await?,
            #[cfg(feature = "fault-injection")]
            ChannelMsg::Crash => panic!("fault injection: channel {} crashed", state.channel()),
        }
        Ok(())
    }
}

/// Loads the channel, its members and recent messages; publishes what was committed after the
/// last seq subscribers saw (only a restarted actor finds anything there).
async fn load(state: &mut ChannelState) -> Result<(), ActorProcessingErr> {
    let ctx = state.ctx.clone();
    let key = state.shared.key;
    let channel = match ctx.store.get_channel(key.org, key.channel).await {
        Ok(channel) => channel,
        Err(StoreError::NotFound) => {
            state.loaded = None;
            return Ok(());
        }
        Err(error) => return Err(Box::new(error)),
    };
    let members = ctx.store.list_members(key.channel).await?;
    state.loaded = Some(Loaded {
        members: members.into_iter().map(|m| (m.user_id, m.role)).collect(),
    });

    let mut published = state.shared.published.load(Ordering::Acquire);
    if published < 0 {
        published = channel.last_seq;
    }
    state.sequencer = Sequencer::new(published);
    state.shared.published.store(published, Ordering::Release);

    let capacity = u32::try_from(ctx.config.ring_capacity).unwrap_or(u32::MAX);
    if capacity > 0 && published > 0 {
        for message in ctx
            .store
            .history(key.channel, Some(published + 1), capacity)
            .await?
        {
            push_to_ring(state, &message);
        }
    }

    // Committed but never published (the previous incarnation died first).
    let mut after = published;
    while after < channel.last_seq {
        let page = ctx
            .store
            .messages_after(key.channel, after, ctx.config.replay_page.max(1))
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for message in page {
            for ready in state.sequencer.accept(message) {
                publish_message(state, ready);
            }
        }
    }
    Ok(())
}

fn push_to_ring(state: &mut ChannelState, message: &Message) {
    let mut frames = message_frames(message);
    if let Some(msg) = frames.next() {
        state.ring.push(message.seq, message.id, msg, frames.next());
    }
}

async fn reload_members(state: &mut ChannelState) -> Result<(), ActorProcessingErr> {
    if state.loaded.is_none() {
        return Ok(());
    }
    let members = state.ctx.store.list_members(state.channel()).await?;
    let members: HashMap<UserId, MemberRole> =
        members.into_iter().map(|m| (m.user_id, m.role)).collect();
    let removed = state
        .shared
        .subscribers()
        .retain_users(|user| members.contains_key(&user));
    let message = format!("removed from channel {}", state.channel());
    for subscriber in removed {
        wire::reply_err(&subscriber.outbox, None, ErrorCode::Forbidden, &message);
    }
    state.loaded = Some(Loaded { members });
    Ok(())
}

/// The requester's role in the channel: from memory, or the store for someone added since the
/// channel was loaded. `None`: not a member (or no such channel).
async fn member_role(
    state: &mut ChannelState,
    user: UserId,
) -> Result<Option<MemberRole>, StoreError> {
    let channel = state.channel();
    let Some(loaded) = &mut state.loaded else {
        return Ok(None);
    };
    if let Some(role) = loaded.members.get(&user) {
        return Ok(Some(*role));
    }
    match state.ctx.store.get_member(channel, user).await {
        Ok(member) => {
            loaded.members.insert(user, member.role);
            Ok(Some(member.role))
        }
        Err(StoreError::NotFound) => Ok(None),
        Err(error) => Err(error),
    }
}

async fn handle_request(
    myself: &ActorRef<ChannelMsg>,
    state: &mut ChannelState,
    from: Requester,
    request: ChannelRequest,
) -> Result<(), ActorProcessingErr> {
    if let ChannelRequest::Unsubscribe = request {
        // Always allowed, even after losing membership.
        state.shared.subscribers().remove(from.session);
        from.reply_ok();
        return Ok(());
    }
    let role = match member_role(state, from.user).await {
        Ok(Some(role)) => role,
        Ok(None) => {
            from.reply_err(ErrorCode::Forbidden, "not a member of this channel");
            return Ok(());
        }
        Err(error) => {
            tracing::warn!(channel = %state.channel(), %error, "membership lookup failed");
            from.reply_err(ErrorCode::Internal, "membership could not be checked");
            return Ok(());
        }
    };
    let needs_write = matches!(
        request,
        ChannelRequest::Send { .. }
            | ChannelRequest::Edit { .. }
            | ChannelRequest::React { .. }
            | ChannelRequest::Typing { .. }
    );
    if needs_write && !from.role.can(WRITE_PERMISSION) {
        from.reply_err(ErrorCode::Forbidden, "your role may not write messages");
        return Ok(());
    }
    match request {
        ChannelRequest::Unsubscribe => {}
        ChannelRequest::Subscribe { after } => subscribe(state, from, after),
        ChannelRequest::Send {
            body,
            reply_to,
            nonce,
        } => {
            if state.typing.remove(&from.user).is_some() {
                publish_typing(state, from.user, false);
            }
            state.work.in_flight.fetch_add(1, Ordering::AcqRel);
            let job = CommitJob {
                from,
                org: state.shared.key.org,
                body,
                reply_to,
                nonce,
            };
            if let Err(job) = state.pipeline.submit(job) {
                state.work.in_flight.fetch_sub(1, Ordering::AcqRel);
                job.from
                    .reply_err(ErrorCode::Internal, "the channel is restarting; retry");
            }
        }
        ChannelRequest::Edit { id, body } => {
            state.work.edit(from, state.shared.key.org, id, body);
        }
        ChannelRequest::Delete { id } => {
            let may_moderate = role.can_moderate() || from.role.can(MODERATE_PERMISSION);
            state.work.delete(from, id, may_moderate);
        }
        ChannelRequest::React { id, emoji, on } => state.work.react(from, id, emoji, on),
        ChannelRequest::History { before_seq, limit } => {
            state.work.history(from, before_seq, limit);
        }
        ChannelRequest::Typing { on } => {
            set_typing(myself, state, from.user, on);
            from.reply_ok();
        }
        ChannelRequest::Read { seq } => {
            let seq = seq.min(state.sequencer.published());
            state.work.read(from, seq);
        }
    }
    Ok(())
}

/// Subscribes `from`; with `after`, the messages after that seq come first, exactly once: from
/// the ring right here, or from the store through a replay task while live pushes are held back.
fn subscribe(state: &mut ChannelState, from: Requester, after: Option<i64>) {
    let published = state.sequencer.published();
    if let Some(rid) = from.rid {
        wire::reply(
            &from.outbox,
            &ServerFrame::Ok {
                rid,
                result: OkResult::Subscribed(SubOk {
                    last_seq: published,
                }),
            },
        );
    }
    let mut subscribers = state.shared.subscribers();
    let after = match after {
        Some(after) if after < published => after,
        _ => {
            subscribers.add_live(from.session, from.user, from.outbox);
            return;
        }
    };
    let hot = state.ring.covers(after, published)
        && state.ring.count_between(after, published) <= from.outbox.free_frames() / 2;
    if hot {
        for frame in state.ring.frames_between(after, published) {
            from.outbox.push(frame.clone(), Delivery::Reliable);
        }
        subscribers.add_live(from.session, from.user, from.outbox);
    } else {
        subscribers.add_replaying(from.session, from.user, from.outbox.clone());
        drop(subscribers);
        state
            .work
            .replay(from.session, from.outbox, after, published);
    }
}

/// Takes a committed message into the sequencer and publishes whatever is now in order.
fn accept(myself: &ActorRef<ChannelMsg>, state: &mut ChannelState, message: Message) {
    for ready in state.sequencer.accept(message) {
        publish_message(state, ready);
    }
    schedule_gap_check(myself, state);
}

fn schedule_gap_check(myself: &ActorRef<ChannelMsg>, state: &mut ChannelState) {
    if state.sequencer.gap().is_some() && !state.gap_check_scheduled {
        state.gap_check_scheduled = true;
        myself.send_after(state.ctx.config.gap_fill_delay, || ChannelMsg::CheckGap);
    }
}

/// Encodes a message once, keeps it in the ring, and pushes it to every subscriber; mentioned
/// members get a `mention` on all their sessions.
fn publish_message(state: &mut ChannelState, message: Message) {
    let mut frames = message_frames(&message);
    if let Some(msg) = frames.next() {
        let later = frames.next();
        state
            .ring
            .push(message.seq, message.id, msg.clone(), later.clone());
        let mut subscribers = state.shared.subscribers();
        subscribers.publish(&msg, Delivery::Reliable, None);
        if let Some(later) = later {
            subscribers.publish(&later, Delivery::Reliable, None);
        }
    }
    state.shared.published.store(message.seq, Ordering::Release);

    let mentioned: Vec<UserId> = match &state.loaded {
        Some(loaded) => message
            .mentions
            .iter()
            .copied()
            .filter(|u| *u != message.sender_id && loaded.members.contains_key(u))
            .collect(),
        None => Vec::new(),
    };
    if mentioned.is_empty() {
        return;
    }
    let mention = ServerFrame::Mention {
        ch: message.channel_id,
        id: message.id,
        seq: message.seq,
        from: message.sender_id,
    };
    if let Some(frame) = wire::encode(&mention) {
        state.ctx.presence.send(
            PresenceMsg::Deliver {
                users: mentioned,
                frame,
            },
            false,
        );
    }
}

fn apply(myself: &ActorRef<ChannelMsg>, state: &mut ChannelState, outcome: Outcome) {
    let channel = state.channel();
    let (frame, delivery) = match outcome {
        Outcome::Missing(messages) => {
            for message in messages {
                for ready in state.sequencer.accept(message) {
                    publish_message(state, ready);
                }
            }
            schedule_gap_check(myself, state);
            return;
        }
        Outcome::Edited(message) | Outcome::Deleted(message) => {
            let Some(frame) = wire::state_push(&message).and_then(|f| wire::encode(&f)) else {
                return;
            };
            // A deleted message replays with its body cleared, as the store keeps it.
            let msg = message
                .deleted
                .then(|| wire::encode(&wire::msg_push(&message)))
                .flatten();
            state
                .ring
                .set_later(message.id, message.seq, msg, frame.clone());
            (frame, Delivery::Reliable)
        }
        Outcome::Reaction {
            id,
            emoji,
            user,
            on,
        } => {
            let frame = ServerFrame::Reaction {
                ch: channel,
                id,
                emoji,
                user,
                on,
            };
            let Some(frame) = wire::encode(&frame) else {
                return;
            };
            (frame, Delivery::Reliable)
        }
        Outcome::Read { user, seq } => {
            let Some(frame) = wire::encode(&ServerFrame::Read {
                ch: channel,
                user,
                seq,
            }) else {
                return;
            };
            (
                frame,
                Delivery::Droppable {
                    key: coalescing_key("read", channel, user),
                },
            )
        }
    };
    state.shared.subscribers().publish(&frame, delivery, None);
}

fn set_typing(myself: &ActorRef<ChannelMsg>, state: &mut ChannelState, user: UserId, on: bool) {
    if on {
        state.typing_generation += 1;
        let generation = state.typing_generation;
        let was_typing = state.typing.insert(user, generation).is_some();
        myself.send_after(state.ctx.config.typing_ttl, move || {
            ChannelMsg::TypingExpired { user, generation }
        });
        if !was_typing {
            publish_typing(state, user, true);
        }
    } else if state.typing.remove(&user).is_some() {
        publish_typing(state, user, false);
    }
}

/// Typing pushes go to everyone but the typist, and coalesce per (channel, user).
fn publish_typing(state: &mut ChannelState, user: UserId, on: bool) {
    let channel = state.channel();
    let Some(frame) = wire::encode(&ServerFrame::Typing {
        ch: channel,
        user,
        on,
    }) else {
        return;
    };
    let key = coalescing_key("typing", channel, user);
    state
        .shared
        .subscribers()
        .publish(&frame, Delivery::Droppable { key }, Some(user));
}

/// A droppable frame's identity: a newer frame with the same key supersedes a queued one.
pub fn coalescing_key(kind: &str, channel: ChannelId, user: UserId) -> u64 {
    let mut hasher = DefaultHasher::new();
    (kind, channel, user).hash(&mut hasher);
    hasher.finish()
}

/// Retires the actor when nothing is left for it to do.
fn maybe_retire(myself: &ActorRef<ChannelMsg>, state: &mut ChannelState) {
    let absent = state.loaded.is_none();
    if !absent && state.last_activity.elapsed() < state.ctx.config.channel_idle_timeout {
        return;
    }
    if state.work.in_flight.load(Ordering::Acquire) > 0 {
        return;
    }
    let shared = state.shared.clone();
    let retired = state
        .ctx
        .channels
        .retire(&shared, myself.get_id(), || shared.subscribers().is_empty());
    if retired {
        state.ctx.count(|c| c.channels_retired += 1);
        tracing::debug!(channel = %state.channel(), absent, "channel actor idle; stopping");
        // Drain: anything already admitted (a late task result) is still handled.
        let _ = myself.drain();
    }
}
