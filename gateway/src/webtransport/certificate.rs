//! The TLS identity of the WebTransport listener.
//!
//! Browsers can reach a server without a CA-signed certificate by pinning its SHA-256
//! (`serverCertificateHashes`), provided the certificate is ECDSA P-256 and valid for at most 14
//! days. With no certificate configured, the node makes one such certificate at start (for
//! `localhost`, `127.0.0.1` and `::1`), announces its hash at `GET /api/v1/webtransport`, and
//! replaces it before it expires. A configured PEM certificate is used as is, and no hash is
//! announced: clients validate it the usual way.

use std::path::Path;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use wtransport::Identity;

/// Names the generated certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The generated certificate's validity starts up to this long before it is made (at most a
/// quarter of the validity), so a client whose clock is slightly behind does not see a
/// certificate from the future. It counts against the validity (browsers measure not-after
/// minus not-before).
const MAX_BACKDATE: Duration = Duration::from_secs(60);

/// Why no identity could be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("cannot load the WebTransport certificate or key: {0}")]
    Load(String),
}

/// An identity ready to serve, with what clients are told about it.
pub struct ServedIdentity {
    pub identity: Identity,
    /// SHA-256 of the leaf certificate's DER, for a generated certificate only.
    pub sha256: Option<[u8; 32]>,
    /// When a generated certificate stops being valid.
    pub expires_at: Option<SystemTime>,
}

impl std::fmt::Debug for ServedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("ServedIdentity")
            .field("sha256", &self.sha256.map(|h| sha256_hex(&h)))
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A fresh ECDSA P-256 certificate valid for `validity` (counted from slightly before now).
pub fn self_signed(validity: Duration) -> Result<ServedIdentity, CertificateError> {
    let now = SystemTime::now();
    let backdate = MAX_BACKDATE.min(validity / 4);
    let not_before = now.checked_sub(backdate).unwrap_or(now);
    let not_after = not_before + validity;
    let identity = Identity::self_signed_builder()
        .subject_alt_names(SELF_SIGNED_NAMES)
        .validity_period(
            OffsetDateTime::from(not_before),
            OffsetDateTime::from(not_after),
        )
        .build()
        .map_err(|e| CertificateError::Generate(e.to_string()))?;
    let sha256 = leaf_sha256(&identity)
        .ok_or_else(|| CertificateError::Generate("no certificate was produced".into()))?;
    Ok(ServedIdentity {
        identity,
        sha256: Some(sha256),
        expires_at: Some(not_after),
    })
}

/// A configured certificate chain and key (PEM files).
pub async fn load(cert: &Path, key: &Path) -> Result<ServedIdentity, CertificateError> {
    let identity = Identity::load_pemfiles(cert, key).await.map_err(|e| {
        CertificateError::Load(format!("{} / {}: {e}", cert.display(), key.display()))
    })?;
    Ok(ServedIdentity {
        identity,
        sha256: None,
        expires_at: None,
    })
}

fn leaf_sha256(identity: &Identity) -> Option<[u8; 32]> {
    let leaf = identity.certificate_chain().as_slice().first()?;
    Some(*leaf.hash().as_ref())
}

/// Lowercase hex without separators: what `GET /api/v1/webtransport` reports.
pub fn sha256_hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_are_pinnable() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let validity = Duration::from_secs(13 * 24 * 3600);
        let served = self_signed(validity).unwrap();
        let hash = served.sha256.unwrap();
        let der = served.identity.certificate_chain().as_slice()[0]
            .der()
            .to_vec();
        // The announced hash is the SHA-256 of the DER a browser receives.
        let digest = wtransport::tls::Certificate::from_der(der).unwrap().hash();
        assert_eq!(digest.as_ref(), &hash);
        assert_eq!(sha256_hex(&hash).len(), 64);
        let left = served
            .expires_at
            .unwrap()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(left <= validity && left > validity - Duration::from_secs(120));
        // Two generations give two different certificates.
        assert_ne!(self_signed(validity).unwrap().sha256, Some(hash));
    }
}
