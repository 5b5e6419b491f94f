//! Refresh tokens and server secrets.
//!
//! A refresh token is 32 random bytes, base64url-encoded, handed to the client once. The server
//! keeps only its SHA-256 (hex): a database leak yields no usable tokens, and because the token is
//! high-entropy a plain fast hash is enough (no salt or argon2 needed, unlike passwords).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Random bytes in a refresh token.
pub const REFRESH_TOKEN_BYTES: usize = 32;

/// Random bytes in a generated JWT secret.
pub const JWT_SECRET_BYTES: usize = 48;

/// A new refresh token (43 URL-safe characters).
pub fn new_refresh_token() -> String {
    let bytes: [u8; REFRESH_TOKEN_BYTES] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value stored for a refresh token: lowercase hex SHA-256 of its text.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random secret for signing access tokens (64 URL-safe characters).
pub fn generate_jwt_secret() -> String {
    let bytes: [u8; JWT_SECRET_BYTES] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_url_safe() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&a).unwrap().len(),
            REFRESH_TOKEN_BYTES
        );
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256 of the empty string.
        assert_eq!(
            hash_refresh_token(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let t = new_refresh_token();
        assert_eq!(hash_refresh_token(&t), hash_refresh_token(&t));
        assert_ne!(
            hash_refresh_token(&t),
            hash_refresh_token(&new_refresh_token())
        );
    }

    #[test]
    fn jwt_secrets_are_long_enough() {
        let s = generate_jwt_secret();
        assert_eq!(s.len(), 64);
        assert!(s.len() >= crate::auth::access::MIN_SECRET_LEN);
        assert_ne!(s, generate_jwt_secret());
    }
}
