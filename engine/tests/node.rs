//! The binary and the node as a user meets them: commands, a first admin, a served API, and a
//! clean stop.

use std::io::Write;
use std::process::{Command, Stdio};

use std::time::Duration;

use atrium::commands::serve::Node;
use atrium::config::Config;
use atrium_client::Event;
use atrium_core::protocol::{ErrorCode, ServerFrame};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn atrium() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atrium"));
    // Keep the developer's environment out of the test.
    for (key, _) in std::env::vars() {
        if key.starts_with("ATRIUM_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/atrium.db", dir.path().display());
    (dir, url)
}

#[test]
fn config_print_shows_defaults_and_masks_secrets() {
    let out = atrium()
        .args(["config", "print"])
        .env(
            "ATRIUM_HTTP__JWT_SECRET",
            "a-very-secret-value-of-32-bytes!!",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("http_addr = \"127.0.0.1:8080\""), "{text}");
    assert!(text.contains("sqlite://./data/atrium.db"), "{text}");
    assert!(!text.contains("a-very-secret"), "secret leaked: {text}");
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let out = atrium()
        .args(["config", "print"])
        .env("ATRIUM_HTTP_ADDR", "not an address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid configuration"), "{err}");
}

#[test]
fn migrate_then_create_the_first_admin() {
    let (_dir, url) = temp_db();
    let out = atrium()
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    let mut child = atrium()
        .args([
            "user",
            "create",
            "--admin",
            "--username",
            "root_admin",
            "--email",
            "root@example.com",
            "--password-stdin",
            "--database-url",
            &url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("created admin root_admin"), "{said}");

    // The same username again is refused with a reason.
    let out = atrium()
        .args([
            "user",
            "create",
            "--username",
            "root_admin",
            "--email",
            "other@example.com",
            "--database-url",
            &url,
        ])
        .env("ATRIUM_USER_PASSWORD", "long enough password")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create user"));
}

#[tokio::test]
async fn a_new_user_registers_logs_in_and_creates_a_channel() {
    atrium::crypto::install_crypto_provider();
    let (_dir, url) = temp_db();
    let config = Config {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        database_url: url,
        webtransport: atrium_gateway::webtransport::WtConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        },
        ..Config::default()
    };
    let node = Node::start(config, CancellationToken::new()).await.unwrap();
    let base = format!("http://{}", node.http_addr);
    let http = reqwest::Client::new();

    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let reg = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": "ada", "email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert!(reg.status().is_success(), "{}", reg.text().await.unwrap());
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    assert_eq!(login["user"]["role"], "admin", "first user is the admin");

    let created: Value = http
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "general", "kind": "group"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let mine: Value = http
        .get(format!("{base}/api/v1/channels"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(mine.to_string().contains(id), "{mine}");

    // Live chat on the same node: a message sent over WebSocket comes back as a push, after
    // commit, with its seq.
    let ws_url = format!("ws://{}/ws", node.http_addr);
    let client = atrium_client::Client::connect(&ws_url, &token)
        .await
        .unwrap();
    let ch: atrium_core::ids::ChannelId = id.parse().unwrap();
    client.sub(ch).await.unwrap();
    let sent = client.send(ch, "hello, node").await.unwrap();
    assert_eq!(sent.seq, 1);
    let pushed = wait_for(
        &client,
        |frame| matches!(frame, ServerFrame::Msg { body, .. } if body == "hello, node"),
    )
    .await;
    assert!(matches!(pushed, ServerFrame::Msg { seq: 1, .. }));

    // Graceful shutdown tells live sessions why they are closed.
    node.shutdown();
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match client.next_event().await {
                Some(Event::Disconnected { reason }) | Some(Event::Closed { reason }) => {
                    break reason;
                }
                Some(_) => continue,
                None => break None,
            }
        }
    })
    .await
    .expect("session is closed at shutdown");
    assert_eq!(reason, Some(ErrorCode::ShuttingDown));
    client.close();
    tokio::time::timeout(Duration::from_secs(10), node.wait())
        .await
        .expect("node stops promptly")
        .unwrap();
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "listener is closed after shutdown"
    );
}

/// The next push that `pick` accepts (other events are skipped), within a few seconds.
async fn wait_for(
    client: &atrium_client::Client,
    pick: impl Fn(&ServerFrame) -> bool,
) -> ServerFrame {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match client.next_event().await {
                Some(Event::Push(frame)) if pick(&frame) => break frame,
                Some(_) => continue,
                None => panic!("client stopped"),
            }
        }
    })
    .await
    .expect("push arrives")
}
