//! The background task of a client: reads the socket, matches replies to requests by `rid`,
//! forwards pushes, writes requests in batches, and reconnects with resume.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

use atrium_core::ids::ChannelId;
use atrium_core::protocol::{ErrorCode, FrameCodec, ServerFrame};

use crate::backoff;
use crate::config::ClientConfig;
use crate::connection::{self, Ws};
use crate::error::ClientError;
use crate::event::{Event, Welcome};

type Reply = oneshot::Sender<Result<ServerFrame, ClientError>>;

/// State shared by the [`Client`](crate::Client) handle and its task.
pub(crate) struct Shared {
    pub url: String,
    pub config: ClientConfig,
    pub codec: FrameCodec,
    pub token: Mutex<String>,
    pub pending: Mutex<HashMap<u32, Reply>>,
    /// Per subscribed channel, the highest seq seen: what a reconnect resumes from.
    pub resume: Mutex<BTreeMap<ChannelId, i64>>,
    /// Where requests go: the writer of the current connection, if connected.
    pub writer: Mutex<Option<mpsc::UnboundedSender<Bytes>>>,
    pub welcome: Mutex<Welcome>,
    pub next_rid: AtomicU32,
    pub closed: AtomicBool,
    pub close_signal: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Reply>> {
        lock(&self.pending)
    }

    pub fn lock_resume(&self) -> std::sync::MutexGuard<'_, BTreeMap<ChannelId, i64>> {
        lock(&self.resume)
    }

    pub fn lock_writer(&self) -> std::sync::MutexGuard<'_, Option<mpsc::UnboundedSender<Bytes>>> {
        lock(&self.writer)
    }

    pub fn token(&self) -> String {
        lock(&self.token).clone()
    }

    pub fn set_token(&self, token: &str) {
        *lock(&self.token) = token.to_owned();
    }

    pub fn welcome(&self) -> Welcome {
        lock(&self.welcome).clone()
    }

    fn fail_pending(&self) {
        for (_, reply) in self.lock_pending().drain() {
            let _ = reply.send(Err(ClientError::Disconnected));
        }
    }

    /// A fresh writer queue for a new connection.
    pub fn connect_writer(&self) -> mpsc::UnboundedReceiver<Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.lock_writer() = Some(tx);
        rx
    }
}

/// Codes after which reconnecting with the same credentials is pointless.
fn is_final(reason: Option<ErrorCode>) -> bool {
    matches!(
        reason,
        Some(ErrorCode::Unauthorized | ErrorCode::TokenExpired | ErrorCode::Forbidden)
    )
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    mut ws: Ws,
    mut outbound: mpsc::UnboundedReceiver<Bytes>,
    events: mpsc::Sender<Event>,
) {
    let mut closing = shared.close_signal.subscribe();
    loop {
        let reason = serve(&shared, &mut ws, &mut outbound, &events, &mut closing).await;
        *shared.lock_writer() = None;
        shared.fail_pending();
        drop(ws);
        if shared.closed.load(Ordering::Acquire) || !shared.config.reconnect {
            let _ = events.send(Event::Closed { reason }).await;
            return;
        }
        // An expired token is final only if nobody gave us a new one meanwhile.
        let _ = events.send(Event::Disconnected { reason }).await;
        let mut attempt = 0;
        let mut last_token = if is_final(reason) {
            Some(String::new())
        } else {
            None
        };
        ws = loop {
            let delay = backoff::delay(
                attempt,
                shared.config.backoff_min,
                shared.config.backoff_max,
            );
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = closing.changed() => {
                    let _ = events.send(Event::Closed { reason }).await;
                    return;
                }
            }
            let token = shared.token();
            if last_token.as_deref() == Some(token.as_str()) {
                // Refused with this token already: wait for `set_token`.
                attempt = attempt.saturating_add(1);
                continue;
            }
            let resume = shared.lock_resume().clone();
            match connection::open(&shared.url, &token, resume, &shared.config).await {
                Ok((ws, welcome)) => {
                    *crate::driver::lock(&shared.welcome) = welcome.clone();
                    outbound = shared.connect_writer();
                    let _ = events.send(Event::Reconnected(welcome)).await;
                    break ws;
                }
                Err(ClientError::Server { code, .. }) if is_final(Some(code)) => {
                    tracing::debug!(%code, "reconnect refused; waiting for a new token");
                    last_token = Some(token);
                    attempt = attempt.saturating_add(1);
                }
                Err(error) => {
                    tracing::debug!(%error, attempt, "reconnect failed");
                    attempt = attempt.saturating_add(1);
                }
            }
        };
    }
}

/// Runs one connection until it ends; returns the server's `bye` reason, if it gave one.
async fn serve(
    shared: &Shared,
    ws: &mut Ws,
    outbound: &mut mpsc::UnboundedReceiver<Bytes>,
    events: &mpsc::Sender<Event>,
    closing: &mut watch::Receiver<bool>,
) -> Option<ErrorCode> {
    let mut reason = None;
    loop {
        tokio::select! {
            _ = closing.changed() => {
                let _ = ws.close(None).await;
                return reason;
            }
            message = ws.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    if let Some(bye) = dispatch(shared, &bytes, events).await {
                        reason = Some(bye);
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return reason,
                Some(Ok(_)) => {}
            },
            request = outbound.recv() => {
                let Some(first) = request else { return reason };
                if ws.feed(Message::Binary(first)).await.is_err() {
                    return reason;
                }
                while let Ok(more) = outbound.try_recv() {
                    if ws.feed(Message::Binary(more)).await.is_err() {
                        return reason;
                    }
                }
                if ws.flush().await.is_err() {
                    return reason;
                }
            }
        }
    }
}

/// Routes one server frame; returns the code of a `bye`.
async fn dispatch(
    shared: &Shared,
    bytes: &Bytes,
    events: &mpsc::Sender<Event>,
) -> Option<ErrorCode> {
    let frame = match shared.codec.decode_server(bytes) {
        Ok(frame) => frame,
        Err(error) => {
            tracing::warn!(%error, "undecodable frame from the server");
            return None;
        }
    };
    if let Some(rid) = frame.rid() {
        let waiting = shared.lock_pending().remove(&rid);
        match waiting {
            Some(reply) => {
                let _ = reply.send(Ok(frame));
            }
            // Nobody waits for the answer to an unacknowledged frame (`pos`, `room.ack`): its
            // refusal is news for the application.
            None if matches!(frame, ServerFrame::Err { .. }) => {
                let _ = events.send(Event::Push(frame)).await;
            }
            None => {}
        }
        return None;
    }
    match &frame {
        ServerFrame::Bye { code, .. } => return Some(*code),
        ServerFrame::Msg { ch, seq, .. } => {
            if let Some(last) = shared.lock_resume().get_mut(ch) {
                *last = (*last).max(*seq);
            }
        }
        _ => {}
    }
    let _ = events.send(Event::Push(frame)).await;
    None
}
