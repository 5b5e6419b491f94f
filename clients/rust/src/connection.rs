//! Opening one WebSocket and greeting the server.

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use atrium_core::ids::ChannelId;
use atrium_core::protocol::{ClientFrame, FrameCodec, SUBPROTOCOL, ServerFrame};

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::event::Welcome;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The rid `hello` uses; requests count from 1.
pub(crate) const HELLO_RID: u32 = 0;

/// The WebSocket settings of a client connection: small buffers (see
/// [`ClientConfig::read_buffer_bytes`]) and frames capped at the protocol limit.
pub(crate) fn websocket_config(config: &ClientConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(0)
        .max_message_size(Some(config.max_frame_bytes))
        .max_frame_size(Some(config.max_frame_bytes))
}

/// Connects to `url` (`ws://host:port/ws`) with the `atrium.v1` subprotocol, sends `hello` and
/// waits for `welcome`.
pub(crate) async fn open(
    url: &str,
    token: &str,
    resume: BTreeMap<ChannelId, i64>,
    config: &ClientConfig,
) -> Result<(Ws, Welcome), ClientError> {
    tokio::time::timeout(
        config.connect_timeout,
        open_inner(url, token, resume, config),
    )
    .await
    .map_err(|_| ClientError::Connect("timed out".into()))?
}

async fn open_inner(
    url: &str,
    token: &str,
    resume: BTreeMap<ChannelId, i64>,
    config: &ClientConfig,
) -> Result<(Ws, Welcome), ClientError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ClientError::Connect(e.to_string()))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(websocket_config(config)), true)
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;

    let codec = FrameCodec::new(config.max_frame_bytes);
    let hello = ClientFrame::Hello {
        rid: HELLO_RID,
        token: token.to_owned(),
        client: config.client_name.clone(),
        resume,
    };
    let bytes = codec
        .encode_client(&hello)
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    ws.send(Message::Binary(bytes))
        .await
        .map_err(|e| ClientError::Connect(e.to_string()))?;
    loop {
        let message = ws
            .next()
            .await
            .ok_or_else(|| ClientError::Connect("closed during the handshake".into()))?
            .map_err(|e: tungstenite::Error| ClientError::Connect(e.to_string()))?;
        let Message::Binary(bytes) = message else {
            continue;
        };
        match codec.decode_server(&bytes) {
            Ok(ServerFrame::Welcome {
                session,
                user,
                heartbeat_ms,
                unread,
                ..
            }) => {
                return Ok((
                    ws,
                    Welcome {
                        session,
                        user,
                        heartbeat_ms,
                        unread,
                    },
                ));
            }
            Ok(ServerFrame::Err { code, message, .. } | ServerFrame::Bye { code, message }) => {
                return Err(ClientError::Server { code, message });
            }
            Ok(_) => continue,
            Err(e) => return Err(ClientError::Protocol(e.to_string())),
        }
    }
}
