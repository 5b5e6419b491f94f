//! Settings of the WebTransport listener (the `[webtransport]` table), with documented defaults.
//!
//! Session rules (hello timeout, heartbeat, frame size, request rate, write batching) are not
//! here: they are the `[ws]` settings, shared by every transport so a session behaves the same
//! whichever way it came in.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::session::rate_limit::RateLimit;

/// The default UDP address: loopback, like the HTTP listener (expose it deliberately).
pub const DEFAULT_WT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4433);
/// The path of WebTransport sessions; other paths are answered 404.
pub const WT_PATH: &str = "/wt";
/// Browsers accept a certificate pinned with `serverCertificateHashes` only when it is valid for
/// at most 14 days; 13 leaves room for clock skew.
pub const DEFAULT_SELF_SIGNED_VALIDITY_SECS: u64 = 13 * 24 * 60 * 60;
/// The longest validity a pinned certificate may have.
pub const MAX_SELF_SIGNED_VALIDITY_SECS: u64 = 14 * 24 * 60 * 60;
/// A self-signed certificate is replaced this long before it expires, so clients fetching the
/// hash near the end always get one with days left.
pub const DEFAULT_RENEW_BEFORE_EXPIRY_SECS: u64 = 3 * 24 * 60 * 60;

/// Why the `[webtransport]` settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid [webtransport] configuration: {0}")]
pub struct WtConfigError(pub String);

/// WebTransport listener configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WtConfig {
    /// Whether the node listens for WebTransport at all.
    pub enabled: bool,
    /// UDP address to listen on. Port 0 picks a free port (tests).
    pub addr: SocketAddr,
    /// The URL announced by `GET /api/v1/webtransport`. When absent it is built from the bound
    /// address (`https://127.0.0.1:4433/wt`); set it when clients reach the node under a name.
    pub public_url: Option<String>,
    /// PEM certificate chain. With `key_pem`, used as is (no hash is announced); with neither, a
    /// self-signed certificate is generated at start and renewed before it expires.
    pub cert_pem: Option<PathBuf>,
    /// PEM private key of `cert_pem`.
    pub key_pem: Option<PathBuf>,
    /// Validity of the generated certificate (at most 14 days, a browser rule).
    pub self_signed_validity_secs: u64,
    /// How long before its expiry the generated certificate is replaced.
    pub renew_before_expiry_secs: u64,
    /// QUIC keep-alive interval: keeps idle sessions open and lets QUIC notice dead peers.
    pub keep_alive_ms: u64,
    /// A QUIC connection that hears nothing from its peer for this long is closed.
    pub idle_timeout_ms: u64,
    /// Sustained datagrams per second per session; the excess is dropped (and counted).
    pub datagram_rate_per_second: f64,
    /// Datagrams a session may send back to back.
    pub datagram_burst: f64,
}

impl Default for WtConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            addr: DEFAULT_WT_ADDR,
            public_url: None,
            cert_pem: None,
            key_pem: None,
            self_signed_validity_secs: DEFAULT_SELF_SIGNED_VALIDITY_SECS,
            renew_before_expiry_secs: DEFAULT_RENEW_BEFORE_EXPIRY_SECS,
            keep_alive_ms: 10_000,
            idle_timeout_ms: 30_000,
            datagram_rate_per_second: 200.0,
            datagram_burst: 400.0,
        }
    }
}

impl WtConfig {
    /// Checks what serde cannot: paths come in pairs, times are positive and ordered.
    pub fn validate(&self) -> Result<(), WtConfigError> {
        if self.cert_pem.is_some() != self.key_pem.is_some() {
            return Err(WtConfigError(
                "cert_pem and key_pem must be set together".into(),
            ));
        }
        if self.self_signed_validity_secs == 0
            || self.self_signed_validity_secs > MAX_SELF_SIGNED_VALIDITY_SECS
        {
            return Err(WtConfigError(format!(
                "self_signed_validity_secs must be between 1 and {MAX_SELF_SIGNED_VALIDITY_SECS} \
                 (browsers refuse pinned certificates valid for longer than 14 days)"
            )));
        }
        if self.renew_before_expiry_secs >= self.self_signed_validity_secs {
            return Err(WtConfigError(
                "renew_before_expiry_secs must be shorter than self_signed_validity_secs".into(),
            ));
        }
        if self.keep_alive_ms == 0 || self.keep_alive_ms >= self.idle_timeout_ms {
            return Err(WtConfigError(
                "keep_alive_ms must be positive and shorter than idle_timeout_ms".into(),
            ));
        }
        if let Some(url) = &self.public_url
            && !url.starts_with("https://")
        {
            return Err(WtConfigError(format!(
                "public_url {url:?} must start with https://"
            )));
        }
        Ok(())
    }

    pub fn keep_alive(&self) -> Duration {
        Duration::from_millis(self.keep_alive_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    pub fn self_signed_validity(&self) -> Duration {
        Duration::from_secs(self.self_signed_validity_secs)
    }

    pub fn renew_before_expiry(&self) -> Duration {
        Duration::from_secs(self.renew_before_expiry_secs)
    }

    pub fn datagram_rate_limit(&self) -> RateLimit {
        RateLimit {
            per_second: self.datagram_rate_per_second.max(0.0),
            burst: self.datagram_burst.max(1.0),
        }
    }

    /// The URL clients use: `public_url`, or `https://<bound address>/wt` with an unspecified
    /// address (`0.0.0.0`, `::`) replaced by loopback.
    pub fn url_for(&self, bound: SocketAddr) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let ip = match bound.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("https://{}{WT_PATH}", SocketAddr::new(ip, bound.port()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_loopback() {
        let c = WtConfig::default();
        c.validate().unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:4433");
        assert_eq!(c.url_for(c.addr), "https://127.0.0.1:4433/wt");
    }

    #[test]
    fn url_replaces_unspecified_addresses() {
        let c = WtConfig::default();
        assert_eq!(
            c.url_for("0.0.0.0:5000".parse().unwrap()),
            "https://127.0.0.1:5000/wt"
        );
        assert_eq!(
            c.url_for("[::]:5000".parse().unwrap()),
            "https://[::1]:5000/wt"
        );
        let named = WtConfig {
            public_url: Some("https://rt.example.com:443/wt".into()),
            ..WtConfig::default()
        };
        assert_eq!(
            named.url_for("0.0.0.0:443".parse().unwrap()),
            "https://rt.example.com:443/wt"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let cases = [
            WtConfig {
                cert_pem: Some("cert.pem".into()),
                ..WtConfig::default()
            },
            WtConfig {
                self_signed_validity_secs: 15 * 24 * 3600,
                ..WtConfig::default()
            },
            WtConfig {
                renew_before_expiry_secs: DEFAULT_SELF_SIGNED_VALIDITY_SECS,
                ..WtConfig::default()
            },
            WtConfig {
                keep_alive_ms: 30_000,
                ..WtConfig::default()
            },
            WtConfig {
                public_url: Some("http://x/wt".into()),
                ..WtConfig::default()
            },
        ];
        for c in cases {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }
}
