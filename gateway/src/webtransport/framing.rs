//! Length-prefixed frames on the control stream.
//!
//! A QUIC stream is a byte stream, so each frame is preceded by its length: **4 bytes, unsigned,
//! big-endian** (`DataView.setUint32(0, n)` in a browser). A fixed width is one read and one
//! comparison, cheaper to get right in every client than a varint, and 3 bytes over a varint
//! per frame do not matter next to a frame's own size.
//!
//! [`FrameReader`] checks the declared length against the frame limit *before* it allocates
//! anything for the body, so a prefix claiming 4 GiB costs nothing. It keeps its progress in
//! itself, between reads, which makes [`FrameReader::next`] cancel-safe: the session loop can
//! drop the future at any await and call it again without losing or misaligning bytes.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use atrium_core::protocol::stream_frame::declared_len;
pub use atrium_core::protocol::stream_frame::{PREFIX_BYTES, prefix, put_frame};

/// What [`FrameReader::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadFrame {
    /// One whole frame (possibly empty: the codec answers that with `bad_frame`).
    Frame(Bytes),
    /// A prefix declared more than the limit; the body was not read and the stream is no longer
    /// aligned on frames.
    TooLarge { declared: u32 },
    /// The peer finished the stream on a frame boundary.
    Finished,
}

/// Why the stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    #[error("the stream ended inside a frame")]
    Truncated,
    #[error("the stream is unusable after an oversized frame")]
    Poisoned,
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads length-prefixed frames, one at a time, under a size limit.
#[derive(Debug)]
pub struct FrameReader {
    max_frame_bytes: usize,
    head: [u8; PREFIX_BYTES],
    head_filled: usize,
    /// The body being read, sized from the prefix; `None` between frames.
    body: Option<BytesMut>,
    body_filled: usize,
    poisoned: bool,
}

impl FrameReader {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            max_frame_bytes,
            head: [0; PREFIX_BYTES],
            head_filled: 0,
            body: None,
            body_filled: 0,
            poisoned: false,
        }
    }

    /// The next frame. Cancel-safe (see the module documentation).
    pub async fn next<R: AsyncRead + Unpin>(
        &mut self,
        stream: &mut R,
    ) -> Result<ReadFrame, FramingError> {
        if self.poisoned {
            return Err(FramingError::Poisoned);
        }
        loop {
            if let Some(body) = self.body.as_mut() {
                while self.body_filled < body.len() {
                    let n = stream.read(&mut body[self.body_filled..]).await?;
                    if n == 0 {
                        return Err(FramingError::Truncated);
                    }
                    self.body_filled += n;
                }
                let frame = self.body.take().map(BytesMut::freeze).unwrap_or_default();
                self.body_filled = 0;
                return Ok(ReadFrame::Frame(frame));
            }
            let n = stream.read(&mut self.head[self.head_filled..]).await?;
            if n == 0 {
                return if self.head_filled == 0 {
                    Ok(ReadFrame::Finished)
                } else {
                    Err(FramingError::Truncated)
                };
            }
            self.head_filled += n;
            if self.head_filled < PREFIX_BYTES {
                continue;
            }
            self.head_filled = 0;
            let declared = declared_len(self.head);
            let len = usize::try_from(declared).unwrap_or(usize::MAX);
            if len > self.max_frame_bytes {
                self.poisoned = true;
                return Ok(ReadFrame::TooLarge { declared });
            }
            if len == 0 {
                return Ok(ReadFrame::Frame(Bytes::new()));
            }
            self.body = Some(BytesMut::zeroed(len));
            self.body_filled = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use tokio::io::AsyncWriteExt;

    use super::*;

    fn framed(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in frames {
            put_frame(&mut out, frame);
        }
        out
    }

    #[tokio::test]
    async fn reads_frames_back_to_back_and_the_end() {
        let bytes = framed(&[b"one", b"", b"three"]);
        let mut input = &bytes[..];
        let mut reader = FrameReader::new(16);
        assert_eq!(
            reader.next(&mut input).await.unwrap(),
            ReadFrame::Frame(Bytes::from_static(b"one"))
        );
        assert_eq!(
            reader.next(&mut input).await.unwrap(),
            ReadFrame::Frame(Bytes::new())
        );
        assert_eq!(
            reader.next(&mut input).await.unwrap(),
            ReadFrame::Frame(Bytes::from_static(b"three"))
        );
        assert_eq!(reader.next(&mut input).await.unwrap(), ReadFrame::Finished);
    }

    #[tokio::test]
    async fn the_limit_is_checked_before_reading_the_body() {
        // Claims 4 GiB - 1 and sends nothing else: refused at once, nothing allocated.
        let mut input = &[0xff, 0xff, 0xff, 0xff][..];
        let mut reader = FrameReader::new(64 * 1024);
        assert_eq!(
            reader.next(&mut input).await.unwrap(),
            ReadFrame::TooLarge { declared: u32::MAX }
        );
        assert!(matches!(
            reader.next(&mut input).await,
            Err(FramingError::Poisoned)
        ));
        // Exactly the limit is fine; one more is not.
        let ok = framed(&[&[7; 16]]);
        assert!(matches!(
            FrameReader::new(16).next(&mut &ok[..]).await.unwrap(),
            ReadFrame::Frame(f) if f.len() == 16
        ));
        let over = framed(&[&[7; 17]]);
        assert_eq!(
            FrameReader::new(16).next(&mut &over[..]).await.unwrap(),
            ReadFrame::TooLarge { declared: 17 }
        );
    }

    #[tokio::test]
    async fn a_stream_ending_mid_frame_is_an_error() {
        for cut in [1, 3, 5] {
            let bytes = framed(&[b"abcdef"]);
            let mut input = &bytes[..cut];
            assert!(matches!(
                FrameReader::new(16).next(&mut input).await,
                Err(FramingError::Truncated)
            ));
        }
    }

    #[tokio::test]
    async fn dropping_the_future_mid_frame_loses_nothing() {
        let (mut tx, mut rx) = tokio::io::duplex(64);
        let mut reader = FrameReader::new(64);
        let bytes = framed(&[b"hello", b"world"]);
        // Deliver one byte at a time, polling once and abandoning the read after each.
        let mut found = Vec::new();
        for byte in &bytes {
            tx.write_all(&[*byte]).await.unwrap();
            if let Some(frame) = reader.next(&mut rx).now_or_never() {
                found.push(frame.unwrap());
            }
        }
        assert_eq!(
            found,
            [
                ReadFrame::Frame(Bytes::from_static(b"hello")),
                ReadFrame::Frame(Bytes::from_static(b"world"))
            ]
        );
    }
}
