//! The load tester only ever aims at this machine.
//!
//! A load generator pointed at someone else's server is an attack, and a typo in a URL is all it
//! takes. So every target URL and every source address is checked before anything connects: the
//! host must be a literal loopback address (127.0.0.0/8 or ::1) or the name `localhost`, which is
//! mapped to 127.0.0.1 here without asking any resolver (a resolver could be told otherwise).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use thiserror::Error;
use tokio_tungstenite::tungstenite::http::Uri;

/// Why a target or source address was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoopbackError {
    #[error("`{url}` is not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("`{url}` has scheme `{scheme}`; expected one of {expected}")]
    BadScheme {
        url: String,
        scheme: String,
        expected: &'static str,
    },
    #[error(
        "refusing to load `{host}`: the load tester only targets loopback addresses \
         (127.0.0.0/8, ::1 or `localhost`), never another machine"
    )]
    NotLoopback { host: String },
    #[error(
        "source address `{addr}` is not a loopback address (127.0.0.0/8 or ::1); \
         connections may only originate on this machine"
    )]
    SourceNotLoopback { addr: String },
    #[error("source address `{addr}` is not an IP address")]
    BadSource { addr: String },
    #[error("source address {source_addr} and target {target} are of different IP families")]
    FamilyMismatch { source_addr: IpAddr, target: IpAddr },
}

/// A target URL that passed the loopback check, with its resolved socket address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopbackTarget {
    /// The URL as given (used for the HTTP request line and `Host` header).
    pub url: String,
    /// Where to connect.
    pub addr: SocketAddr,
}

/// True for 127.0.0.0/8 and ::1 (and IPv4-mapped 127.x in IPv6 form).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Checks a `ws://`/`http://` URL (the schemes in `schemes`) and returns where to connect.
pub fn check_url(url: &str, schemes: &[&'static str]) -> Result<LoopbackTarget, LoopbackError> {
    let uri: Uri =
        url.parse()
            .map_err(|e: tokio_tungstenite::tungstenite::http::uri::InvalidUri| {
                LoopbackError::BadUrl {
                    url: url.to_owned(),
                    reason: e.to_string(),
                }
            })?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    if !schemes.contains(&scheme.as_str()) {
        return Err(LoopbackError::BadScheme {
            url: url.to_owned(),
            scheme,
            expected: match schemes {
                ["ws"] => "`ws` (TLS is not supported: targets are local)",
                ["http"] => "`http` (TLS is not supported: targets are local)",
                ["https"] => "`https` (WebTransport)",
                _ => "`ws` or `http`",
            },
        });
    }
    let host = uri.host().ok_or_else(|| LoopbackError::BadUrl {
        url: url.to_owned(),
        reason: "no host".to_owned(),
    })?;
    let ip = parse_loopback_host(host)?;
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" || scheme == "wss" {
            443
        } else {
            80
        });
    Ok(LoopbackTarget {
        url: url.to_owned(),
        addr: SocketAddr::new(ip, port),
    })
}

/// A host part (`127.0.0.2`, `[::1]`, `localhost`) as a loopback IP, or the refusal.
fn parse_loopback_host(host: &str) -> Result<IpAddr, LoopbackError> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) if is_loopback(ip) => Ok(ip),
        _ => Err(LoopbackError::NotLoopback {
            host: host.to_owned(),
        }),
    }
}

/// Parses and checks the source addresses connections bind to, and that each has the target's
/// IP family (a socket cannot bind ::1 and connect to 127.0.0.1).
pub fn check_sources(sources: &[String], target: IpAddr) -> Result<Vec<IpAddr>, LoopbackError> {
    sources
        .iter()
        .map(|raw| {
            let ip: IpAddr = raw
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| LoopbackError::BadSource { addr: raw.clone() })?;
            if !is_loopback(ip) {
                return Err(LoopbackError::SourceNotLoopback { addr: raw.clone() });
            }
            if ip.is_ipv4() != target.is_ipv4() {
                return Err(LoopbackError::FamilyMismatch {
                    source_addr: ip,
                    target,
                });
            }
            Ok(ip)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &[&str] = &["ws"];

    #[test]
    fn accepts_the_whole_127_block_ipv6_loopback_and_localhost() {
        for (url, addr) in [
            ("ws://127.0.0.1:8080/ws", "127.0.0.1:8080"),
            ("ws://127.3.2.1:9/x", "127.3.2.1:9"),
            ("ws://[::1]:4280", "[::1]:4280"),
            (
                "ws://localhost:3100/socket.io/?EIO=4&transport=websocket",
                "127.0.0.1:3100",
            ),
            ("ws://LOCALHOST/ws", "127.0.0.1:80"),
        ] {
            let target = check_url(url, WS).unwrap();
            assert_eq!(target.addr, addr.parse::<SocketAddr>().unwrap(), "{url}");
        }
    }

    #[test]
    fn refuses_every_other_host_with_a_clear_message() {
        for url in [
            "ws://10.0.0.1:8080/ws",
            "ws://192.168.1.2/ws",
            "ws://0.0.0.0:8080/ws",
            "ws://[::]:8080/ws",
            "ws://[fe80::1]:8080/ws",
            "ws://example.com/ws",
            "ws://localhost.example.com/ws",
            "ws://128.0.0.1/ws",
            "ws://8.8.8.8/ws",
        ] {
            let err = check_url(url, WS).unwrap_err();
            assert!(
                matches!(err, LoopbackError::NotLoopback { .. }),
                "{url}: {err:?}"
            );
            assert!(err.to_string().contains("only targets loopback"), "{err}");
        }
    }

    #[test]
    fn refuses_other_schemes_and_garbage() {
        assert!(matches!(
            check_url("wss://127.0.0.1/ws", WS),
            Err(LoopbackError::BadScheme { .. })
        ));
        assert!(matches!(
            check_url("http://127.0.0.1/ws", WS),
            Err(LoopbackError::BadScheme { .. })
        ));
        assert!(check_url("not a url", WS).is_err());
        assert!(check_url("http://127.0.0.1:8080", &["http"]).is_ok());
    }

    #[test]
    fn ipv4_mapped_loopback_counts_as_loopback() {
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn source_addresses_must_be_loopback_and_of_the_target_family() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let ok = check_sources(&["127.0.0.1".into(), " 127.0.0.2".into()], v4).unwrap();
        assert_eq!(ok.len(), 2);
        assert!(matches!(
            check_sources(&["10.1.1.1".into()], v4),
            Err(LoopbackError::SourceNotLoopback { .. })
        ));
        assert!(matches!(
            check_sources(&["nope".into()], v4),
            Err(LoopbackError::BadSource { .. })
        ));
        assert!(matches!(
            check_sources(&["::1".into()], v4),
            Err(LoopbackError::FamilyMismatch { .. })
        ));
    }
}
