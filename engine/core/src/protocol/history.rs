//! Fitting a `history` page into one frame.
//!
//! A client may ask for up to 200 messages, and 200 long messages do not fit in a 64 KiB frame.
//! Rather than fail, the server sends the newest messages that fit and sets `has_more`, so the
//! client's next request (`before_seq` = the first seq it got) continues exactly where this page
//! stopped. Nothing is skipped, and the page is never split across frames.

use bytes::Bytes;

use crate::protocol::codec::{EncodeError, FrameCodec};
use crate::protocol::server::{HistoryPage, OkResult, ServerFrame};

impl FrameCodec {
    /// Encodes the `ok` reply to `history {rid}`, dropping the oldest messages of `page` (which
    /// is ascending by seq) until it fits in one frame; `has_more` becomes true if any were
    /// dropped. Fails only if not even the newest message fits.
    pub fn encode_history_reply(&self, rid: u32, page: HistoryPage) -> Result<Bytes, EncodeError> {
        let frame = ServerFrame::Ok {
            rid,
            result: OkResult::History(page),
        };
        let too_large = match self.encode_server(&frame) {
            Err(EncodeError::TooLarge { size, max }) => EncodeError::TooLarge { size, max },
            done => return done,
        };
        let ServerFrame::Ok {
            result: OkResult::History(HistoryPage { messages, .. }),
            ..
        } = frame
        else {
            unreachable!("built above as an ok history reply")
        };

        // Size of the reply with no messages, minus its one-byte empty-array header.
        let empty = HistoryPage {
            messages: Vec::new(),
            has_more: true,
        };
        let envelope = self.encoded_len(&ServerFrame::Ok {
            rid,
            result: OkResult::History(empty),
        })? - 1;

        // Walk from the newest message back while the frame still fits.
        let mut body = 0;
        let mut keep = 0;
        for message in messages.iter().rev() {
            let next = body + rmp_serde::to_vec_named(message)?.len();
            if envelope + array_header_len(keep + 1) + next > self.max_frame_bytes() {
                break;
            }
            body = next;
            keep += 1;
        }
        if keep == 0 {
            return Err(too_large);
        }
        let first_kept = messages.len() - keep;
        let page = HistoryPage {
            messages: messages.into_iter().skip(first_kept).collect(),
            has_more: true,
        };
        self.encode_server(&ServerFrame::Ok {
            rid,
            result: OkResult::History(page),
        })
    }

    fn encoded_len(&self, frame: &ServerFrame) -> Result<usize, EncodeError> {
        Ok(rmp_serde::to_vec_named(frame)?.len())
    }
}

/// Bytes MessagePack spends on the header of an array of `len` elements.
fn array_header_len(len: usize) -> usize {
    match len {
        0..=15 => 1,
        16..=0xffff => 3,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::ids::{MessageId, UserId};
    use crate::protocol::server::HistoryMessage;

    fn page(count: i64, body_chars: usize, has_more: bool) -> HistoryPage {
        HistoryPage {
            messages: (1..=count)
                .map(|seq| HistoryMessage {
                    seq,
                    id: MessageId::from(Uuid::from_u128(seq as u128)),
                    from: UserId::from(Uuid::from_u128(7)),
                    body: "é".repeat(body_chars),
                    ts: 1_700_000_000_000 + seq,
                    reply_to: None,
                    mentions: Vec::new(),
                    edited_at: None,
                    deleted: false,
                })
                .collect(),
            has_more,
        }
    }

    fn decode_page(codec: &FrameCodec, bytes: &[u8]) -> HistoryPage {
        match codec.decode_server(bytes).unwrap() {
            ServerFrame::Ok {
                rid: 5,
                result: OkResult::History(page),
            } => page,
            other => panic!("not a history reply: {other:?}"),
        }
    }

    #[test]
    fn a_page_that_fits_is_sent_whole() {
        let codec = FrameCodec::default();
        let bytes = codec.encode_history_reply(5, page(20, 10, false)).unwrap();
        assert_eq!(decode_page(&codec, &bytes), page(20, 10, false));
    }

    #[test]
    fn an_oversized_page_keeps_the_newest_messages_that_fit() {
        let codec = FrameCodec::default();
        let bytes = codec
            .encode_history_reply(5, page(200, 1000, false))
            .unwrap();
        assert!(bytes.len() <= codec.max_frame_bytes());
        let got = decode_page(&codec, &bytes);
        assert!(got.has_more, "dropped messages must be fetchable");
        let seqs: Vec<i64> = got.messages.iter().map(|m| m.seq).collect();
        assert!(seqs.len() > 20, "kept {}", seqs.len());
        let first = 200 - seqs.len() as i64 + 1;
        assert_eq!(seqs, (first..=200).collect::<Vec<_>>());
        // One more message would not have fitted: the cut is as late as possible.
        let mut one_more = page(200, 1000, true);
        one_more.messages.drain(..(first - 2) as usize);
        let frame = ServerFrame::Ok {
            rid: 5,
            result: OkResult::History(one_more),
        };
        assert!(matches!(
            codec.encode_server(&frame),
            Err(EncodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_message_larger_than_a_frame_is_an_error() {
        let codec = FrameCodec::new(512);
        assert!(matches!(
            codec.encode_history_reply(5, page(3, 1000, false)),
            Err(EncodeError::TooLarge { .. })
        ));
    }
}
