//! Shared harness for the HTTP integration tests: the real router on 127.0.0.1:0 over a fresh
//! store (a temporary SQLite file, or a fresh PostgreSQL schema when ATRIUM_TEST_DATABASE_URL is
//! set), driven with reqwest.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use atrium_core::auth::PasswordParams;
use atrium_core::ids::{MessageId, OrgId, UserId};
use atrium_core::model::{Message, NewMessage, Organization, User};
use atrium_core::rbac::Role;
use atrium_gateway::{AppState, HttpConfig, router};
use atrium_persistence::open_store;
use atrium_persistence::store::Store;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;
use time::OffsetDateTime;

/// The password every test account uses.
pub const PASSWORD: &str = "password-123";
/// Environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "ATRIUM_TEST_DATABASE_URL";
/// No single request in these tests should take longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running node.
pub struct TestNode {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    server: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

/// The configuration tests run with: cheap password hashing, everything else default.
pub fn test_config() -> HttpConfig {
    HttpConfig {
        password: PasswordParams::INSECURE_FAST_FOR_TESTS,
        ..HttpConfig::default()
    }
}

fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Opens a fresh, migrated store for `backend`; `None` when PostgreSQL is not configured.
pub async fn fresh_store(
    backend: Backend,
) -> Option<(
    Arc<dyn Store>,
    Option<tempfile::TempDir>,
    Option<(String, String)>,
)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("atrium.db");
            let store = open_store(&format!("sqlite://{}", path.display()))
                .await
                .expect("open sqlite store");
            store.migrate().await.expect("migrate sqlite");
            Some((store, Some(dir), None))
        }
        Backend::Postgres => {
            let Ok(base) = std::env::var(PG_ENV) else {
                eprintln!("skipped: {PG_ENV} not set");
                return None;
            };
            let schema = format!("gw_test_{}", unique_suffix());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to PostgreSQL");
            // The name is ours (a UUID), not input.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await
                .expect("create schema");
            conn.close().await.ok();
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            let store = open_store(&url).await.expect("open postgres store");
            store.migrate().await.expect("migrate postgres");
            Some((store, None, Some((base, schema))))
        }
    }
}

impl TestNode {
    /// Starts a node with [`test_config`]; `None` when the backend is not available.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, test_config()).await
    }

    pub async fn start_with(backend: Backend, config: HttpConfig) -> Option<Self> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let (store, dir, pg_schema) = fresh_store(backend).await?;
        let state = AppState::new(store, config).await.expect("app state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let app = router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client");
        Some(Self {
            base: format!("http://{addr}"),
            http,
            state,
            server,
            _dir: dir,
            pg_schema,
        })
    }

    /// Stops the server and drops the PostgreSQL schema.
    pub async fn stop(self) {
        self.server.abort();
        self.state.store.close().await;
        if let Some((base, schema)) = self.pg_schema
            && let Ok(mut conn) = sqlx::PgConnection::connect(&base).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut conn)
                .await;
            conn.close().await.ok();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Registers `username` (e-mail `username@example.com`) and returns its session.
    pub async fn register(&self, username: &str) -> Session {
        let reply = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "register {username}: {}", reply.body);
        Session::from_reply(&reply)
    }

    /// Logs `login` in with the test password.
    pub async fn login(&self, login: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "username": login, "password": PASSWORD }),
        )
        .await
    }
}

/// Creates a second organization with one user, straight through the store (registration only
/// ever joins the default organization). Returns the user's id.
pub async fn other_org_user(node: &TestNode, username: &str) -> UserId {
    let store = node.state.store.as_ref();
    let org = Organization {
        id: OrgId::new(),
        slug: format!("org-{username}"),
        name: "Other".into(),
        created_at: OffsetDateTime::now_utc(),
    };
    store.create_org(&org).await.unwrap();
    let user = User {
        id: UserId::new(),
        org_id: org.id,
        username: username.into(),
        email: format!("{username}@other.example"),
        password_hash: node.state.passwords.hash(PASSWORD).unwrap(),
        role: Role::Admin,
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    store.create_user(&user).await.unwrap();
    user.id
}

/// Commits a message straight through the store (the realtime path is not part of these tests).
pub async fn store_message(node: &TestNode, channel: &str, sender: &str, body: &str) -> Message {
    let batch = [NewMessage {
        id: MessageId::new(),
        channel_id: channel.parse().expect("channel id"),
        sender_id: sender.parse().expect("sender id"),
        body: body.to_owned(),
        reply_to: None,
        mentions: Vec::new(),
        nonce: None,
        created_at: OffsetDateTime::now_utc(),
    }];
    let mut results = node
        .state
        .store
        .insert_messages(&batch)
        .await
        .expect("insert");
    results.remove(0).expect("committed").message().clone()
}

/// Tokens and identity from a register/login/refresh reply.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub role: String,
}

impl Session {
    pub fn from_reply(reply: &Reply) -> Self {
        let s = |v: &Value| v.as_str().expect("string field").to_owned();
        Self {
            access: s(&reply.body["access_token"]),
            refresh: s(&reply.body["refresh_token"]),
            user_id: s(&reply.body["user"]["id"]),
            role: s(&reply.body["user"]["role"]),
        }
    }

    pub fn token(&self) -> Option<&str> {
        Some(&self.access)
    }
}

/// A response with its JSON body (or `Value::Null` when the body was empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub async fn from(resp: reqwest::Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }

    /// Asserts the error shape, status and code; returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.body["error"]["code"], code,
            "unexpected error code; body: {}",
            self.text
        );
        let message = self.body["error"]["message"]
            .as_str()
            .expect("error.message is a string");
        assert!(!message.is_empty(), "empty error message");
        message.to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }
}

/// Runs each named `async fn(&TestNode)` scenario once on SQLite and once on PostgreSQL (the
/// latter skipped with a message when ATRIUM_TEST_DATABASE_URL is not set).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::http_support::run(
                    $crate::http_support::Backend::Sqlite,
                    |node| Box::pin(super::$name(node)),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::http_support::run(
                    $crate::http_support::Backend::Postgres,
                    |node| Box::pin(super::$name(node)),
                )
                .await;
            }
        }
    )*};
}

/// Starts a node, runs the scenario, stops the node.
pub async fn run<F>(backend: Backend, scenario: F)
where
    F: for<'a> FnOnce(
        &'a TestNode,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>,
{
    let Some(node) = TestNode::start(backend).await else {
        return;
    };
    scenario(&node).await;
    node.stop().await;
}
