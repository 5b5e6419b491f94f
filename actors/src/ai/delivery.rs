//! Who sees a generation: every session of the user who started it and, when the conversation
//! belongs to a channel, every session subscribed to that channel.
//!
//! A frame is encoded once and the same `Bytes` is queued everywhere (reliable delivery: a
//! session that cannot take it is a slow consumer and resumes). Sessions are looked up for each
//! push, so a session the user opens mid-answer receives the rest of it.

use bytes::Bytes;

use atrium_core::ids::{ChannelId, OrgId, UserId};
use atrium_core::protocol::ServerFrame;

use crate::channel::ChannelKey;
use crate::context::Context;
use crate::outbox::Delivery;
use crate::wire;

/// The audience of one stream.
#[derive(Clone, Copy, Debug)]
pub struct Audience {
    pub org: OrgId,
    pub user: UserId,
    pub channel: Option<ChannelId>,
}

impl Audience {
    /// Encodes `frame` once and queues it for the audience; returns how many sessions got it.
    pub fn push(&self, ctx: &Context, frame: &ServerFrame) -> usize {
        match wire::encode(frame) {
            Some(bytes) => self.push_encoded(ctx, &bytes),
            None => 0,
        }
    }

    pub fn push_encoded(&self, ctx: &Context, bytes: &Bytes) -> usize {
        let mut reached = 0;
        for outbox in ctx.sessions.outboxes_of(self.user) {
            outbox.push(bytes.clone(), Delivery::Reliable);
            reached += 1;
        }
        if let Some(channel) = self.channel
            && let Some(shared) = ctx.channels.get(ChannelKey {
                org: self.org,
                channel,
            })
        {
            // The user's own sessions were reached above.
            for subscriber in shared.subscribers().iter() {
                if subscriber.user != self.user {
                    subscriber.outbox.push(bytes.clone(), Delivery::Reliable);
                    reached += 1;
                }
            }
        }
        reached
    }
}
