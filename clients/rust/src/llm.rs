//! Typed access to the `llm.*` frames: start and cancel generations, read their pushes.

use atrium_core::ids::{ConversationId, StreamId};
use atrium_core::protocol::{LlmUsage, ServerFrame};

/// Options of `llm.start` beyond the conversation and the content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LlmOptions {
    pub model: Option<String>,
    /// Must be finite and within 0–2 (the server answers `invalid` otherwise).
    pub temperature: Option<f32>,
    pub system: Option<String>,
}

/// One push of a generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LlmPush {
    Started {
        stream: StreamId,
        conversation: ConversationId,
        model: String,
    },
    Delta {
        stream: StreamId,
        seq: u32,
        text: String,
    },
    Done {
        stream: StreamId,
        usage: LlmUsage,
        cost: i64,
        model: String,
    },
    Error {
        stream: StreamId,
        code: String,
        message: String,
    },
}

impl LlmPush {
    /// The `llm.*` push in `frame`, if it is one.
    pub fn from_frame(frame: &ServerFrame) -> Option<Self> {
        Some(match frame.clone() {
            ServerFrame::LlmStarted {
                stream,
                conversation,
                model,
            } => LlmPush::Started {
                stream,
                conversation,
                model,
            },
            ServerFrame::LlmDelta { stream, seq, text } => LlmPush::Delta { stream, seq, text },
            ServerFrame::LlmDone {
                stream,
                usage,
                cost,
                model,
            } => LlmPush::Done {
                stream,
                usage,
                cost,
                model,
            },
            ServerFrame::LlmError {
                stream,
                code,
                message,
            } => LlmPush::Error {
                stream,
                code,
                message,
            },
            _ => return None,
        })
    }

    /// The generation the push belongs to.
    pub fn stream(&self) -> StreamId {
        match self {
            LlmPush::Started { stream, .. }
            | LlmPush::Delta { stream, .. }
            | LlmPush::Done { stream, .. }
            | LlmPush::Error { stream, .. } => *stream,
        }
    }

    /// Whether this push ends its generation (`llm.done` or `llm.error`).
    pub fn is_final(&self) -> bool {
        matches!(self, LlmPush::Done { .. } | LlmPush::Error { .. })
    }
}
