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
use atrium_core::ids::{ChannelId, ConversationId, MessageId, RoomId, SessionId, StreamId, UserId};
use atrium_core::protocol::{
    AudioParams, ClientFrame, Datagram, ErrorCode, FrameCodec, HistoryMessage, HistoryPage,
    LlmStartOk, LlmUsage, MsgSent, OkResult, PresenceStatus, RoomClosedReason, RoomEventKind,
    RoomInfo, RoomJoined, RoomLayout, ServerFrame, SnapshotData, Spot, ZoneInfo,
};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A MessagePack value in the document's JSON notation: binary data (`bin`) is written as a
/// string `"bin:"` followed by its bytes in lowercase hex.
struct Notation(serde_json::Value);

impl<'de> Deserialize<'de> for Notation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NotationVisitor).map(Notation)
    }
}

struct NotationVisitor;

impl<'de> Visitor<'de> for NotationVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a MessagePack value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f32<E>(self, v: f32) -> Result<Self::Value, E> {
        Ok(f64::from(v).into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("bin:{hex}").into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Notation(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(out.into())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((k, Notation(v))) = map.next_entry::<String, Notation>()? {
            out.insert(k, v);
        }
        Ok(out.into())
    }
}

/// The JSON notation of a value, for the generator.
fn notation<T: Serialize>(value: &T) -> serde_json::Value {
    let bytes = rmp_serde::to_vec_named(value).unwrap();
    rmp_serde::from_slice::<Notation>(&bytes).unwrap().0
}

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
        let wire = rmp_serde::from_slice::<Notation>(&ex.bytes).unwrap().0;
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
fn room() -> RoomId {
    id("01968f2a-5c00-7000-8000-000000000d01")
}
/// Tick 300, full, one part, avatar 1 at (150, 0, 200) cm, yaw a quarter turn, seated: the
/// example of `docs/spatial.md`.
const SNAPSHOT: [u8; 17] = [
    0x01, 0xac, 0x02, 0x00, 0x01, 0x00, 0x01, 0x01, 0x80, 0x96, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x40,
    0x02,
];
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
        ClientFrame::RoomJoin {
            rid: 14,
            room: room(),
        },
        ClientFrame::RoomLeave { rid: 15 },
        ClientFrame::RoomTeleport {
            rid: 16,
            to: [0.0, 1.0, -12.0],
        },
        ClientFrame::Pos {
            rid: 17,
            p: [1.5, 0.0, 2.0],
            yaw: 0.5,
            v: Some([0.0, 0.0, -1.25]),
            ack: Some(300),
        },
        ClientFrame::RoomAck { rid: 18, tick: 300 },
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

fn joined_example() -> ServerFrame {
    ServerFrame::Ok {
        rid: 14,
        result: OkResult::RoomJoined(Box::new(RoomJoined {
            room: RoomInfo {
                id: room(),
                name: "Booth".into(),
                template: "custom".into(),
                channel: Some(ch()),
                capacity: 4,
                layout: RoomLayout {
                    title: String::new(),
                    bounds: [[0.0, 0.0, 0.0], [4.0, 3.0, 4.0]],
                    audible_range: 5.0,
                    audio: AudioParams {
                        distance_model: "inverse".into(),
                        ref_distance: 1.0,
                        max_distance: 10_000.0,
                        rolloff_factor: 1.0,
                        cone_inner_angle: 360.0,
                        cone_outer_angle: 360.0,
                        cone_outer_gain: 0.0,
                    },
                    spawn_points: vec![Spot {
                        p: [1.0, 0.0, 1.0],
                        yaw: 0.0,
                        label: String::new(),
                    }],
                    seats: vec![Spot {
                        p: [1.5, 0.0, 2.0],
                        yaw: 0.0,
                        label: "Chair".into(),
                    }],
                    zones: vec![ZoneInfo {
                        name: "Stage".into(),
                        kind: "stage".into(),
                        min: [0.0, 3.0],
                        max: [4.0, 4.0],
                    }],
                },
            },
            avatar: 1,
            tick: 300,
            p: [1.5, 0.0, 2.0],
            yaw: 0.0,
            seat: Some(0),
            occupants: 1,
            snapshot: vec![SnapshotData(SNAPSHOT.to_vec())],
        })),
    }
}

fn room_examples() -> Vec<ServerFrame> {
    vec![
        joined_example(),
        ServerFrame::RoomSnapshot {
            data: SnapshotData(SNAPSHOT.to_vec()),
        },
        ServerFrame::RoomGains {
            room: room(),
            tick: 301,
            gains: vec![(2, 0.5), (3, 0.0)],
        },
        ServerFrame::RoomEvent {
            room: room(),
            kind: RoomEventKind::Joined,
            avatar: Some(2),
            user: Some(bob()),
            seat: None,
            reason: None,
        },
        ServerFrame::RoomEvent {
            room: room(),
            kind: RoomEventKind::Seated,
            avatar: Some(2),
            user: None,
            seat: Some(0),
            reason: None,
        },
        ServerFrame::RoomEvent {
            room: room(),
            kind: RoomEventKind::Closed,
            avatar: None,
            user: None,
            seat: None,
            reason: Some(RoomClosedReason::Deleted),
        },
        ServerFrame::RoomCorrection {
            room: room(),
            tick: 302,
            reasons: vec!["speed_clamped".into()],
            p: [1.5, 0.0, 2.25],
            yaw: 0.5,
            v: [0.0, 0.0, 6.0],
        },
        ServerFrame::err(Some(17), ErrorCode::NotInRoom, "you are not in a room"),
        ServerFrame::err(Some(14), ErrorCode::RoomFull, "the room is full"),
    ]
}

fn datagram_examples() -> Vec<Datagram> {
    vec![
        Datagram::Echo { n: 7 },
        Datagram::Pos {
            seq: 41,
            p: [1.5, 0.0, 2.0],
            yaw: 0.5,
            v: [0.0, 0.0, -1.25],
            ack: Some(300),
        },
        Datagram::Ack { tick: 300 },
        Datagram::Snap {
            data: bytes::Bytes::from_static(&SNAPSHOT),
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
    let value = match direction {
        "datagram" => rmp_serde::from_slice::<Notation>(bytes).unwrap().0,
        _ => notation(frame),
    };
    let compact = serde_json::to_string(&value).unwrap();
    let json = if compact.len() <= 96 {
        compact
    } else {
        serde_json::to_string_pretty(&value).unwrap()
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
    for frame in server_examples().into_iter().chain(room_examples()) {
        let bytes = codec.encode_server(&frame).unwrap();
        print_example("server", frame.kind(), &frame, &bytes);
    }
    for datagram in datagram_examples() {
        let bytes = datagram.encode();
        print_example("datagram", datagram.kind(), &datagram, &bytes);
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
    for frame in server_examples().into_iter().chain(room_examples()) {
        let bytes = codec.encode_server(&frame).unwrap();
        assert_eq!(codec.decode_server(&bytes).unwrap(), frame);
    }
    for datagram in datagram_examples() {
        assert_eq!(Datagram::decode(&datagram.encode()).unwrap(), datagram);
    }
}
