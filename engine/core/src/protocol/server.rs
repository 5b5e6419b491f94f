//! Frames the server sends to a client.
//!
//! Two kinds share one enum: *replies* (`welcome`, `pong`, `ok`, `err`) echo the `rid` of the
//! request they answer, and *pushes* (`msg`, `typing`, `presence`, …) carry no `rid` because no
//! request asked for them. `bye` is the last frame before the server closes a session.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{
    ChannelId, ConversationId, MessageId, RoomId, SessionId, StreamId, TicketId, UserId,
};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::room::{
    RoomClosedReason, RoomEventKind, RoomJoined, SnapshotData, SourceGain,
};
use crate::protocol::ticket::CommentPush;
use crate::ticket::records::SlaTarget;
use crate::ticket::{Ticket, TicketNumber};

/// A server → client frame: a MessagePack map whose `t` field names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum ServerFrame {
    /// Reply to `hello`: the session is authenticated.
    #[serde(rename = "welcome")]
    Welcome {
        rid: u32,
        session: SessionId,
        user: UserId,
        /// The server's heartbeat interval: it probes the connection this often and closes a peer
        /// silent for about two intervals. A client that hears nothing for two intervals should
        /// reconnect and resume.
        heartbeat_ms: u32,
        /// Unread message count per channel the user belongs to (channels with none are omitted).
        #[serde(default)]
        unread: BTreeMap<ChannelId, u64>,
    },
    /// Reply to `ping`.
    #[serde(rename = "pong")]
    Pong { rid: u32 },
    /// Success reply; the result fields sit beside `rid` in the same map.
    #[serde(rename = "ok")]
    Ok {
        rid: u32,
        #[serde(flatten)]
        result: OkResult,
    },
    /// Failure reply. `rid` is absent only when the request's rid could not be read.
    #[serde(rename = "err")]
    Err {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<u32>,
        code: ErrorCode,
        message: String,
    },
    /// Push: a new message was committed in a subscribed channel.
    #[serde(rename = "msg")]
    Msg {
        ch: ChannelId,
        seq: i64,
        id: MessageId,
        from: UserId,
        body: String,
        /// Commit time, unix milliseconds.
        ts: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<MessageId>,
        /// Users mentioned with `@username` (omitted when none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<UserId>,
    },
    /// Push: a message's body was replaced. `seq` is the edited message's own seq.
    #[serde(rename = "msg.edited")]
    MsgEdited {
        ch: ChannelId,
        id: MessageId,
        seq: i64,
        body: String,
        /// Unix milliseconds.
        edited_at: i64,
    },
    /// Push: a message was (soft-)deleted. `seq` is the deleted message's own seq.
    #[serde(rename = "msg.deleted")]
    MsgDeleted {
        ch: ChannelId,
        id: MessageId,
        seq: i64,
    },
    /// Push: `user` added (`on: true`) or removed a reaction.
    #[serde(rename = "reaction")]
    Reaction {
        ch: ChannelId,
        id: MessageId,
        emoji: String,
        user: UserId,
        on: bool,
    },
    /// Push to the mentioned user's sessions (subscribed to `ch` or not).
    #[serde(rename = "mention")]
    Mention {
        ch: ChannelId,
        id: MessageId,
        seq: i64,
        from: UserId,
    },
    /// Push (droppable): `user` started or stopped typing.
    #[serde(rename = "typing")]
    Typing {
        ch: ChannelId,
        user: UserId,
        on: bool,
    },
    /// Push: `user` has read `ch` up to `seq`.
    #[serde(rename = "read")]
    Read {
        ch: ChannelId,
        user: UserId,
        seq: i64,
    },
    /// Push (droppable): a user of the organization came online or went offline.
    #[serde(rename = "presence")]
    Presence {
        user: UserId,
        status: PresenceStatus,
    },
    /// Push (droppable): one part of the receiver's room snapshot (layout in `docs/spatial.md`).
    #[serde(rename = "room.snapshot")]
    RoomSnapshot { data: SnapshotData },
    /// Push: the listener's gains of sources that changed beyond the threshold (0 = silent).
    #[serde(rename = "room.gains")]
    RoomGains {
        room: RoomId,
        tick: u64,
        gains: Vec<SourceGain>,
    },
    /// Push: something happened in the receiver's room.
    #[serde(rename = "room.event")]
    RoomEvent {
        room: RoomId,
        kind: RoomEventKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seat: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<RoomClosedReason>,
    },
    /// Push: the receiver's last input was corrected; this is where its avatar really is.
    #[serde(rename = "room.correction")]
    RoomCorrection {
        room: RoomId,
        tick: u64,
        /// `non_finite`, `speed_clamped`, `out_of_bounds`, `too_fast`, `teleport_refused`,
        /// `seat_taken`.
        reasons: Vec<String>,
        p: [f32; 3],
        yaw: f32,
        v: [f32; 3],
    },
    /// Push: a generation started in a conversation of the user (or of a subscribed channel).
    #[serde(rename = "llm.started")]
    LlmStarted {
        stream: StreamId,
        conversation: ConversationId,
        /// The model asked first (a fallback may answer instead; `llm.done` names it).
        model: String,
    },
    /// Push: the next piece of a generation's answer. `seq` counts 1, 2, 3, … per stream.
    #[serde(rename = "llm.delta")]
    LlmDelta {
        stream: StreamId,
        seq: u32,
        text: String,
    },
    /// Push: the generation finished. `cost` is in micro-units of the configured currency.
    #[serde(rename = "llm.done")]
    LlmDone {
        stream: StreamId,
        usage: LlmUsage,
        cost: i64,
        /// The model that answered.
        model: String,
    },
    /// Push: the generation ended early (failed or cancelled); the text streamed so far is
    /// kept as a partial answer. `code` is one of the codes in docs/llm.md.
    #[serde(rename = "llm.error")]
    LlmError {
        stream: StreamId,
        code: String,
        message: String,
    },
    /// Push to agents watching the organization's ticket queue: a ticket was opened.
    #[serde(rename = "ticket.created")]
    TicketCreated {
        ticket: Box<Ticket>,
        /// Whether an SLA target was breached.
        breached: bool,
    },
    /// Push: a watched ticket changed (status, priority, assignee, tags, …). `changes` names the
    /// fields that changed.
    #[serde(rename = "ticket.updated")]
    TicketUpdated {
        ticket: Box<Ticket>,
        breached: bool,
        #[serde(default)]
        changes: Vec<String>,
    },
    /// Push: a comment on a watched ticket (internal notes reach agents only).
    #[serde(rename = "ticket.comment")]
    TicketComment {
        ticket: TicketId,
        comment: CommentPush,
    },
    /// Push: a watched ticket breached an SLA target.
    #[serde(rename = "ticket.sla_breach")]
    TicketSlaBreach {
        ticket: TicketId,
        number: TicketNumber,
        target: SlaTarget,
        /// The deadline that passed, unix milliseconds.
        deadline: i64,
    },
    /// The server is about to close this session, and why.
    #[serde(rename = "bye")]
    Bye { code: ErrorCode, message: String },
    /// A frame type this build does not know (sent by a newer server). Clients ignore it; the
    /// server never sends it.
    #[serde(other, rename = "unknown")]
    Unknown,
}

/// The result fields of an `ok` reply, flattened into the reply map beside `t` and `rid`.
///
/// Each shape is recognised by its fields (no extra tag on the wire), most specific first;
/// `Done` matches anything, so a result shape added by a newer server reads as `Done` in an older
/// client instead of failing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OkResult {
    /// Reply to `history`.
    History(HistoryPage),
    /// Reply to `msg.send`.
    Sent(MsgSent),
    /// Reply to `sub`.
    Subscribed(SubOk),
    /// Reply to `room.join`.
    RoomJoined(Box<RoomJoined>),
    /// Reply to `llm.start`.
    LlmStarted(LlmStartOk),
    /// Reply to every other request: success, nothing to return.
    Done {},
}

/// The `ok` result of `sub`: the channel's last seq when the subscription took effect. Every
/// message after it is pushed, so a client that later resumes with this seq misses nothing even
/// if no message arrived in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubOk {
    pub last_seq: i64,
}

/// The `ok` result of `llm.start`: the generation's id, which every `llm.*` push names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmStartOk {
    pub stream: StreamId,
}

/// Token counts of a generation, as the provider reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmUsage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// The `ok` result of `msg.send`: where the message landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgSent {
    pub id: MessageId,
    pub seq: i64,
}

/// The `ok` result of `history`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// Ascending by `seq`. Deleted messages stay in place (with `deleted: true` and an empty
    /// body) so a page has no holes.
    pub messages: Vec<HistoryMessage>,
    /// Whether older messages exist: ask again with `before_seq` = the first message's seq.
    pub has_more: bool,
}

/// One message in a history page: the `msg` push fields (minus `ch`) plus its edit/delete state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMessage {
    pub seq: i64,
    pub id: MessageId,
    pub from: UserId,
    pub body: String,
    /// Commit time, unix milliseconds.
    pub ts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// Last edit time, unix milliseconds, when the message was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Present (and true) only for deleted messages.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Whether a user has at least one live session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Offline,
}

impl ServerFrame {
    /// Every wire tag (`t`) a server sends, in specification order (without `unknown`).
    pub const KINDS: [&'static str; 25] = [
        "welcome",
        "pong",
        "ok",
        "err",
        "msg",
        "msg.edited",
        "msg.deleted",
        "reaction",
        "mention",
        "typing",
        "read",
        "presence",
        "room.snapshot",
        "room.gains",
        "room.event",
        "room.correction",
        "llm.started",
        "llm.delta",
        "llm.done",
        "llm.error",
        "ticket.created",
        "ticket.updated",
        "ticket.comment",
        "ticket.sla_breach",
        "bye",
    ];

    /// An `ok` reply without result fields.
    pub fn ok(rid: u32) -> Self {
        ServerFrame::Ok {
            rid,
            result: OkResult::Done {},
        }
    }

    /// An `err` reply (`rid` is `None` only when the request's rid could not be read).
    pub fn err(rid: Option<u32>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Err {
            rid,
            code,
            message: message.into(),
        }
    }

    /// The request id this reply echoes; `None` for pushes, `bye` and rid-less errors.
    pub fn rid(&self) -> Option<u32> {
        match self {
            ServerFrame::Welcome { rid, .. }
            | ServerFrame::Pong { rid }
            | ServerFrame::Ok { rid, .. } => Some(*rid),
            ServerFrame::Err { rid, .. } => *rid,
            _ => None,
        }
    }

    /// Whether this frame may be dropped or coalesced when a session's outbound queue is full
    /// (typing, presence, read receipts and room snapshots are soon superseded); every other
    /// frame is reliable.
    pub fn is_droppable(&self) -> bool {
        matches!(
            self,
            ServerFrame::Typing { .. }
                | ServerFrame::Presence { .. }
                | ServerFrame::Read { .. }
                | ServerFrame::RoomSnapshot { .. }
        )
    }

    /// The wire tag (`t`) of this frame, for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerFrame::Welcome { .. } => "welcome",
            ServerFrame::Pong { .. } => "pong",
            ServerFrame::Ok { .. } => "ok",
            ServerFrame::Err { .. } => "err",
            ServerFrame::Msg { .. } => "msg",
            ServerFrame::MsgEdited { .. } => "msg.edited",
            ServerFrame::MsgDeleted { .. } => "msg.deleted",
            ServerFrame::Reaction { .. } => "reaction",
            ServerFrame::Mention { .. } => "mention",
            ServerFrame::Typing { .. } => "typing",
            ServerFrame::Read { .. } => "read",
            ServerFrame::Presence { .. } => "presence",
            ServerFrame::RoomSnapshot { .. } => "room.snapshot",
            ServerFrame::RoomGains { .. } => "room.gains",
            ServerFrame::RoomEvent { .. } => "room.event",
            ServerFrame::RoomCorrection { .. } => "room.correction",
            ServerFrame::LlmStarted { .. } => "llm.started",
            ServerFrame::LlmDelta { .. } => "llm.delta",
            ServerFrame::LlmDone { .. } => "llm.done",
            ServerFrame::LlmError { .. } => "llm.error",
            ServerFrame::TicketCreated { .. } => "ticket.created",
            ServerFrame::TicketUpdated { .. } => "ticket.updated",
            ServerFrame::TicketComment { .. } => "ticket.comment",
            ServerFrame::TicketSlaBreach { .. } => "ticket.sla_breach",
            ServerFrame::Bye { .. } => "bye",
            ServerFrame::Unknown => "unknown",
        }
    }
}
