//! `Client`: the typed handle applications use.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, watch};

use atrium_core::ai::Temperature;
use atrium_core::ids::{ChannelId, ConversationId, MessageId, RoomId, StreamId, TicketId};
use atrium_core::protocol::{
    ClientFrame, FrameCodec, HistoryPage, MsgSent, OkResult, RoomJoined, ServerFrame,
};

use crate::llm::LlmOptions;

use crate::config::ClientConfig;
use crate::connection::{self, HELLO_RID};
use crate::driver::{self, Shared};
use crate::error::ClientError;
use crate::event::{Event, Welcome};

/// A connected client. Cheap to clone; all clones share one connection. Requests may be issued
/// concurrently from any clone; events should be read by one task.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    events: Arc<tokio::sync::Mutex<mpsc::Receiver<Event>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.shared.url)
            .field("welcome", &self.shared.welcome())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) with an access token, with the default
    /// [`ClientConfig`].
    pub async fn connect(url: &str, token: &str) -> Result<Self, ClientError> {
        Self::connect_with(url, token, ClientConfig::default()).await
    }

    pub async fn connect_with(
        url: &str,
        token: &str,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        let (ws, welcome) = connection::open(url, token, Default::default(), &config).await?;
        let (events_tx, events_rx) = mpsc::channel(config.event_buffer.max(1));
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            codec: FrameCodec::new(config.max_frame_bytes),
            config,
            token: Mutex::new(token.to_owned()),
            pending: Mutex::new(Default::default()),
            resume: Mutex::new(Default::default()),
            writer: Mutex::new(None),
            welcome: Mutex::new(welcome),
            next_rid: AtomicU32::new(HELLO_RID + 1),
            closed: AtomicBool::new(false),
            close_signal: watch::Sender::new(false),
        });
        let outbound = shared.connect_writer();
        tokio::spawn(driver::run(shared.clone(), ws, outbound, events_tx));
        Ok(Self {
            shared,
            events: Arc::new(tokio::sync::Mutex::new(events_rx)),
        })
    }

    /// The server's latest `welcome` (updated on every reconnect).
    pub fn welcome(&self) -> Welcome {
        self.shared.welcome()
    }

    /// The next push or connection event; `None` after [`Event::Closed`].
    pub async fn next_event(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// The highest seq seen in a subscribed channel (what a reconnect resumes from).
    pub fn last_seq(&self, ch: ChannelId) -> Option<i64> {
        self.shared.lock_resume().get(&ch).copied()
    }

    /// Sends any request and waits for its reply. An `err` reply becomes
    /// [`ClientError::Server`].
    pub async fn request(
        &self,
        build: impl FnOnce(u32) -> ClientFrame,
    ) -> Result<ServerFrame, ClientError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(ClientError::Closed);
        }
        let rid = self.next_rid();
        let frame = build(rid);
        let bytes = self
            .shared
            .codec
            .encode_client(&frame)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let (reply_tx, reply_rx) = oneshot::channel();
        self.shared.lock_pending().insert(rid, reply_tx);
        let sent = match &*self.shared.lock_writer() {
            Some(writer) => writer.send(bytes).is_ok(),
            None => false,
        };
        if !sent {
            self.shared.lock_pending().remove(&rid);
            return Err(ClientError::Disconnected);
        }
        match tokio::time::timeout(self.shared.config.request_timeout, reply_rx).await {
            Ok(Ok(Ok(ServerFrame::Err { code, message, .. }))) => {
                Err(ClientError::Server { code, message })
            }
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(ClientError::Disconnected),
            Err(_) => {
                self.shared.lock_pending().remove(&rid);
                Err(ClientError::Timeout)
            }
        }
    }

    fn next_rid(&self) -> u32 {
        loop {
            let rid = self.shared.next_rid.fetch_add(1, Ordering::Relaxed);
            if rid != HELLO_RID {
                return rid;
            }
        }
    }

    async fn request_ok(&self, build: impl FnOnce(u32) -> ClientFrame) -> Result<(), ClientError> {
        match self.request(build).await? {
            ServerFrame::Ok { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Subscribes to a channel; returns its last seq. Later reconnects resume it.
    pub async fn sub(&self, ch: ChannelId) -> Result<i64, ClientError> {
        match self.request(|rid| ClientFrame::Sub { rid, ch }).await? {
            ServerFrame::Ok {
                result: OkResult::Subscribed(ok),
                ..
            } => {
                let mut resume = self.shared.lock_resume();
                let last = resume.entry(ch).or_insert(ok.last_seq);
                *last = (*last).max(ok.last_seq);
                Ok(ok.last_seq)
            }
            other => Err(unexpected(&other)),
        }
    }

    pub async fn unsub(&self, ch: ChannelId) -> Result<(), ClientError> {
        self.shared.lock_resume().remove(&ch);
        self.request_ok(|rid| ClientFrame::Unsub { rid, ch }).await
    }

    /// Watches one ticket (`Some(id)`) or, as an agent, the organization's ticket queue
    /// (`None`): `ticket.*` pushes follow. Ticket watches are not resumed on reconnect; watch
    /// again after [`Event::Reconnected`](crate::Event).
    pub async fn ticket_sub(&self, id: Option<TicketId>) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::TicketSub { rid, id })
            .await
    }

    /// Stops watching a ticket (or the queue).
    pub async fn ticket_unsub(&self, id: Option<TicketId>) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::TicketUnsub { rid, id })
            .await
    }

    /// Posts a message; returns where it landed once it is committed.
    pub async fn send(&self, ch: ChannelId, body: &str) -> Result<MsgSent, ClientError> {
        self.send_message(ch, body, None, None).await
    }

    /// Posts a message with a reply target and/or an idempotency nonce (resending the same
    /// nonce returns the original `{id, seq}`).
    pub async fn send_message(
        &self,
        ch: ChannelId,
        body: &str,
        reply_to: Option<MessageId>,
        nonce: Option<String>,
    ) -> Result<MsgSent, ClientError> {
        let reply = self
            .request(|rid| ClientFrame::MsgSend {
                rid,
                ch,
                body: body.to_owned(),
                reply_to,
                nonce,
            })
            .await?;
        match reply {
            ServerFrame::Ok {
                result: OkResult::Sent(sent),
                ..
            } => Ok(sent),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn edit(&self, ch: ChannelId, id: MessageId, body: &str) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::MsgEdit {
            rid,
            ch,
            id,
            body: body.to_owned(),
        })
        .await
    }

    pub async fn delete(&self, ch: ChannelId, id: MessageId) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::MsgDelete { rid, ch, id })
            .await
    }

    pub async fn react(
        &self,
        ch: ChannelId,
        id: MessageId,
        emoji: &str,
        on: bool,
    ) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::React {
            rid,
            ch,
            id,
            emoji: emoji.to_owned(),
            on,
        })
        .await
    }

    pub async fn typing(&self, ch: ChannelId, on: bool) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::Typing { rid, ch, on })
            .await
    }

    pub async fn read(&self, ch: ChannelId, seq: i64) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::Read { rid, ch, seq })
            .await
    }

    pub async fn history(
        &self,
        ch: ChannelId,
        before_seq: Option<i64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage, ClientError> {
        match self
            .request(|rid| ClientFrame::History {
                rid,
                ch,
                before_seq,
                limit,
            })
            .await?
        {
            ServerFrame::Ok {
                result: OkResult::History(page),
                ..
            } => Ok(page),
            other => Err(unexpected(&other)),
        }
    }

    /// Enters a virtual room (leaving any other): the room's description, the caller's avatar
    /// and a first full snapshot. After a reconnect, join again within the server's grace
    /// period to get the same avatar and seat back.
    pub async fn join_room(&self, room: RoomId) -> Result<RoomJoined, ClientError> {
        match self
            .request(|rid| ClientFrame::RoomJoin { rid, room })
            .await?
        {
            ServerFrame::Ok {
                result: OkResult::RoomJoined(joined),
                ..
            } => Ok(*joined),
            other => Err(unexpected(&other)),
        }
    }

    /// Asks the conversation's assistant; returns the generation's stream id once the server
    /// accepted it (`llm.*` pushes follow as [`crate::Event::Push`]; see [`crate::LlmPush`]).
    pub async fn llm_start(
        &self,
        conversation: ConversationId,
        content: &str,
        options: LlmOptions,
    ) -> Result<StreamId, ClientError> {
        let temperature = options
            .temperature
            .map(|t| {
                Temperature::new(t).map_err(|e| ClientError::Protocol(format!("temperature: {e}")))
            })
            .transpose()?;
        let reply = self
            .request(|rid| ClientFrame::LlmStart {
                rid,
                conversation,
                content: content.to_owned(),
                model: options.model,
                temperature,
                system: options.system,
            })
            .await?;
        match reply {
            ServerFrame::Ok {
                result: OkResult::LlmStarted(ok),
                ..
            } => Ok(ok.stream),
            other => Err(unexpected(&other)),
        }
    }

    /// Leaves the current room.
    pub async fn leave_room(&self) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::RoomLeave { rid }).await
    }

    /// Asks to be placed on the seat or spawn point at `to` (the outcome arrives as a
    /// `room.event` `seated`, or a `room.correction`).
    pub async fn teleport(&self, to: [f32; 3]) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::RoomTeleport { rid, to })
            .await
    }

    /// Sends the avatar's pose (and optionally acknowledges a snapshot tick) without waiting:
    /// `pos` has no `ok`. A refusal (`not_in_room`, `invalid`, `rate_limited`) arrives as an
    /// [`Event::Push`] of an `err` carrying the returned `rid`.
    pub fn send_pos(
        &self,
        p: [f32; 3],
        yaw: f32,
        v: Option<[f32; 3]>,
        ack: Option<u64>,
    ) -> Result<u32, ClientError> {
        self.send_unacknowledged(|rid| ClientFrame::Pos {
            rid,
            p,
            yaw,
            v,
            ack,
        })
    }

    /// Acknowledges that every part of the snapshot of `tick` arrived, without waiting (no
    /// `ok`; a refusal arrives as an `err` push with the returned `rid`).
    pub fn ack_snapshot(&self, tick: u64) -> Result<u32, ClientError> {
        self.send_unacknowledged(|rid| ClientFrame::RoomAck { rid, tick })
    }

    /// Sends a frame that gets no `ok` reply; returns its `rid`.
    pub fn send_unacknowledged(
        &self,
        build: impl FnOnce(u32) -> ClientFrame,
    ) -> Result<u32, ClientError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(ClientError::Closed);
        }
        let rid = self.next_rid();
        let bytes = self
            .shared
            .codec
            .encode_client(&build(rid))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        match &*self.shared.lock_writer() {
            Some(writer) if writer.send(bytes).is_ok() => Ok(rid),
            _ => Err(ClientError::Disconnected),
        }
    }

    /// Stops a running generation (what was streamed is kept).
    pub async fn llm_cancel(&self, stream: StreamId) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::LlmCancel { rid, stream })
            .await
    }

    pub async fn ping(&self) -> Result<(), ClientError> {
        match self.request(|rid| ClientFrame::Ping { rid }).await? {
            ServerFrame::Pong { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends a fresh access token on the live connection (`auth.refresh`) and uses it for
    /// future reconnects.
    pub async fn refresh_auth(&self, token: &str) -> Result<(), ClientError> {
        self.request_ok(|rid| ClientFrame::AuthRefresh {
            rid,
            token: token.to_owned(),
        })
        .await?;
        self.shared.set_token(token);
        Ok(())
    }

    /// Uses `token` for future reconnects (e.g. after the session ended with `token_expired`).
    pub fn set_token(&self, token: &str) {
        self.shared.set_token(token);
    }

    /// Closes the connection and stops reconnecting.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.close_signal.send_replace(true);
    }
}

fn unexpected(frame: &ServerFrame) -> ClientError {
    ClientError::Protocol(format!("unexpected reply `{}`", frame.kind()))
}
