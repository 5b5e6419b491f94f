//! Turning domain values into encoded server frames.
//!
//! A push is encoded exactly once, here, and the resulting `Bytes` are shared by every outbox it
//! goes to. Encoding can only fail for a frame over the size limit, which the protocol limits
//! make impossible for pushes (a 4,000-character body is far below 64 KiB); if it happens anyway
//! it is logged and the frame skipped rather than taking an actor down.

use bytes::Bytes;
use time::OffsetDateTime;

use atrium_core::model::Message;
use atrium_core::protocol::{ErrorCode, FrameCodec, HistoryMessage, ServerFrame};

use crate::outbox::{Delivery, Pushed, SessionOutbox};

/// The codec every actor encodes with (the protocol's default frame-size limit).
pub const CODEC: FrameCodec = FrameCodec::new(atrium_core::protocol::DEFAULT_MAX_FRAME_BYTES);

/// Encodes a frame once; `None` (logged) if it cannot be encoded.
pub fn encode(frame: &ServerFrame) -> Option<Bytes> {
    match CODEC.encode_server(frame) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            tracing::error!(kind = frame.kind(), %error, "could not encode a server frame");
            None
        }
    }
}

/// The encoded `bye` that precedes closing a session.
pub fn bye(code: ErrorCode, message: &str) -> Option<Bytes> {
    encode(&ServerFrame::Bye {
        code,
        message: message.to_owned(),
    })
}

/// Encodes and queues a reply (replies are always reliable).
pub fn reply(outbox: &SessionOutbox, frame: &ServerFrame) -> Pushed {
    match encode(frame) {
        Some(bytes) => outbox.push(bytes, Delivery::Reliable),
        None => outbox.push(
            encode(&ServerFrame::err(
                frame.rid(),
                ErrorCode::Internal,
                "the reply could not be encoded",
            ))
            .unwrap_or_default(),
            Delivery::Reliable,
        ),
    }
}

/// Queues an `err` reply.
pub fn reply_err(outbox: &SessionOutbox, rid: Option<u32>, code: ErrorCode, message: &str) {
    reply(outbox, &ServerFrame::err(rid, code, message));
}

/// Unix milliseconds, the protocol's time unit.
pub fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The `msg` push announcing a committed message.
pub fn msg_push(message: &Message) -> ServerFrame {
    ServerFrame::Msg {
        ch: message.channel_id,
        seq: message.seq,
        id: message.id,
        from: message.sender_id,
        body: message.body.clone(),
        ts: unix_ms(message.created_at),
        reply_to: message.reply_to,
        mentions: message.mentions.clone(),
    }
}

/// The push that tells a client about a message's later state, if it has any: `msg.deleted` for a
/// deleted message, `msg.edited` for an edited one. Replay sends it right after the `msg` so a
/// resuming client ends with the message as it is now.
pub fn state_push(message: &Message) -> Option<ServerFrame> {
    if message.deleted {
        Some(ServerFrame::MsgDeleted {
            ch: message.channel_id,
            id: message.id,
            seq: message.seq,
        })
    } else {
        message.edited_at.map(|at| ServerFrame::MsgEdited {
            ch: message.channel_id,
            id: message.id,
            seq: message.seq,
            body: message.body.clone(),
            edited_at: unix_ms(at),
        })
    }
}

/// One message as a `history` page entry.
pub fn history_entry(message: &Message) -> HistoryMessage {
    HistoryMessage {
        seq: message.seq,
        id: message.id,
        from: message.sender_id,
        body: message.body.clone(),
        ts: unix_ms(message.created_at),
        reply_to: message.reply_to,
        mentions: message.mentions.clone(),
        edited_at: message.edited_at.map(unix_ms),
        deleted: message.deleted,
    }
}
