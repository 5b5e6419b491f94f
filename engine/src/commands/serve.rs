//! `atrium serve`: one running node.
//!
//! Start-up order: database (migrated) → HTTP state (default organization, JWT secret) → group
//! commit writer → realtime actors → WebTransport listener → HTTP + WebSocket listener. Shutdown
//! runs the same list backwards: stop accepting, close live sessions with `bye shutting_down`
//! (then the WebTransport listener), finish in-flight requests, drain the writer, close the
//! database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use atrium_actors::Realtime;
use atrium_gateway::AppState;
use atrium_gateway::webtransport::WtServer;
use atrium_persistence::MessageWriter;
use atrium_persistence::store::Store;
use axum::serve::ListenerExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// A node that is listening. Tests start one on port 0 and stop it through `shutdown`.
pub struct Node {
    pub http_addr: SocketAddr,
    /// The WebTransport UDP address, when the listener is enabled.
    pub wt_addr: Option<SocketAddr>,
    pub store: Arc<dyn Store>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Node {
    /// Builds every part and starts listening; returns once the listener is bound.
    pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let store = super::open_migrated(&config.database_url).await?;
        let state = AppState::new(store.clone(), config.http.clone())
            .await
            .context("cannot prepare the HTTP control plane")?;
        if store.count_users().await? == 0 {
            print_first_admin_hint(config.http_addr);
        }
        let writer = MessageWriter::spawn(store.clone(), Default::default());
        let realtime = Realtime::start(
            store.clone(),
            Arc::new(writer.clone()),
            atrium_actors::RealtimeConfig {
                rooms: config.spatial.to_config()?,
                ..config.realtime.to_config()?
            },
        )
        .await
        .context("cannot start the realtime actors")?;
        realtime
            .ai()
            .configure(config.llm.clone())
            .await
            .context("cannot configure the LLM providers and models")?;
        let mut state = state.with_realtime(realtime.clone(), config.ws.clone());
        let webtransport = match (&state.realtime, config.webtransport.enabled) {
            (Some(live), true) => {
                let server = WtServer::start(config.webtransport.clone(), live.clone())
                    .await
                    .context("cannot start the WebTransport listener")?;
                state = state.with_webtransport(server.info());
                Some(server)
            }
            _ => None,
        };
        let wt_addr = webtransport.as_ref().map(WtServer::local_addr);

        let listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.http_addr))?;
        let http_addr = listener.local_addr()?;
        tracing::info!(%http_addr, backend = store.backend(), "atrium node listening");

        crate::memory::spawn_trimmer(
            Duration::from_millis(config.memory_trim_interval_ms),
            shutdown.clone(),
        );
        let app = atrium_gateway::router(state);
        let grace = Duration::from_secs(config.shutdown_grace_secs);
        let stop = shutdown.clone();
        let task_store = store.clone();
        let task = tokio::spawn(async move {
            let closing = async move {
                stop.cancelled().await;
                // Live connections are upgraded out of the HTTP server's reach: tell every
                // session to say goodbye while the listener stops accepting.
                tracing::info!("closing live sessions");
                if tokio::time::timeout(grace, realtime.shutdown())
                    .await
                    .is_err()
                {
                    tracing::warn!(?grace, "live sessions did not close in time");
                }
                // WebTransport sessions got their `bye` above; stop accepting and close the rest.
                if let Some(webtransport) = webtransport {
                    webtransport.shutdown(grace).await;
                }
            };
            axum::serve(listener.tap_io(disable_nagle), app)
                .with_graceful_shutdown(closing)
                .await
                .context("HTTP server failed")?;
            tracing::info!("listener closed; draining the message writer");
            if tokio::time::timeout(grace, writer.shutdown())
                .await
                .is_err()
            {
                tracing::warn!(?grace, "message writer did not drain in time");
            }
            task_store.close().await;
            tracing::info!("stopped");
            Ok(())
        });
        Ok(Self {
            http_addr,
            wt_addr,
            store,
            shutdown,
            task,
        })
    }

    /// Asks the node to stop (the same path as SIGTERM).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits until the node has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("node task panicked")?
    }
}

/// Runs a node until SIGINT/SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let node = Node::start(config, crate::shutdown::shutdown_token()).await?;
    node.wait().await
}

fn print_first_admin_hint(addr: SocketAddr) {
    tracing::info!("no users yet");
    println!(
        "\nThis install has no users yet. Create the first administrator with\n\
         \n    atrium user create --admin --username NAME --email ADDRESS --password-stdin\n\
         \nor register through the API (the first account becomes the administrator):\n\
         \n    curl -s http://{addr}/api/v1/auth/register -H 'content-type: application/json' \\\n\
         \x20     -d '{{\"username\":\"NAME\",\"email\":\"ADDRESS\",\"password\":\"…\"}}'\n"
    );
}

/// Turns off Nagle's algorithm on an accepted connection. Pushes are small frames written as
/// soon as they are queued (a delta is a few dozen bytes); with Nagle on, a frame written while
/// the previous one is still unacknowledged waits for that ACK, which the peer may delay by tens
/// of milliseconds. The writer already coalesces whatever is queued into one flush.
fn disable_nagle(tcp: &mut TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY on an accepted connection");
    }
}
