//! The loop of one live session, over any [`FrameConnection`].
//!
//! One task per connection does everything, so an idle session costs one task and no buffers
//! beyond the transport's:
//!
//! - **in**: each frame is rate-limited, decoded and handed to the session actor; bad input gets
//!   an `err` (with the request's `rid` whenever it could be read) and the session goes on.
//!   `ping` and `auth.refresh` are answered here, since they concern the connection itself;
//! - **out**: frames queued in the session's outbox are written in batches (one flush per batch,
//!   so a burst of pushes costs few syscalls). A write that stalls while the outbox overflows is
//!   abandoned: the session is a slow consumer and is dropped without waiting for it;
//! - **heartbeat**: a transport ping every interval; a peer silent for two intervals is closed;
//! - **token expiry**: at the access token's expiry, unless `auth.refresh` moved it, the session
//!   ends with `bye {code: token_expired}`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use time::OffsetDateTime;
use tokio::time::Instant;

use atrium_actors::{Next, Realtime, RoomInput, SessionAuth, SessionHandle, wire};
use atrium_core::auth::{AccessTokenError, AccessTokens};
use atrium_core::protocol::{ClientFrame, ErrorCode, FrameCodec, ServerFrame};

use crate::session::connection::{FrameConnection, Inbound};
use crate::session::handshake;
use crate::session::rate_limit::TokenBucket;
use crate::ws::config::WsConfig;

/// How long a goodbye (`bye`, close frame) may take to write before the connection is dropped.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// A peer is dead after this many heartbeat intervals without a sign of life.
const HEARTBEATS_BEFORE_DEAD: u32 = 2;

/// What every live connection of a node shares.
#[derive(Clone)]
pub struct LiveContext {
    pub realtime: Realtime,
    pub tokens: Arc<AccessTokens>,
    pub config: Arc<WsConfig>,
}

/// Runs a connection from its first byte to its end.
pub async fn run<C: FrameConnection>(mut conn: C, live: LiveContext) {
    let codec = FrameCodec::new(live.config.max_frame_bytes);
    let Some(start) = handshake::accept(
        &mut conn,
        &live.tokens,
        &codec,
        live.config.hello_timeout(),
        live.config.heartbeat_ms,
    )
    .await
    else {
        return;
    };
    let expires_at = start.auth.expires_at;
    let session = match live.realtime.open_session(start) {
        Ok(session) => session,
        Err(_) => {
            goodbye(
                &mut conn,
                wire::bye(ErrorCode::ShuttingDown, "the server is shutting down"),
                ErrorCode::ShuttingDown,
            )
            .await;
            return;
        }
    };
    conn.session_opened();
    if let Some(sink) = conn.datagram_sink() {
        session.attach_datagrams(sink);
    }
    metrics::gauge!("atrium_live_sessions").increment(1.0);
    let mut live_session = LiveSession {
        bucket: TokenBucket::new(live.config.rate_limit(), std::time::Instant::now()),
        input_bucket: TokenBucket::new(live.config.input_rate_limit(), std::time::Instant::now()),
        conn,
        session,
        codec,
        live,
        last_heard: Instant::now(),
        batch: Vec::new(),
    };
    live_session.serve(expires_at).await;
    metrics::gauge!("atrium_live_sessions").decrement(1.0);
}

struct LiveSession<C> {
    conn: C,
    session: SessionHandle,
    codec: FrameCodec,
    live: LiveContext,
    bucket: TokenBucket,
    /// `pos` and `room.ack` frames: their own budget (see `WsConfig::input_rate_per_second`).
    input_bucket: TokenBucket,
    last_heard: Instant,
    batch: Vec<Bytes>,
}

/// How a batch write ended.
enum Written {
    Done,
    /// The connection is unusable (failed, stalled past the write timeout, or abandoned as a
    /// slow consumer mid-write); drop it without further writes.
    Broken,
}

impl<C: FrameConnection> LiveSession<C> {
    async fn serve(&mut self, expires_at: OffsetDateTime) {
        let interval = self.live.config.heartbeat();
        let mut heartbeat = tokio::time::interval_at(Instant::now() + interval, interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let expiry = tokio::time::sleep_until(instant_of(expires_at));
        tokio::pin!(expiry);
        let mut expiry_armed = true;
        let max_batch = self.live.config.write_batch_frames.max(1);
        let outbox = self.session.outbox().clone();
        // Cleared when the transport cannot be read any more (after an oversized message) but
        // the answer and `bye` still have to be written.
        let mut reading = true;
        loop {
            tokio::select! {
                inbound = self.conn.recv(), if reading => match inbound {
                    Some(Ok(inbound)) => {
                        reading = !matches!(inbound, Inbound::TooLarge);
                        if let Some(at) = self.on_inbound(inbound) {
                            expiry.as_mut().reset(instant_of(at));
                            expiry_armed = true;
                        }
                    }
                    None | Some(Err(_)) => break,
                },
                next = outbox.next_batch(&mut self.batch, max_batch) => match next {
                    Next::Frames => {
                        metrics::counter!("atrium_live_frames_sent_total")
                            .increment(self.batch.len() as u64);
                        if let Written::Broken = self.write().await {
                            break;
                        }
                    }
                    Next::Close { bye, code } => {
                        metrics::counter!("atrium_live_closed_total", "reason" => code.as_str())
                            .increment(1);
                        goodbye(&mut self.conn, bye, code).await;
                        break;
                    }
                },
                _ = heartbeat.tick() => {
                    if self.last_heard.elapsed() >= interval * HEARTBEATS_BEFORE_DEAD {
                        outbox.close(
                            ErrorCode::Timeout,
                            "no sign of life for two heartbeat intervals",
                            false,
                        );
                    } else if self.conn.ping().await.is_err() {
                        break;
                    }
                },
                () = &mut expiry, if expiry_armed => {
                    expiry_armed = false;
                    outbox.close(
                        ErrorCode::TokenExpired,
                        "the access token expired; reconnect with a fresh one and resume",
                        false,
                    );
                },
            }
        }
        self.session.close();
    }

    /// Handles one inbound event; returns the new token expiry after a successful refresh.
    fn on_inbound(&mut self, inbound: Inbound) -> Option<OffsetDateTime> {
        self.last_heard = Instant::now();
        let outbox = self.session.outbox();
        let bytes = match inbound {
            Inbound::Alive => return None,
            Inbound::Input(input) => {
                // A datagram: nobody to answer; the transport already rate-limited it.
                if self.session.room_input(input).is_err() {
                    metrics::counter!("atrium_live_inputs_refused_total").increment(1);
                }
                return None;
            }
            Inbound::NotAFrame => {
                wire::reply_err(
                    outbox,
                    None,
                    ErrorCode::BadFrame,
                    "frames are binary WebSocket messages",
                );
                return None;
            }
            Inbound::TooLarge => {
                wire::reply_err(outbox, None, ErrorCode::TooLarge, "the frame is too large");
                outbox.close(
                    ErrorCode::TooLarge,
                    "a frame exceeded the size limit",
                    false,
                );
                return None;
            }
            Inbound::Frame(bytes) => bytes,
        };
        metrics::counter!("atrium_live_frames_received_total").increment(1);
        let decoded = self.codec.decode_client(&bytes);
        let is_input = matches!(&decoded, Ok(frame) if frame.is_unacknowledged());
        let bucket = if is_input {
            &mut self.input_bucket
        } else {
            &mut self.bucket
        };
        if !bucket.take(std::time::Instant::now()) {
            let rid = match &decoded {
                Ok(frame) => Some(frame.rid()),
                Err(error) => error.rid,
            };
            wire::reply_err(
                outbox,
                rid,
                ErrorCode::RateLimited,
                "too many requests; slow down",
            );
            return None;
        }
        let frame = match decoded {
            Ok(frame) => frame,
            Err(error) => {
                wire::reply_err(outbox, error.rid, error.code, &error.message);
                return None;
            }
        };
        let rid = frame.rid();
        match frame {
            ClientFrame::Ping { rid } => {
                wire::reply(outbox, &ServerFrame::Pong { rid });
            }
            ClientFrame::Hello { rid, .. } => {
                wire::reply_err(
                    outbox,
                    Some(rid),
                    ErrorCode::Invalid,
                    "the session is already authenticated",
                );
            }
            ClientFrame::AuthRefresh { rid, token } => return self.refresh(rid, &token),
            // Avatar inputs go straight to the simulation: no actor hop, no `ok`.
            ClientFrame::Pos {
                rid,
                p,
                yaw,
                v,
                ack,
            } => {
                let pose = RoomInput::Pose {
                    seq: None,
                    p,
                    yaw,
                    v: v.unwrap_or_default(),
                    ack,
                };
                if let Err(refused) = self.session.room_input(pose) {
                    wire::reply_err(outbox, Some(rid), refused.code, refused.message);
                }
            }
            ClientFrame::RoomAck { rid, tick } => {
                if let Err(refused) = self.session.room_input(RoomInput::Ack { tick }) {
                    wire::reply_err(outbox, Some(rid), refused.code, refused.message);
                }
            }
            request => {
                if self.session.request(request).is_err() {
                    wire::reply_err(outbox, Some(rid), ErrorCode::ShuttingDown, "session closed");
                }
            }
        }
        None
    }

    /// `auth.refresh`: a valid token of the same user moves the expiry; anything else is
    /// refused and the current token keeps counting down.
    fn refresh(&mut self, rid: u32, token: &str) -> Option<OffsetDateTime> {
        let outbox = self.session.outbox();
        let claims = match self.live.tokens.verify(token, OffsetDateTime::now_utc()) {
            Ok(claims) => claims,
            Err(AccessTokenError::Expired) => {
                wire::reply_err(
                    outbox,
                    Some(rid),
                    ErrorCode::TokenExpired,
                    "the new token has expired already",
                );
                return None;
            }
            Err(_) => {
                wire::reply_err(
                    outbox,
                    Some(rid),
                    ErrorCode::Unauthorized,
                    "the token is not valid",
                );
                return None;
            }
        };
        let auth = SessionAuth::from_claims(&claims);
        let expires_at = auth.expires_at;
        if self.session.refresh_auth(auth).is_err() {
            wire::reply_err(
                outbox,
                Some(rid),
                ErrorCode::Unauthorized,
                "the token belongs to another user",
            );
            return None;
        }
        wire::reply(outbox, &ServerFrame::ok(rid));
        Some(expires_at)
    }

    /// Writes the taken batch. Gives up on a stalled write once the outbox overflowed (the
    /// session is being closed as a slow consumer: nobody should wait for it).
    async fn write(&mut self) -> Written {
        let outbox = self.session.outbox().clone();
        let send = tokio::time::timeout(
            self.live.config.write_timeout(),
            self.conn.send(&mut self.batch),
        );
        tokio::pin!(send);
        let mut watching_close = true;
        loop {
            tokio::select! {
                sent = &mut send => {
                    return match sent {
                        Ok(Ok(())) => Written::Done,
                        _ => Written::Broken,
                    };
                }
                () = outbox.closed(), if watching_close => {
                    if outbox.close_code() == Some(ErrorCode::SlowConsumer) {
                        metrics::counter!("atrium_live_closed_total", "reason" => "slow_consumer")
                            .increment(1);
                        return Written::Broken;
                    }
                    // Any other close lets the write finish; the `bye` follows it.
                    watching_close = false;
                }
            }
        }
    }
}

/// Writes `bye` (when there is one) and closes, each bounded in time.
async fn goodbye<C: FrameConnection>(conn: &mut C, bye: Option<Bytes>, code: ErrorCode) {
    if let Some(bye) = bye {
        let mut frames = vec![bye];
        if !matches!(
            tokio::time::timeout(GOODBYE_TIMEOUT, conn.send(&mut frames)).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, conn.close(code)).await;
}

/// The monotonic instant of a wall-clock time (now, if it has passed).
fn instant_of(at: OffsetDateTime) -> Instant {
    let left = at - OffsetDateTime::now_utc();
    Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO)
}

impl<C> std::fmt::Debug for LiveSession<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession")
            .field("session", &self.session.id())
            .finish_non_exhaustive()
    }
}
