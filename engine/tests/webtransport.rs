//! The node serves WebTransport beside HTTP: it announces the listener, a pinning client chats
//! over it, and shutdown says `bye shutting_down` on the control stream before the node stops.

use std::net::SocketAddr;
use std::time::Duration;

use atrium::commands::serve::Node;
use atrium::config::Config;
use atrium_core::protocol::{ClientFrame, ErrorCode, FrameCodec, ServerFrame};
use atrium_gateway::webtransport::WtConfig;
use atrium_gateway::webtransport::framing::{FrameReader, ReadFrame, put_frame};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Endpoint};

const WAIT: Duration = Duration::from_secs(10);

fn unhex(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[tokio::test]
async fn the_node_serves_webtransport_and_closes_it_at_shutdown() {
    atrium::crypto::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}/atrium.db", dir.path().display()),
        webtransport: WtConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..WtConfig::default()
        },
        ..Config::default()
    };
    let node = Node::start(config, CancellationToken::new()).await.unwrap();
    let wt_addr = node.wt_addr.expect("WebTransport enabled by default");
    let base = format!("http://{}", node.http_addr);
    let http = reqwest::Client::new();

    let info: Value = http
        .get(format!("{base}/api/v1/webtransport"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["url"],
        format!("https://127.0.0.1:{}/wt", wt_addr.port())
    );
    let hash = unhex(info["cert_sha256"].as_str().expect("generated certificate"));

    let reg: Value = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": "ada", "email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = reg["access_token"].as_str().unwrap().to_owned();

    let client = ClientConfig::builder()
        .with_bind_address(SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_server_certificate_hashes([Sha256Digest::new(hash)])
        .build();
    let endpoint = Endpoint::client(client).unwrap();
    let conn = endpoint
        .connect(info["url"].as_str().unwrap())
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap().await.unwrap();
    let codec = FrameCodec::default();
    let mut reader = FrameReader::new(codec.max_frame_bytes());
    let mut out = Vec::new();
    let hello = ClientFrame::Hello {
        rid: 1,
        token,
        client: Some("engine-test".into()),
        resume: Default::default(),
    };
    put_frame(&mut out, &codec.encode_client(&hello).unwrap());
    send.write_all(&out).await.unwrap();
    let mut frames = Vec::new();
    let closed_by_server = tokio::time::timeout(WAIT, async {
        // Until the server finishes the stream (or closes the connection).
        while let Ok(ReadFrame::Frame(bytes)) = reader.next(&mut recv).await {
            let frame = codec.decode_server(&bytes).unwrap();
            if matches!(frame, ServerFrame::Welcome { .. }) {
                node.shutdown();
            }
            frames.push(frame);
        }
    })
    .await;
    assert!(closed_by_server.is_ok(), "the server ended the session");
    assert!(
        matches!(frames.first(), Some(ServerFrame::Welcome { .. })),
        "{frames:?}"
    );
    assert!(
        frames.iter().any(|f| matches!(
            f,
            ServerFrame::Bye {
                code: ErrorCode::ShuttingDown,
                ..
            }
        )),
        "{frames:?}"
    );
    tokio::time::timeout(WAIT, node.wait())
        .await
        .expect("node stops promptly")
        .unwrap();
}
