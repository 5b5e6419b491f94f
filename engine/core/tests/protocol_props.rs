//! Property tests of the wire codec: every frame round-trips, and no input makes the decoder
//! panic or accept an oversized frame.

use std::collections::BTreeMap;

use atrium_core::ids::{ChannelId, MessageId, SessionId, UserId};
use atrium_core::protocol::{
    ClientFrame, ErrorCode, FrameCodec, HistoryMessage, HistoryPage, MsgSent, OkResult,
    PresenceStatus, ServerFrame,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn channel() -> impl Strategy<Value = ChannelId> {
    uuid().prop_map(ChannelId::from)
}

fn message() -> impl Strategy<Value = MessageId> {
    uuid().prop_map(MessageId::from)
}

fn user() -> impl Strategy<Value = UserId> {
    uuid().prop_map(UserId::from)
}

fn seq() -> impl Strategy<Value = i64> {
    0..=i64::MAX
}

/// Any text within the body limit that is not blank.
fn body() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]\\PC{0,60}"
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,300}"
}

fn emoji() -> impl Strategy<Value = String> {
    "\\PC{1,16}"
}

fn code() -> impl Strategy<Value = ErrorCode> {
    let mut codes = ErrorCode::ALL.to_vec();
    codes.push(ErrorCode::Unknown);
    select(codes)
}

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    let rid = any::<u32>();
    prop_oneof![
        (
            rid,
            token(),
            proptest::option::of("\\PC{0,30}"),
            btree_map(channel(), seq(), 0..5)
        )
            .prop_map(|(rid, token, client, resume)| ClientFrame::Hello {
                rid,
                token,
                client,
                resume,
            }),
        rid.prop_map(|rid| ClientFrame::Ping { rid }),
        (rid, token()).prop_map(|(rid, token)| ClientFrame::AuthRefresh { rid, token }),
        (rid, channel()).prop_map(|(rid, ch)| ClientFrame::Sub { rid, ch }),
        (rid, channel()).prop_map(|(rid, ch)| ClientFrame::Unsub { rid, ch }),
        (
            rid,
            channel(),
            body(),
            proptest::option::of(message()),
            proptest::option::of("[a-z0-9-]{1,64}")
        )
            .prop_map(|(rid, ch, body, reply_to, nonce)| ClientFrame::MsgSend {
                rid,
                ch,
                body,
                reply_to,
                nonce,
            }),
        (rid, channel(), message(), body()).prop_map(|(rid, ch, id, body)| ClientFrame::MsgEdit {
            rid,
            ch,
            id,
            body
        }),
        (rid, channel(), message()).prop_map(|(rid, ch, id)| ClientFrame::MsgDelete {
            rid,
            ch,
            id
        }),
        (rid, channel(), message(), emoji(), any::<bool>()).prop_map(|(rid, ch, id, emoji, on)| {
            ClientFrame::React {
                rid,
                ch,
                id,
                emoji,
                on,
            }
        }),
        (
            rid,
            channel(),
            proptest::option::of(seq()),
            proptest::option::of(1u32..=200)
        )
            .prop_map(|(rid, ch, before_seq, limit)| ClientFrame::History {
                rid,
                ch,
                before_seq,
                limit,
            }),
        (rid, channel(), any::<bool>()).prop_map(|(rid, ch, on)| ClientFrame::Typing {
            rid,
            ch,
            on
        }),
        (rid, channel(), seq()).prop_map(|(rid, ch, seq)| ClientFrame::Read { rid, ch, seq }),
    ]
}

fn history_message() -> impl Strategy<Value = HistoryMessage> {
    (
        seq(),
        message(),
        user(),
        "\\PC{0,40}",
        any::<i64>(),
        proptest::option::of(message()),
        vec(user(), 0..3),
        proptest::option::of(any::<i64>()),
        any::<bool>(),
    )
        .prop_map(
            |(seq, id, from, body, ts, reply_to, mentions, edited_at, deleted)| HistoryMessage {
                seq,
                id,
                from,
                body,
                ts,
                reply_to,
                mentions,
                edited_at,
                deleted,
            },
        )
}

fn ok_result() -> impl Strategy<Value = OkResult> {
    prop_oneof![
        Just(OkResult::Done {}),
        (message(), seq()).prop_map(|(id, seq)| OkResult::Sent(MsgSent { id, seq })),
        (vec(history_message(), 0..4), any::<bool>()).prop_map(|(messages, has_more)| {
            OkResult::History(HistoryPage { messages, has_more })
        }),
    ]
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    let rid = any::<u32>();
    prop_oneof![
        (
            rid,
            uuid(),
            user(),
            any::<u32>(),
            btree_map(channel(), any::<u64>(), 0..4)
        )
            .prop_map(
                |(rid, session, user, heartbeat_ms, unread)| ServerFrame::Welcome {
                    rid,
                    session: SessionId::from(session),
                    user,
                    heartbeat_ms,
                    unread,
                }
            ),
        rid.prop_map(|rid| ServerFrame::Pong { rid }),
        (rid, ok_result()).prop_map(|(rid, result)| ServerFrame::Ok { rid, result }),
        (proptest::option::of(rid), code(), "\\PC{0,60}")
            .prop_map(|(rid, code, message)| { ServerFrame::Err { rid, code, message } }),
        (
            channel(),
            history_message(),
            proptest::option::of(message())
        )
            .prop_map(|(ch, m, reply_to)| ServerFrame::Msg {
                ch,
                seq: m.seq,
                id: m.id,
                from: m.from,
                body: m.body,
                ts: m.ts,
                reply_to,
                mentions: m.mentions,
            }),
        (channel(), message(), seq(), "\\PC{0,40}", any::<i64>()).prop_map(
            |(ch, id, seq, body, edited_at)| ServerFrame::MsgEdited {
                ch,
                id,
                seq,
                body,
                edited_at,
            }
        ),
        (channel(), message(), seq()).prop_map(|(ch, id, seq)| ServerFrame::MsgDeleted {
            ch,
            id,
            seq
        }),
        (channel(), message(), emoji(), user(), any::<bool>()).prop_map(
            |(ch, id, emoji, user, on)| ServerFrame::Reaction {
                ch,
                id,
                emoji,
                user,
                on,
            }
        ),
        (channel(), message(), seq(), user())
            .prop_map(|(ch, id, seq, from)| ServerFrame::Mention { ch, id, seq, from }),
        (channel(), user(), any::<bool>()).prop_map(|(ch, user, on)| ServerFrame::Typing {
            ch,
            user,
            on
        }),
        (channel(), user(), seq()).prop_map(|(ch, user, seq)| ServerFrame::Read { ch, user, seq }),
        (
            user(),
            select(vec![PresenceStatus::Online, PresenceStatus::Offline])
        )
            .prop_map(|(user, status)| ServerFrame::Presence { user, status }),
        (code(), "\\PC{0,60}").prop_map(|(code, message)| ServerFrame::Bye { code, message }),
        Just(ServerFrame::Unknown),
    ]
}

/// Generic MessagePack documents (as JSON values) to build hostile-but-well-formed input.
fn any_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
        uuid().prop_map(|u| serde_json::Value::from(u.to_string())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "rid",
    "token",
    "client",
    "resume",
    "ch",
    "body",
    "reply_to",
    "nonce",
    "id",
    "emoji",
    "on",
    "before_seq",
    "limit",
    "seq",
    "session",
    "user",
    "heartbeat_ms",
    "unread",
    "code",
    "message",
    "from",
    "ts",
    "mentions",
    "edited_at",
    "status",
    "messages",
    "has_more",
    "deleted",
];

/// A map with a real `t` and real field names but random values: reaches deep decoder paths.
fn frame_shaped_value() -> impl Strategy<Value = serde_json::Value> {
    (
        select([&ClientFrame::KINDS[..], &ServerFrame::KINDS[..]].concat()),
        btree_map(select(FIELDS), any_value(), 0..8),
    )
        .prop_map(|(tag, fields)| {
            let mut map: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            map.insert("t".into(), tag.into());
            serde_json::Value::Object(map)
        })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Truncate { at: usize },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 1u8..=255).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        at.prop_map(|at| Mutation::Truncate { at }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        at.prop_map(|at| Mutation::Remove { at }),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len();
        if len == 0 {
            return;
        }
        match *m {
            Mutation::Flip { at, xor } => bytes[at % len] ^= xor,
            Mutation::Truncate { at } => bytes.truncate(at % len),
            Mutation::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
            Mutation::Remove { at } => {
                bytes.remove(at % len);
            }
        }
    }
}

/// Both decoders on the same input: neither may panic; errors must carry a decode-time code.
fn decode_both(codec: &FrameCodec, input: &[u8]) {
    for result in [
        codec.decode_client(input).map(|_| ()),
        codec.decode_server(input).map(|_| ()),
    ] {
        if let Err(e) = result {
            assert!(
                matches!(
                    e.code,
                    ErrorCode::BadFrame | ErrorCode::TooLarge | ErrorCode::Invalid
                ),
                "unexpected code {e}"
            );
            assert!(!e.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Integration tests have no lib.rs beside them to persist regressions next to.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_client_frame_round_trips(frame in client_frame()) {
        let codec = FrameCodec::default();
        prop_assert!(ClientFrame::KINDS.contains(&frame.kind()));
        let bytes = codec.encode_client(&frame).unwrap();
        prop_assert_eq!(codec.decode_client(&bytes).unwrap(), frame);
    }

    #[test]
    fn every_server_frame_round_trips(frame in server_frame()) {
        let codec = FrameCodec::default();
        prop_assert!(
            ServerFrame::KINDS.contains(&frame.kind()) || frame == ServerFrame::Unknown
        );
        let bytes = codec.encode_server(&frame).unwrap();
        let back = codec.decode_server(&bytes).unwrap();
        // Re-encoding gives the same bytes: encodings are canonical (what the doc test relies on).
        prop_assert_eq!(codec.encode_server(&back).unwrap(), bytes);
        prop_assert_eq!(back, frame);
    }

    #[test]
    fn random_bytes_never_panic(input in vec(any::<u8>(), 0..512)) {
        decode_both(&FrameCodec::default(), &input);
    }

    #[test]
    fn random_bytes_behind_a_map_marker_never_panic(
        marker in select(vec![0x81u8, 0x83, 0x85, 0x8f, 0xde, 0xdf]),
        tail in vec(any::<u8>(), 0..512),
    ) {
        let mut input = vec![marker];
        input.extend(tail);
        decode_both(&FrameCodec::default(), &input);
    }

    #[test]
    fn mutated_client_frames_never_panic(
        frame in client_frame(),
        mutations in vec(mutation(), 1..6),
    ) {
        let mut bytes = FrameCodec::default().encode_client(&frame).unwrap().to_vec();
        mutate(&mut bytes, &mutations);
        decode_both(&FrameCodec::default(), &bytes);
    }

    #[test]
    fn mutated_server_frames_never_panic(
        frame in server_frame(),
        mutations in vec(mutation(), 1..6),
    ) {
        let mut bytes = FrameCodec::default().encode_server(&frame).unwrap().to_vec();
        mutate(&mut bytes, &mutations);
        decode_both(&FrameCodec::default(), &bytes);
    }

    #[test]
    fn frame_shaped_garbage_never_panics(value in frame_shaped_value()) {
        let bytes = rmp_serde::to_vec_named(&value).unwrap();
        decode_both(&FrameCodec::default(), &bytes);
    }

    #[test]
    fn arbitrary_documents_never_panic(value in any_value()) {
        let bytes = rmp_serde::to_vec_named(&value).unwrap();
        decode_both(&FrameCodec::default(), &bytes);
    }

    #[test]
    fn oversized_input_is_too_large(frame in client_frame(), max in 1usize..256) {
        let bytes = FrameCodec::default().encode_client(&frame).unwrap();
        let codec = FrameCodec::new(max);
        match codec.decode_client(&bytes) {
            Err(e) if bytes.len() > max => {
                prop_assert_eq!(e.code, ErrorCode::TooLarge);
                // `t` and `rid` lead the map (at most 25 bytes): a head that long still echoes it.
                if max >= 25 {
                    prop_assert_eq!(e.rid, Some(frame.rid()));
                }
            }
            Ok(back) => {
                prop_assert!(bytes.len() <= max);
                prop_assert_eq!(back, frame);
            }
            Err(e) => prop_assert!(false, "{} byte frame under {} refused: {}", bytes.len(), max, e),
        }
    }

    #[test]
    fn an_rid_is_echoed_whenever_it_is_readable(frame in client_frame(), junk in any_value()) {
        // A valid frame plus one field of the wrong type elsewhere: the rid still comes back.
        let mut value: serde_json::Value =
            rmp_serde::from_slice(&FrameCodec::default().encode_client(&frame).unwrap()).unwrap();
        let Some(map) = value.as_object_mut() else { unreachable!("frames are maps") };
        let field = match &frame {
            ClientFrame::Ping { .. } => "t",
            ClientFrame::Hello { .. } | ClientFrame::AuthRefresh { .. } => "token",
            _ => "ch",
        };
        if junk.is_string() {
            return Ok(()); // a string may still be a valid value for these fields
        }
        map.insert(field.to_owned(), junk);
        let bytes = rmp_serde::to_vec_named(&value).unwrap();
        let err = FrameCodec::default().decode_client(&bytes).unwrap_err();
        prop_assert_eq!(err.code, ErrorCode::BadFrame);
        prop_assert_eq!(err.rid, Some(frame.rid()));
    }
}

#[test]
fn resume_maps_keep_every_entry() {
    let resume: BTreeMap<ChannelId, i64> = (1..=3)
        .map(|n| (ChannelId::from(Uuid::from_u128(n)), n as i64 * 10))
        .collect();
    let frame = ClientFrame::Hello {
        rid: 1,
        token: "t".into(),
        client: None,
        resume: resume.clone(),
    };
    let codec = FrameCodec::default();
    let back = codec
        .decode_client(&codec.encode_client(&frame).unwrap())
        .unwrap();
    assert!(matches!(back, ClientFrame::Hello { resume: r, .. } if r == resume));
}
