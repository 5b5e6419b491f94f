//! Keeps `docs/protocol.md` true: every example in it decodes to the frame it claims to be and
//! re-encodes to exactly the bytes shown, and its JSON notation says the same thing as its hex.
//!
//! Convention in the document: a ```json block (the frame in JSON notation) is immediately
//! followed by a ```hex block whose info string names the direction and the frame type, e.g.
//! "```hex client msg.send" or "```hex server ok" (or "```hex datagram echo" for a
//! WebTransport datagram). Hex is whitespace-separated byte pairs.
//!
//! To regenerate the examples after a protocol change, run
//! `cargo test -p atrium-core --test protocol_doc -- --ignored --nocapture` and paste the blocks.

use std::collections::{BTreeMap, BTreeSet};

use atrium_core::ai::Temperature;
use atrium_core::ids::{ChannelId, ConversationId, MessageId, SessionId, StreamId, UserId};
use atrium_core::protocol::{
    ClientFrame, Datagram, ErrorCode, FrameCodec, HistoryMessage, HistoryPage, LlmStartOk,
    LlmUsage, MsgSent, OkResult, PresenceStatus, ServerFrame,
};
use serde::Serialize;

struct Example {
    line: usize,
    direction: String,
    kind: String,
    json: serde_json::Value,
    bytes: Vec<u8>,
}

fn doc_examples() -> Vec<Example> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut examples = Vec::new();
    let mut lines = text.lines().enumerate();
    let mut pending_json: Option<serde_json::Value> = None;
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let info = info.trim().to_owned();
        let mut content = String::new();
        for (_, inner) in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                break;
            }
            content.push_str(inner);
            content.push('\n');
        }
        let line_no = n + 1;
        let mut words = info.split_whitespace();
        match words.next() {
            Some("json") => {
                let value = serde_json::from_str(&content)
                    .unwrap_or_else(|e| panic!("line {line_no}: json block: {e}"));
                pending_json = Some(value);
            }
            Some("hex") => {
                let direction = words.next().unwrap_or_default().to_owned();
                let kind = words.next().unwrap_or_default().to_owned();
                let json = pending_json
                    .take()
                    .unwrap_or_else(|| panic!("line {line_no}: hex block without a json block"));
                let bytes = content
                    .split_whitespace()
                    .map(|pair| {
                        u8::from_str_radix(pair, 16)
                            .unwrap_or_else(|e| panic!("line {line_no}: `{pair}`: {e}"))
                    })
                    .collect();
                examples.push(Example {
                    line: line_no,
                    direction,
                    kind,
                    json,
                    bytes,
                });
            }
            _ => pending_json = None,
        }
    }
    examples
}

#[test]
fn every_example_in_the_spec_decodes_and_re_encodes_exactly() {
    let codec = FrameCodec::default();
    let examples = doc_examples();
    let mut seen = BTreeSet::new();
    for ex in &examples {
        let at = format!(
            "docs/protocol.md line {} ({} {})",
            ex.line, ex.direction, ex.kind
        );
        let (kind, again) = match ex.direction.as_str() {
            "client" => {
                let frame = codec
                    .decode_client(&ex.bytes)
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                (frame.kind(), codec.encode_client(&frame).unwrap())
            }
            "server" => {
                let frame = codec
                    .decode_server(&ex.bytes)
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                (frame.kind(), codec.encode_server(&frame).unwrap())
            }
            "datagram" => {
                let datagram = Datagram::decode(&ex.bytes).unwrap_or_else(|e| panic!("{at}: {e}"));
                (datagram.kind(), datagram.encode())
            }
            other => panic!("{at}: direction must be client, server or datagram, not `{other}`"),
        };
        assert_eq!(kind, ex.kind, "{at}: decodes as a different frame");
        assert_eq!(&again[..], &ex.bytes[..], "{at}: re-encodes differently");
        let wire: serde_json::Value = rmp_serde::from_slice(&ex.bytes).unwrap();
        assert_eq!(
            wire, ex.json,
            "{at}: the JSON notation and the hex disagree"
        );
        seen.insert((ex.direction.clone(), ex.kind.clone()));
    }
    for (direction, kinds) in [
        ("client", &ClientFrame::KINDS[..]),
        ("server", &ServerFrame::KINDS[..]),
        ("datagram", &Datagram::KINDS[..]),
    ] {
        for kind in kinds {
            assert!(
                seen.contains(&(direction.to_owned(), (*kind).to_owned())),
                "docs/protocol.md has no example of {direction} frame `{kind}`"
            );
        }
    }
}

#[test]
fn the_spec_documents_every_error_code() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/protocol.md"
    ))
    .unwrap();
    for code in ErrorCode::ALL {
        assert!(
            text.contains(&format!("| `{code}` |")),
            "error code `{code}` is missing from the table in docs/protocol.md"
        );
    }
}

// ---- example generator (run with --ignored --nocapture) ----

fn id<T: From<uuid::Uuid>>(s: &str) -> T {
    T::from(uuid::Uuid::parse_str(s).unwrap())
}

fn ch() -> ChannelId {
    id("01968f2a-5c00-7000-8000-000000000c01")
}
fn ch2() -> ChannelId {
    id("01968f2a-5c00-7000-8000-000000000c02")
}
fn alice() -> UserId {
    id("01968f2a-5c00-7000-8000-000000000a01")
}
fn bob() -> UserId {
    id("01968f2a-5c00-7000-8000-000000000a02")
}
fn m41() -> MessageId {
    id("01968f2a-5c00-7000-8000-000000000e41")
}
fn m42() -> MessageId {
    id("01968f2a-5c00-7000-8000-000000000e42")
}
fn conversation() -> ConversationId {
    id("01968f2a-5c00-7000-8000-0000000000c7")
}
fn stream() -> StreamId {
    id("01968f2a-5c00-7000-8000-0000000005e1")
}
fn session() -> SessionId {
    id("01968f2a-5c00-7000-8000-000000000501")
}
const TS: i64 = 1_745_000_000_000;
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";

fn client_examples() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Hello {
            rid: 1,
            token: TOKEN.into(),
            client: Some("atrium-web/0.1".into()),
            resume: BTreeMap::from([(ch(), 40)]),
        },
        ClientFrame::Ping { rid: 2 },
        ClientFrame::AuthRefresh {
            rid: 3,
            token: TOKEN.into(),
        },
        ClientFrame::Sub { rid: 4, ch: ch() },
        ClientFrame::Unsub { rid: 5, ch: ch2() },
        ClientFrame::MsgSend {
            rid: 7,
            ch: ch(),
            body: "hi @bob".into(),
            reply_to: Some(m41()),
            nonce: Some("n-1".into()),
        },
        ClientFrame::MsgEdit {
            rid: 8,
            ch: ch(),
            id: m42(),
            body: "hi @bob!".into(),
        },
        ClientFrame::MsgDelete {
            rid: 9,
            ch: ch(),
            id: m42(),
        },
        ClientFrame::React {
            rid: 10,
            ch: ch(),
            id: m41(),
            emoji: "👍".into(),
            on: true,
        },
        ClientFrame::History {
            rid: 11,
            ch: ch(),
            before_seq: Some(43),
            limit: Some(2),
        },
        ClientFrame::Typing {
            rid: 12,
            ch: ch(),
            on: true,
        },
        ClientFrame::Read {
            rid: 13,
            ch: ch(),
            seq: 42,
        },
        ClientFrame::LlmStart {
            rid: 14,
            conversation: conversation(),
            content: "Wie spät ist es?".into(),
            model: Some("local".into()),
            temperature: Some(Temperature::new(0.5).unwrap()),
            system: None,
        },
        ClientFrame::LlmCancel {
            rid: 15,
            stream: stream(),
        },
    ]
}

fn server_examples() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Welcome {
            rid: 1,
            session: session(),
            user: alice(),
            heartbeat_ms: 25_000,
            unread: BTreeMap::from([(ch(), 2)]),
        },
        ServerFrame::Pong { rid: 2 },
        ServerFrame::ok(4),
        ServerFrame::Ok {
            rid: 7,
            result: OkResult::Sent(MsgSent { id: m42(), seq: 42 }),
        },
        ServerFrame::Ok {
            rid: 11,
            result: OkResult::History(HistoryPage {
                messages: vec![
                    HistoryMessage {
                        seq: 41,
                        id: m41(),
                        from: bob(),
                        body: "lunch?".into(),
                        ts: TS - 60_000,
                        reply_to: None,
                        mentions: vec![],
                        edited_at: Some(TS - 30_000),
                        deleted: false,
                    },
                    HistoryMessage {
                        seq: 42,
                        id: m42(),
                        from: alice(),
                        body: String::new(),
                        ts: TS,
                        reply_to: Some(m41()),
                        mentions: vec![],
                        edited_at: None,
                        deleted: true,
                    },
                ],
                has_more: true,
            }),
        },
        ServerFrame::err(Some(9), ErrorCode::Forbidden, "not your message"),
        ServerFrame::err(
            None,
            ErrorCode::BadFrame,
            "a frame must be one MessagePack map",
        ),
        ServerFrame::Msg {
            ch: ch(),
            seq: 42,
            id: m42(),
            from: alice(),
            body: "hi @bob".into(),
            ts: TS,
            reply_to: Some(m41()),
            mentions: vec![bob()],
        },
        ServerFrame::MsgEdited {
            ch: ch(),
            id: m42(),
            seq: 42,
            body: "hi @bob!".into(),
            edited_at: TS + 5_000,
        },
        ServerFrame::MsgDeleted {
            ch: ch(),
            id: m42(),
            seq: 42,
        },
        ServerFrame::Reaction {
            ch: ch(),
            id: m41(),
            emoji: "👍".into(),
            user: alice(),
            on: true,
        },
        ServerFrame::Mention {
            ch: ch(),
            id: m42(),
            seq: 42,
            from: alice(),
        },
        ServerFrame::Typing {
            ch: ch(),
            user: alice(),
            on: true,
        },
        ServerFrame::Read {
            ch: ch(),
            user: bob(),
            seq: 42,
        },
        ServerFrame::Presence {
            user: bob(),
            status: PresenceStatus::Online,
        },
        ServerFrame::Ok {
            rid: 14,
            result: OkResult::LlmStarted(LlmStartOk { stream: stream() }),
        },
        ServerFrame::LlmStarted {
            stream: stream(),
            conversation: conversation(),
            model: "local".into(),
        },
        ServerFrame::LlmDelta {
            stream: stream(),
            seq: 1,
            text: "Es ist 14:05 ".into(),
        },
        ServerFrame::LlmDone {
            stream: stream(),
            usage: LlmUsage {
                input_tokens: 4,
                output_tokens: 9,
            },
            cost: 0,
            model: "local".into(),
        },
        ServerFrame::LlmError {
            stream: stream(),
            code: "provider_timeout".into(),
            message: "provider timed out (idle)".into(),
        },
        ServerFrame::err(
            Some(14),
            ErrorCode::BudgetExceeded,
            "your tokens budget for this month is used up",
        ),
        ServerFrame::Bye {
            code: ErrorCode::SlowConsumer,
            message: "outbound queue full; reconnect and resume".into(),
        },
    ]
}

fn print_example<T: Serialize>(direction: &str, kind: &str, frame: &T, bytes: &[u8]) {
    let compact = serde_json::to_string(frame).unwrap();
    let json = if compact.len() <= 96 {
        compact
    } else {
        serde_json::to_string_pretty(frame).unwrap()
    };
    println!("```json\n{json}\n```\n");
    println!("```hex {direction} {kind}");
    for chunk in bytes.chunks(16) {
        let line: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        println!("{}", line.join(" "));
    }
    println!("```\n");
}

#[test]
#[ignore = "generator for docs/protocol.md; run with --ignored --nocapture"]
fn print_doc_examples() {
    let codec = FrameCodec::default();
    for frame in client_examples() {
        let bytes = codec.encode_client(&frame).unwrap();
        print_example("client", frame.kind(), &frame, &bytes);
    }
    for frame in server_examples() {
        let bytes = codec.encode_server(&frame).unwrap();
        print_example("server", frame.kind(), &frame, &bytes);
    }
}

#[test]
fn generated_examples_are_valid_frames() {
    // Keeps the generator honest even when nobody runs it: its frames pass the server's checks.
    let codec = FrameCodec::default();
    for frame in client_examples() {
        let bytes = codec.encode_client(&frame).unwrap();
        assert_eq!(codec.decode_client(&bytes).unwrap(), frame);
    }
    for frame in server_examples() {
        let bytes = codec.encode_server(&frame).unwrap();
        assert_eq!(codec.decode_server(&bytes).unwrap(), frame);
    }
}
