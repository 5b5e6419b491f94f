//! The WebTransport listener: accepts sessions on `/wt`, hands each control stream to the
//! transport-agnostic session loop, and keeps the certificate fresh.
//!
//! One task accepts; one task per session runs it (handshake with the browser, then
//! [`session::run`]); one task renews a generated certificate and swaps it into the running
//! endpoint, so sessions already open keep theirs and new ones get the new one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wtransport::endpoint::IncomingSession;
use wtransport::endpoint::endpoint_side::Server;
use wtransport::{Endpoint, Identity, ServerConfig, VarInt};

use crate::session::{self, LiveContext};
use crate::webtransport::certificate::{self, CertificateError, ServedIdentity, sha256_hex};
use crate::webtransport::config::{WT_PATH, WtConfig, WtConfigError};
use crate::webtransport::connection::{H3_NO_ERROR, WtConnection, WtConnectionLimits};

/// After a failed renewal, the next attempt comes this much later.
const RENEW_RETRY: Duration = Duration::from_secs(60);
/// At shutdown, how long the endpoint waits for its connections to finish closing.
const ENDPOINT_DRAIN: Duration = Duration::from_secs(2);

/// What `GET /api/v1/webtransport` tells clients.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct WtInfo {
    /// Where to open the session (`https://127.0.0.1:4433/wt`).
    pub url: String,
    /// SHA-256 of the server certificate as 64 lowercase hex digits, for
    /// `serverCertificateHashes`; `null` when the node uses a configured certificate.
    pub cert_sha256: Option<String>,
}

/// Why the listener did not start.
#[derive(Debug, thiserror::Error)]
pub enum WtError {
    #[error(transparent)]
    Config(#[from] WtConfigError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("cannot listen for WebTransport on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running WebTransport listener.
pub struct WtServer {
    local_addr: SocketAddr,
    info: watch::Receiver<WtInfo>,
    endpoint: Arc<Endpoint<Server>>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for WtServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WtServer")
            .field("local_addr", &self.local_addr)
            .field("info", &*self.info.borrow())
            .finish_non_exhaustive()
    }
}

impl WtServer {
    /// Binds the UDP socket, prepares the certificate and starts accepting sessions for `live`.
    pub async fn start(config: WtConfig, live: LiveContext) -> Result<Self, WtError> {
        config.validate()?;
        let served = match (&config.cert_pem, &config.key_pem) {
            (Some(cert), Some(key)) => certificate::load(cert, key).await?,
            _ => certificate::self_signed(config.self_signed_validity())?,
        };
        let server_config = server_config(config.addr, served.identity.clone_identity(), &config)?;
        let endpoint = Endpoint::server(server_config).map_err(|source| WtError::Bind {
            addr: config.addr,
            source,
        })?;
        let local_addr = endpoint.local_addr().map_err(|source| WtError::Bind {
            addr: config.addr,
            source,
        })?;
        let url = config.url_for(local_addr);
        let (publish, info) = watch::channel(info_of(&url, &served));
        tracing::info!(
            %url,
            cert_sha256 = ?info.borrow().cert_sha256,
            "WebTransport listening"
        );

        let endpoint = Arc::new(endpoint);
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let config = Arc::new(config);
        tasks.spawn(accept_loop(
            endpoint.clone(),
            live,
            config.clone(),
            stop.clone(),
            tasks.clone(),
        ));
        if let Some(expires_at) = served.expires_at {
            tasks.spawn(renew_loop(
                endpoint.clone(),
                config,
                local_addr,
                url,
                expires_at,
                publish,
                stop.clone(),
            ));
        }
        Ok(Self {
            local_addr,
            info,
            endpoint,
            stop,
            tasks,
        })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The current URL and certificate hash; follows renewals.
    pub fn info(&self) -> watch::Receiver<WtInfo> {
        self.info.clone()
    }

    /// Stops accepting, waits up to `grace` for open sessions to end (they were told `bye` by
    /// the realtime shutdown), then closes whatever is left.
    pub async fn shutdown(&self, grace: Duration) {
        self.stop.cancel();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(?grace, "WebTransport sessions did not end in time");
        }
        self.endpoint
            .close(VarInt::from_u32(H3_NO_ERROR), b"shutting_down");
        let _ = tokio::time::timeout(ENDPOINT_DRAIN, self.endpoint.wait_idle()).await;
    }
}

impl Drop for WtServer {
    /// A listener dropped without [`WtServer::shutdown`] (a start-up that failed later) still
    /// stops accepting and renewing.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn info_of(url: &str, served: &ServedIdentity) -> WtInfo {
    WtInfo {
        url: url.to_owned(),
        cert_sha256: served.sha256.as_ref().map(sha256_hex),
    }
}

fn server_config(
    addr: SocketAddr,
    identity: Identity,
    config: &WtConfig,
) -> Result<ServerConfig, WtConfigError> {
    Ok(ServerConfig::builder()
        .with_bind_address(addr)
        .with_identity(identity)
        .keep_alive_interval(Some(config.keep_alive()))
        .max_idle_timeout(Some(config.idle_timeout()))
        .map_err(|_| WtConfigError("idle_timeout_ms is out of QUIC's range".into()))?
        .build())
}

/// Accepts sessions until stopped; each runs in its own tracked task.
async fn accept_loop(
    endpoint: Arc<Endpoint<Server>>,
    live: LiveContext,
    config: Arc<WtConfig>,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    loop {
        let incoming = tokio::select! {
            () = stop.cancelled() => return,
            incoming = endpoint.accept() => incoming,
        };
        metrics::counter!("atrium_wt_connections_total").increment(1);
        tasks.spawn(serve_session(incoming, live.clone(), config.clone()));
    }
}

/// One client: QUIC and TLS handshake, the HTTP/3 `CONNECT` to `/wt`, the control stream, then
/// the session loop. Every wait before the session loop is bounded by the hello timeout.
async fn serve_session(incoming: IncomingSession, live: LiveContext, config: Arc<WtConfig>) {
    let deadline = tokio::time::Instant::now() + live.config.hello_timeout();
    let request = match tokio::time::timeout_at(deadline, incoming).await {
        Ok(Ok(request)) => request,
        Ok(Err(error)) => {
            tracing::debug!(%error, "WebTransport handshake failed");
            refused("handshake");
            return;
        }
        Err(_) => {
            refused("handshake_timeout");
            return;
        }
    };
    let path = request.path();
    if path.split('?').next() != Some(WT_PATH) {
        tracing::debug!(path, "WebTransport session for an unknown path");
        refused("not_found");
        request.not_found().await;
        return;
    }
    let conn = match request.accept().await {
        Ok(conn) => conn,
        Err(error) => {
            tracing::debug!(%error, "WebTransport session not established");
            refused("handshake");
            return;
        }
    };
    let control = match tokio::time::timeout_at(deadline, conn.accept_bi()).await {
        Ok(Ok(streams)) => streams,
        Ok(Err(_)) => {
            refused("closed");
            return;
        }
        Err(_) => {
            // No stream to say `bye` on: close with the reason instead.
            refused("no_control_stream");
            conn.close(VarInt::from_u32(H3_NO_ERROR), b"timeout");
            return;
        }
    };
    let limits = WtConnectionLimits {
        max_frame_bytes: live.config.max_frame_bytes,
        write_buffer_bytes: live.config.write_buffer_bytes,
        datagram_rate: config.datagram_rate_limit(),
    };
    session::run(WtConnection::new(conn.clone(), control, limits), live).await;
    // The session loop closes the connection on every path it controls; this covers the rest
    // (the peer finished the control stream, a write failed), since the connection's own
    // driver would otherwise keep it open.
    conn.close(VarInt::from_u32(H3_NO_ERROR), b"");
}

fn refused(reason: &'static str) {
    metrics::counter!("atrium_wt_refused_total", "reason" => reason).increment(1);
}

/// Replaces a generated certificate `renew_before_expiry` before it expires, forever.
async fn renew_loop(
    endpoint: Arc<Endpoint<Server>>,
    config: Arc<WtConfig>,
    local_addr: SocketAddr,
    url: String,
    mut expires_at: SystemTime,
    publish: watch::Sender<WtInfo>,
    stop: CancellationToken,
) {
    loop {
        let wait = expires_at
            .checked_sub(config.renew_before_expiry())
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .unwrap_or_default();
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        match renew(&endpoint, &config, local_addr) {
            Ok(served) => {
                let info = info_of(&url, &served);
                tracing::info!(cert_sha256 = ?info.cert_sha256, "WebTransport certificate renewed");
                metrics::counter!("atrium_wt_certificate_renewals_total").increment(1);
                publish.send_replace(info);
                expires_at = served.expires_at.unwrap_or(expires_at);
            }
            Err(error) => {
                tracing::error!(%error, "WebTransport certificate renewal failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(RENEW_RETRY) => {}
                }
            }
        }
    }
}

fn renew(
    endpoint: &Endpoint<Server>,
    config: &WtConfig,
    local_addr: SocketAddr,
) -> Result<ServedIdentity, WtError> {
    let served = certificate::self_signed(config.self_signed_validity())?;
    let server_config = server_config(local_addr, served.identity.clone_identity(), config)?;
    endpoint
        .reload_config(server_config, false)
        .map_err(|source| WtError::Bind {
            addr: local_addr,
            source,
        })?;
    Ok(served)
}
