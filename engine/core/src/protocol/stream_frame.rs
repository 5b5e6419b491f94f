//! Frames on a byte stream (the WebTransport control stream): each frame is preceded by its
//! length, **4 bytes, unsigned, big-endian** (`DataView.setUint32(0, n)` in a browser).
//!
//! Only the layout lives here; the gateway reads it from a QUIC stream without allocating for an
//! oversized body, and clients cut frames out of what their reads return.

/// Bytes of the length prefix.
pub const PREFIX_BYTES: usize = 4;

/// The prefix of a frame of `len` bytes. Frames are bounded by the frame limit, far below 4 GiB;
/// a longer one could not be described and is clamped (and refused by the peer's limit).
pub fn prefix(len: usize) -> [u8; PREFIX_BYTES] {
    u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
}

/// Appends `frame` with its prefix to `out`.
pub fn put_frame(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend_from_slice(&prefix(frame.len()));
    out.extend_from_slice(frame);
}

/// The length a prefix declares.
pub fn declared_len(prefix: [u8; PREFIX_BYTES]) -> u32 {
    u32::from_be_bytes(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_its_big_endian_length_then_its_bytes() {
        let mut out = Vec::new();
        put_frame(&mut out, b"abc");
        put_frame(&mut out, b"");
        assert_eq!(out, [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0]);
        assert_eq!(declared_len([0, 0, 1, 2]), 258);
        assert_eq!(prefix(usize::MAX), [0xff; 4], "clamped");
    }
}
