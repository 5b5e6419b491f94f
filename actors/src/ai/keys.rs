//! Provider API keys at rest: AES-256-GCM.
//!
//! A stored key is `nonce (12 bytes) || ciphertext || tag (16 bytes)`, sealed with the node's
//! encryption key and the provider's name as associated data, so a ciphertext copied onto
//! another provider's row does not decrypt. Every seal draws a fresh random nonce. The
//! encryption key comes from `llm.encryption_key` (`ATRIUM_LLM__ENCRYPTION_KEY`): 32 bytes,
//! written as base64 or as 64 hex digits.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use atrium_core::ai::SealedKey;

use crate::llm::ApiKey;

/// Bytes of an AES-256 key.
pub const KEY_BYTES: usize = 32;
/// Bytes of a GCM nonce.
pub const NONCE_BYTES: usize = 12;
/// Characters of a key kept (in clear) to recognise it in a masked listing.
pub const HINT_CHARS: usize = 4;
/// Shortest API key accepted; shorter ones would reveal too much in the hint.
pub const MIN_API_KEY_CHARS: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("llm.encryption_key must be 32 bytes, written as base64 or 64 hex digits")]
    BadEncryptionKey,
    #[error("the stored key does not decrypt with this encryption key")]
    Undecryptable,
    #[error("encryption failed")]
    Seal,
}

/// Seals and opens provider keys with the node's encryption key.
#[derive(Clone)]
pub struct KeyCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher(********)")
    }
}

impl KeyCipher {
    /// A cipher from configured text: base64 of 32 bytes, or 64 hex digits.
    pub fn from_config(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| KeyError::BadEncryptionKey)?
        } else {
            STANDARD
                .decode(text)
                .map_err(|_| KeyError::BadEncryptionKey)?
        };
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != KEY_BYTES {
            return Err(KeyError::BadEncryptionKey);
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| KeyError::BadEncryptionKey)?;
        Ok(Self { cipher })
    }

    /// A fresh random encryption key, as configuration text (base64).
    pub fn generate_config_text() -> String {
        let bytes: [u8; KEY_BYTES] = rand::random();
        STANDARD.encode(bytes)
    }

    /// Seals `key` for `provider`.
    pub fn seal(&self, provider: &str, key: &str) -> Result<SealedKey, KeyError> {
        let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: key.as_bytes(),
                    aad: provider.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Seal)?;
        let mut ciphertext = Vec::with_capacity(NONCE_BYTES + sealed.len());
        ciphertext.extend_from_slice(&nonce_bytes);
        ciphertext.extend_from_slice(&sealed);
        Ok(SealedKey {
            ciphertext,
            hint: hint(key),
        })
    }

    /// Opens a key sealed for `provider`.
    pub fn open(&self, provider: &str, sealed: &SealedKey) -> Result<ApiKey, KeyError> {
        if sealed.ciphertext.len() <= NONCE_BYTES {
            return Err(KeyError::Undecryptable);
        }
        let (nonce_bytes, body) = sealed.ciphertext.split_at(NONCE_BYTES);
        let mut fixed = [0u8; NONCE_BYTES];
        fixed.copy_from_slice(nonce_bytes);
        let nonce = Nonce::from(fixed);
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: provider.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Undecryptable)?;
        String::from_utf8(plain)
            .map(ApiKey::new)
            .map_err(|_| KeyError::Undecryptable)
    }
}

/// The last [`HINT_CHARS`] characters of a key.
pub fn hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(HINT_CHARS)..]
        .iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> KeyCipher {
        KeyCipher::from_config(&KeyCipher::generate_config_text()).unwrap()
    }

    #[test]
    fn sealed_keys_open_only_for_their_provider_and_cipher() {
        let c = cipher();
        let sealed = c.seal("openai", "sk-test-1234567890abcd").unwrap();
        assert_eq!(sealed.hint, "abcd");
        assert!(
            !sealed
                .ciphertext
                .windows(4)
                .any(|w| w == b"abcd" || w == b"sk-t")
        );
        assert_eq!(
            c.open("openai", &sealed).unwrap().expose(),
            "sk-test-1234567890abcd"
        );
        assert_eq!(c.open("anthropic", &sealed), Err(KeyError::Undecryptable));
        assert_eq!(
            cipher().open("openai", &sealed),
            Err(KeyError::Undecryptable)
        );
        let again = c.seal("openai", "sk-test-1234567890abcd").unwrap();
        assert_ne!(
            again.ciphertext, sealed.ciphertext,
            "a fresh nonce every time"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.ciphertext.last_mut() {
            *last ^= 1;
        }
        assert_eq!(c.open("openai", &tampered), Err(KeyError::Undecryptable));
        let short = SealedKey {
            ciphertext: vec![1; 5],
            hint: String::new(),
        };
        assert_eq!(c.open("openai", &short), Err(KeyError::Undecryptable));
    }

    #[test]
    fn configured_keys_are_base64_or_hex_of_32_bytes() {
        assert!(KeyCipher::from_config(&"ab".repeat(32)).is_ok());
        assert!(KeyCipher::from_config(&STANDARD.encode([7u8; 32])).is_ok());
        assert_eq!(
            KeyCipher::from_config("short").unwrap_err(),
            KeyError::BadEncryptionKey
        );
        assert_eq!(
            KeyCipher::from_config(&STANDARD.encode([7u8; 16])).unwrap_err(),
            KeyError::BadEncryptionKey
        );
        assert!(!format!("{:?}", cipher()).contains(|c: char| c.is_ascii_digit()));
    }
}
