//! Opening a WebSocket from a chosen local address, with small buffers.
//!
//! `connect_async` cannot bind the local end, and the load tester needs that: one destination
//! gives about 28,000 ephemeral ports per source address, so runs beyond that spread their
//! sessions over several 127.0.0.x source addresses. The socket is bound here, then handed to
//! tungstenite for the handshake.
//!
//! Buffers are sized on purpose: tungstenite's default 128 KiB read buffer is zero-filled for
//! every connection, which once cost a load generator 44% of its CPU; 4 KiB holds any frame of a
//! chat load (larger frames are read in several calls).

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{WireContext, WireError};

pub type WsStream = WebSocketStream<TcpStream>;

/// Read chunk per socket read.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Writes are gathered up to this before going to the socket (we flush explicitly anyway).
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The WebSocket settings of every load-test connection.
pub fn websocket_config(max_message_bytes: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(64 * 1024 * 1024)
        .max_message_size(Some(max_message_bytes))
        .max_frame_size(Some(max_message_bytes))
}

/// The local address session `session` binds to (port chosen by the system).
pub fn source_for(ctx: &WireContext, session: u64) -> Option<SocketAddr> {
    if ctx.sources.is_empty() {
        return None;
    }
    let ip = ctx.sources[(session % ctx.sources.len() as u64) as usize];
    Some(SocketAddr::new(ip, 0))
}

/// TCP connect (from the session's source address) and WebSocket handshake.
pub async fn open(
    ctx: &WireContext,
    session: u64,
    subprotocol: Option<&'static str>,
    max_message_bytes: usize,
) -> Result<WsStream, WireError> {
    let connect = async {
        let socket = if ctx.addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| WireError::Connect(format!("socket: {e}")))?;
        if let Some(local) = source_for(ctx, session) {
            socket
                .bind(local)
                .map_err(|e| WireError::Connect(format!("bind {local}: {e}")))?;
        }
        let stream = socket
            .connect(ctx.addr)
            .await
            .map_err(|e| WireError::Connect(format!("{}: {e}", ctx.addr)))?;
        let _ = stream.set_nodelay(true);
        let mut request = ctx
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| WireError::Connect(e.to_string()))?;
        if let Some(protocol) = subprotocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
        }
        let (ws, _) = tokio_tungstenite::client_async_with_config(
            request,
            stream,
            Some(websocket_config(max_message_bytes)),
        )
        .await
        .map_err(|e| WireError::Connect(format!("websocket handshake: {e}")))?;
        Ok(ws)
    };
    tokio::time::timeout(ctx.handshake_timeout, connect)
        .await
        .map_err(|_| WireError::Timeout("connect"))?
}

/// The next data message (text or binary payload), answering nothing itself: tungstenite
/// replies to pings on its own during reads.
pub async fn next_data(ws: &mut WsStream) -> Result<Message, WireError> {
    loop {
        match ws.next().await {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => return Ok(message),
            Some(Ok(Message::Close(frame))) => {
                return Err(WireError::Closed {
                    code: frame
                        .map(|f| f.reason.to_string())
                        .filter(|r| !r.is_empty()),
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) | None => {
                return Err(WireError::Closed { code: None });
            }
            Some(Err(e)) => return Err(WireError::Protocol(e.to_string())),
        }
    }
}

pub async fn feed(ws: &mut WsStream, message: Message) -> Result<(), WireError> {
    ws.feed(message).await.map_err(send_error)
}

pub async fn flush(ws: &mut WsStream) -> Result<(), WireError> {
    ws.flush().await.map_err(send_error)
}

pub async fn send(ws: &mut WsStream, message: Message) -> Result<(), WireError> {
    ws.send(message).await.map_err(send_error)
}

fn send_error(e: WsError) -> WireError {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => WireError::Closed { code: None },
        WsError::Io(io) => WireError::Closed {
            code: Some(format!("io_{:?}", io.kind()).to_ascii_lowercase()),
        },
        other => WireError::Protocol(other.to_string()),
    }
}

/// Best-effort close.
pub async fn close(mut ws: WsStream) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), ws.close(None)).await;
}
