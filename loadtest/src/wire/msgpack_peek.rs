//! Reading `seq` and `body` out of an Atrium `msg` push without decoding the whole frame.
//!
//! A subscriber only needs two fields of each delivery. The full decoder (`FrameCodec`) builds a
//! `ServerFrame` with owned strings and parsed UUIDs, which at hundreds of thousands of
//! deliveries a second would make the load generator, not the server, the bottleneck. This walks
//! the MessagePack map in place and borrows the body. Anything it does not recognise returns
//! `None`, and the caller falls back to the full decoder, so it can never misreport a frame.

/// `(seq, body)` of a `msg` push, or `None` for any other frame or unexpected encoding.
pub fn msg_push(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let mut r = Reader { bytes, pos: 0 };
    let fields = r.map_len()?;
    let mut is_msg = false;
    let mut seq = None;
    let mut body = None;
    for _ in 0..fields {
        let key = r.str()?;
        match key {
            b"t" => is_msg = r.str()? == b"msg",
            b"seq" => seq = Some(r.int()?),
            b"body" => body = Some(r.str()?),
            _ => r.skip(0)?,
        }
    }
    if r.pos != bytes.len() || !is_msg {
        return None;
    }
    Some((seq?, body?))
}

/// Nesting the skipper follows before giving up (a `msg` push nests one level).
const MAX_DEPTH: u32 = 8;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    fn be(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
        )
    }

    fn map_len(&mut self) -> Option<u64> {
        match self.byte()? {
            m @ 0x80..=0x8f => Some(u64::from(m & 0x0f)),
            0xde => self.be(2),
            0xdf => self.be(4),
            _ => None,
        }
    }

    fn str(&mut self) -> Option<&'a [u8]> {
        let len = match self.byte()? {
            m @ 0xa0..=0xbf => u64::from(m & 0x1f),
            0xd9 => self.be(1)?,
            0xda => self.be(2)?,
            0xdb => self.be(4)?,
            _ => return None,
        };
        self.take(usize::try_from(len).ok()?)
    }

    fn int(&mut self) -> Option<i64> {
        let m = self.byte()?;
        match m {
            0x00..=0x7f => Some(i64::from(m)),
            0xe0..=0xff => Some(i64::from(m as i8)),
            0xcc => self.be(1).map(|v| v as i64),
            0xcd => self.be(2).map(|v| v as i64),
            0xce => self.be(4).map(|v| v as i64),
            0xcf => self.be(8).and_then(|v| i64::try_from(v).ok()),
            0xd0 => self.be(1).map(|v| i64::from(v as u8 as i8)),
            0xd1 => self.be(2).map(|v| i64::from(v as u16 as i16)),
            0xd2 => self.be(4).map(|v| i64::from(v as u32 as i32)),
            0xd3 => self.be(8).map(|v| v as i64),
            _ => None,
        }
    }

    /// Skips one value of any type.
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let m = self.byte()?;
        let (skip_bytes, items): (u64, u64) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, u64::from(m & 0x0f) * 2),
            0x90..=0x9f => (0, u64::from(m & 0x0f)),
            0xa0..=0xbf => (u64::from(m & 0x1f), 0),
            0xc4 | 0xd9 => (self.be(1)?, 0),
            0xc5 | 0xda => (self.be(2)?, 0),
            0xc6 | 0xdb => (self.be(4)?, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xc7 => (self.be(1)? + 1, 0),
            0xc8 => (self.be(2)? + 1, 0),
            0xc9 => (self.be(4)? + 1, 0),
            0xdc => (0, self.be(2)?),
            0xdd => (0, self.be(4)?),
            0xde => (0, self.be(2)? * 2),
            0xdf => (0, self.be(4)? * 2),
            0xc1 => return None,
        };
        self.take(usize::try_from(skip_bytes).ok()?)?;
        for _ in 0..items {
            self.skip(depth + 1)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use atrium_core::ids::{ChannelId, MessageId, UserId};
    use atrium_core::protocol::{FrameCodec, ServerFrame};

    use super::*;

    fn msg(seq: i64, body: &str, with_optionals: bool) -> ServerFrame {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        ServerFrame::Msg {
            ch: ChannelId::from(id(1)),
            seq,
            id: MessageId::from(id(2)),
            from: UserId::from(id(3)),
            body: body.to_owned(),
            ts: 1_764_115_200_123,
            reply_to: with_optionals.then(|| MessageId::from(id(4))),
            mentions: if with_optionals {
                vec![UserId::from(id(5)), UserId::from(id(6))]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn reads_seq_and_body_of_real_msg_pushes() {
        let codec = FrameCodec::default();
        for (seq, body, optionals) in [
            (1, "hi", false),
            (127, "x", true),
            (128, &"y".repeat(40) as &str, false),
            (70_000, &"z".repeat(300), true),
            (5_000_000_000, "big seq", false),
        ] {
            let bytes = codec.encode_server(&msg(seq, body, optionals)).unwrap();
            assert_eq!(msg_push(&bytes), Some((seq, body.as_bytes())), "seq {seq}");
        }
    }

    #[test]
    fn other_frames_and_garbage_are_not_mistaken_for_msg() {
        let codec = FrameCodec::default();
        let typing = ServerFrame::Typing {
            ch: ChannelId::from(uuid::Uuid::from_u128(1)),
            user: UserId::from(uuid::Uuid::from_u128(2)),
            on: true,
        };
        assert_eq!(msg_push(&codec.encode_server(&typing).unwrap()), None);
        assert_eq!(
            msg_push(&codec.encode_server(&ServerFrame::ok(3)).unwrap()),
            None
        );
        let good = codec.encode_server(&msg(9, "body", true)).unwrap();
        for cut in 0..good.len() {
            assert_eq!(msg_push(&good[..cut]), None, "truncated at {cut}");
        }
        let mut trailing = good.to_vec();
        trailing.push(0);
        assert_eq!(msg_push(&trailing), None);
        assert_eq!(msg_push(&[0xc1, 0xff, 0x00]), None);
    }
}
