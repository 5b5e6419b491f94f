//! Store round trips a channel runs beside its actor.
//!
//! The actor checks what it can from memory (membership, role), then hands anything that needs
//! the database to a task here so the channel keeps fanning out while the store answers. Each
//! task replies to the requester itself and reports what changed back to the actor
//! ([`ChannelMsg::Applied`]), which publishes it. `Work` counts the tasks in flight so an idle
//! channel never stops with an answer still on its way.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use atrium_core::ids::{MessageId, OrgId, SessionId};
use atrium_core::model::{AuditEntry, Message};
use atrium_core::protocol::{EncodeError, ErrorCode, HistoryPage};
use atrium_persistence::store::StoreError;

use crate::channel::mentions::parse_mentions;
use crate::channel::{ChannelMsg, ChannelShared, Outcome, Requester};
use crate::context::Context;
use crate::outbox::{Delivery, SessionOutbox};
use crate::wire;

/// The audit action of a message deleted by someone other than its author (a moderator). The
/// entry names the message, channel, author and seq by id; never the body.
pub const AUDIT_MODERATED_DELETE: &str = "message.delete_moderated";

/// Spawns tasks for one channel and counts them.
#[derive(Clone)]
pub struct Work {
    pub ctx: Arc<Context>,
    pub shared: Arc<ChannelShared>,
    pub in_flight: Arc<AtomicUsize>,
}

impl Work {
    fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let in_flight = self.in_flight.clone();
        tokio::spawn(async move {
            task.await;
            in_flight.fetch_sub(1, Ordering::AcqRel);
        });
    }

    fn report(shared: &ChannelShared, outcome: Outcome) {
        shared.slot.send(ChannelMsg::Applied(outcome), false);
    }

    /// `msg.edit`: only the author may edit, and not a deleted message.
    pub fn edit(&self, from: Requester, org: OrgId, id: MessageId, body: String) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            let channel = shared.key.channel;
            let Some(message) = load_message(&ctx, &from, channel, id).await else {
                return;
            };
            if message.sender_id != from.user {
                return from.reply_err(ErrorCode::Forbidden, "only the author may edit a message");
            }
            if message.deleted {
                return from.reply_err(ErrorCode::Conflict, "the message was deleted");
            }
            let names = parse_mentions(&body);
            let mentions = if names.is_empty() {
                Vec::new()
            } else {
                match ctx.store.find_users_by_usernames(org, &names).await {
                    Ok(users) => users.into_iter().map(|u| u.id).collect(),
                    Err(error) => return internal(&from, "mention lookup", &error),
                }
            };
            let now = OffsetDateTime::now_utc();
            match ctx
                .store
                .edit_message(channel, id, from.user, &body, &mentions, now)
                .await
            {
                Ok(edited) => {
                    from.reply_ok();
                    Self::report(&shared, Outcome::Edited(edited));
                }
                Err(StoreError::NotFound) => {
                    from.reply_err(ErrorCode::NotFound, "no such message in this channel")
                }
                Err(error) => internal(&from, "edit", &error),
            }
        });
    }

    /// `msg.delete`: the author, or anyone who may moderate the channel. Deleting twice is fine.
    pub fn delete(&self, from: Requester, id: MessageId, may_moderate: bool) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            let channel = shared.key.channel;
            let Some(message) = load_message(&ctx, &from, channel, id).await else {
                return;
            };
            if message.sender_id != from.user && !may_moderate {
                return from.reply_err(
                    ErrorCode::Forbidden,
                    "only the author or a channel moderator may delete a message",
                );
            }
            if message.deleted {
                return from.reply_ok();
            }
            match ctx.store.delete_message(channel, id).await {
                Ok(deleted) => {
                    from.reply_ok();
                    if deleted.sender_id != from.user {
                        audit_moderated_delete(&ctx, shared.key.org, &from, &deleted).await;
                    }
                    Self::report(&shared, Outcome::Deleted(deleted));
                }
                Err(StoreError::NotFound) => {
                    from.reply_err(ErrorCode::NotFound, "no such message in this channel")
                }
                Err(error) => internal(&from, "delete", &error),
            }
        });
    }

    /// `react`: on a message of this channel that is not deleted.
    pub fn react(&self, from: Requester, id: MessageId, emoji: String, on: bool) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            let channel = shared.key.channel;
            let Some(message) = load_message(&ctx, &from, channel, id).await else {
                return;
            };
            if message.deleted {
                return from.reply_err(ErrorCode::Conflict, "the message was deleted");
            }
            match ctx.store.set_reaction(id, from.user, &emoji, on).await {
                Ok(changed) => {
                    from.reply_ok();
                    if changed {
                        Self::report(
                            &shared,
                            Outcome::Reaction {
                                id,
                                emoji,
                                user: from.user,
                                on,
                            },
                        );
                    }
                }
                Err(error) => internal(&from, "reaction", &error),
            }
        });
    }

    /// `read`: stores the member's read mark (never lowered) and publishes the stored value.
    pub fn read(&self, from: Requester, seq: i64) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            match ctx
                .store
                .mark_read(shared.key.channel, from.user, seq)
                .await
            {
                Ok(stored) => {
                    from.reply_ok();
                    Self::report(
                        &shared,
                        Outcome::Read {
                            user: from.user,
                            seq: stored,
                        },
                    );
                }
                Err(StoreError::NotFound) => {
                    from.reply_err(ErrorCode::Forbidden, "not a member of this channel")
                }
                Err(error) => internal(&from, "read mark", &error),
            }
        });
    }

    /// `history`: a page of older messages, trimmed (oldest first) to fit in one frame.
    pub fn history(&self, from: Requester, before_seq: Option<i64>, limit: u32) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            let Some(rid) = from.rid else { return };
            match ctx
                .store
                .history(shared.key.channel, before_seq, limit)
                .await
            {
                Ok(messages) => match history_reply(rid, &messages) {
                    Ok(frame) => {
                        from.outbox.push(frame, Delivery::Reliable);
                    }
                    Err(error) => {
                        tracing::error!(%error, "history reply could not be encoded");
                        from.reply_err(ErrorCode::Internal, "the page could not be encoded");
                    }
                },
                Err(error) => internal(&from, "history", &error),
            }
        });
    }

    /// Replays the messages with seq in `(after, upto]` to one resuming subscriber, waiting for
    /// room in its outbox, then tells the actor so it can flush what arrived live meanwhile.
    pub fn replay(&self, session: SessionId, outbox: Arc<SessionOutbox>, after: i64, upto: i64) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            let channel = shared.key.channel;
            let page = ctx.config.replay_page.max(1);
            let mut from = after;
            while from < upto {
                let want = u32::try_from(upto - from).unwrap_or(u32::MAX).min(page);
                let messages = match ctx.store.messages_after(channel, from, want).await {
                    Ok(messages) => messages,
                    Err(error) => {
                        tracing::warn!(%channel, %error, "resume replay failed");
                        outbox.close(
                            ErrorCode::Internal,
                            "resume failed; reconnect and resume again",
                            false,
                        );
                        return;
                    }
                };
                if messages.is_empty() {
                    break;
                }
                for message in messages.into_iter().take_while(|m| m.seq <= upto) {
                    for frame in message_frames(&message) {
                        if !outbox.push_wait(frame).await {
                            return; // the session closed; it will be dropped on next fan-out
                        }
                    }
                    from = message.seq;
                }
            }
            shared
                .slot
                .send(ChannelMsg::ReplayDone { session, upto }, false);
        });
    }

    /// Fetches the messages with seq in `(after, before)` that never reached the sequencer.
    pub fn fetch_missing(&self, after: i64, before: i64) {
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        self.spawn(async move {
            let channel = shared.key.channel;
            let want = u32::try_from(before - after - 1).unwrap_or(u32::MAX).max(1);
            match ctx.store.messages_after(channel, after, want).await {
                Ok(messages) => Self::report(&shared, Outcome::Missing(messages)),
                Err(error) => {
                    tracing::warn!(%channel, %error, "could not fetch missing messages");
                    Self::report(&shared, Outcome::Missing(Vec::new()));
                }
            }
        });
    }
}

/// The frames replay sends for one stored message: `msg`, then its later state if any.
pub fn message_frames(message: &Message) -> impl Iterator<Item = bytes::Bytes> {
    let msg = wire::encode(&wire::msg_push(message));
    let later = wire::state_push(message).and_then(|f| wire::encode(&f));
    msg.into_iter().chain(later)
}

async fn load_message(
    ctx: &Context,
    from: &Requester,
    channel: atrium_core::ids::ChannelId,
    id: MessageId,
) -> Option<Message> {
    match ctx.store.get_message(channel, id).await {
        Ok(message) => Some(message),
        Err(StoreError::NotFound) => {
            from.reply_err(ErrorCode::NotFound, "no such message in this channel");
            None
        }
        Err(error) => {
            internal(from, "message lookup", &error);
            None
        }
    }
}

fn internal(from: &Requester, what: &str, error: &StoreError) {
    tracing::warn!(%error, "{what} failed");
    from.reply_err(
        ErrorCode::Internal,
        "the server could not complete the request",
    );
}

/// The encoded `ok` reply to `history`: the newest messages that fit in one frame (the codec
/// drops the oldest and sets `has_more` when they do not all fit). Seqs are gap free from 1, so
/// older messages exist exactly when the first seq is above 1.
pub fn history_reply(rid: u32, messages: &[Message]) -> Result<bytes::Bytes, EncodeError> {
    let page = HistoryPage {
        messages: messages.iter().map(wire::history_entry).collect(),
        has_more: messages.first().is_some_and(|m| m.seq > 1),
    };
    wire::CODEC.encode_history_reply(rid, page)
}

/// Records a moderator's deletion of someone else's message. A failed write is logged, not
/// returned: the deletion has happened and the client was told so.
async fn audit_moderated_delete(ctx: &Context, org: OrgId, from: &Requester, deleted: &Message) {
    let now = OffsetDateTime::now_utc();
    let entry = AuditEntry {
        id: 0,
        org_id: org,
        actor_id: Some(from.user),
        action: AUDIT_MODERATED_DELETE.to_owned(),
        target: Some(deleted.id.to_string()),
        detail: serde_json::json!({
            "channel_id": deleted.channel_id,
            "author_id": deleted.sender_id,
            "seq": deleted.seq,
        }),
        // Stored with millisecond precision, like every other audit entry.
        at: now.replace_millisecond(now.millisecond()).unwrap_or(now),
    };
    if let Err(error) = ctx.store.append_audit(&entry).await {
        tracing::error!(action = AUDIT_MODERATED_DELETE, %error, "could not write audit entry");
    }
}
