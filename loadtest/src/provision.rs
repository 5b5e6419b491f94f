//! Users, tokens, channels and memberships, made through Atrium's HTTP API before a run.
//!
//! Registration and login each cost the server an argon2id hash (tens of milliseconds), so a run
//! provisions `users.count` users once and spreads its sessions over them: every session of a
//! user presents the same access token (tokens live 30 minutes by default, longer than a run).
//! A user that already exists (an earlier run against the same database) is logged in instead.
//! Channels are created fresh for each run by user 0, who then adds the members the plan needs.
//!
//! `rooms` runs have user 0 create their rooms (template and capacity from the configuration).
//! `llm` runs first make sure of an administrator (`llm.admin_user`; on a fresh database the
//! first account is the admin), point a provider account and a model at the load tester's mock
//! provider through the admin API, and create one conversation per stream, owned by the user
//! whose session starts it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use atrium_core::ids::{ChannelId, ConversationId, RoomId};
use serde::Deserialize;
use serde_json::json;
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::{LoadConfig, RoomTransport, ScenarioKind};
use crate::plan::Plan;
use crate::wire::wt::{WtAnnouncement, WtTarget, WtTargetError};

/// One HTTP request may take this long (registrations queue behind the server's hash limit).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Error)]
pub enum ProvisionError {
    #[error("{what}: cannot reach the server: {source}")]
    Unreachable {
        what: String,
        source: reqwest::Error,
    },
    #[error("{what}: HTTP {status}: {body}")]
    Refused {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{what}: unexpected response: {source}")]
    BadResponse {
        what: String,
        source: reqwest::Error,
    },
    #[error("a provisioning task failed: {0}")]
    Task(String),
    #[error("the node's WebTransport endpoint cannot be used: {0}")]
    WebTransport(#[from] WtTargetError),
}

/// What the workers need.
#[derive(Debug, Clone, Default)]
pub struct Provisioned {
    /// Access token per user index.
    pub tokens: Vec<String>,
    pub user_ids: Vec<String>,
    pub channel_ids: Vec<ChannelId>,
    /// `rooms`: room ids by room index.
    pub room_ids: Vec<RoomId>,
    /// `llm`: conversation ids by stream number.
    pub conversation_ids: Vec<ConversationId>,
    /// `rooms --transport wt`: the node's WebTransport endpoint and certificate hash.
    pub webtransport: Option<WtAnnouncement>,
}

#[derive(Deserialize)]
struct IdReply<T> {
    id: T,
}

#[derive(Deserialize)]
struct AuthReply {
    access_token: String,
    user: UserReply,
}

#[derive(Deserialize)]
struct UserReply {
    id: String,
}

#[derive(Deserialize)]
struct ChannelReply {
    id: ChannelId,
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn post(
        &self,
        what: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Result<reqwest::Response, ProvisionError> {
        self.send(reqwest::Method::POST, what, path, token, body)
            .await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        what: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Result<reqwest::Response, ProvisionError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .map_err(|source| ProvisionError::Unreachable {
                what: what.to_owned(),
                source,
            })
    }

    async fn expect<T: serde::de::DeserializeOwned>(
        what: &str,
        response: reqwest::Response,
    ) -> Result<T, ProvisionError> {
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(ProvisionError::Refused {
                what: what.to_owned(),
                status: status.as_u16(),
                body: body.chars().take(300).collect(),
            });
        }
        response
            .json()
            .await
            .map_err(|source| ProvisionError::BadResponse {
                what: what.to_owned(),
                source,
            })
    }

    /// Registers `username`, or logs in if it exists.
    async fn user(&self, username: &str, password: &str) -> Result<AuthReply, ProvisionError> {
        let what = format!("registering {username}");
        let registered = self
            .post(
                &what,
                "/api/v1/auth/register",
                None,
                json!({"username": username, "email": format!("{username}@example.com"), "password": password}),
            )
            .await?;
        if registered.status() != reqwest::StatusCode::CONFLICT {
            return Self::expect(&what, registered).await;
        }
        let what = format!("logging in {username}");
        let login = self
            .post(
                &what,
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await?;
        Self::expect(&what, login).await
    }
}

/// Provisions everything `config` needs; `run_id` makes channel and room names unique;
/// `llm_base_url` is the mock provider an `llm` run points the server at.
pub async fn provision(
    config: &LoadConfig,
    run_id: &str,
    llm_base_url: Option<&str>,
) -> Result<Provisioned, ProvisionError> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|source| ProvisionError::Unreachable {
            what: "building the HTTP client".into(),
            source,
        })?;
    let api = Arc::new(Api {
        http,
        base: config.target.http_base(),
    });
    let gate = Arc::new(Semaphore::new(config.users.concurrency.max(1) as usize));

    // The administrator goes first: on a fresh database the first account is the admin.
    if let (ScenarioKind::Llm, Some(base_url)) = (config.scenario, llm_base_url) {
        let admin = api
            .user(&config.llm.admin_user, &config.users.password)
            .await?;
        configure_mock_model(&api, &admin.access_token, config, base_url).await?;
    }

    // Users (argon2 on the server: bounded concurrency).
    let users = config.users.count;
    let mut tasks = JoinSet::new();
    for i in 0..users {
        let (api, gate) = (api.clone(), gate.clone());
        let username = format!("{}{i}", config.users.prefix);
        let password = config.users.password.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (i, api.user(&username, &password).await)
        });
    }
    let mut tokens = vec![String::new(); users as usize];
    let mut user_ids = vec![String::new(); users as usize];
    while let Some(joined) = tasks.join_next().await {
        let (i, reply) = joined.map_err(|e| ProvisionError::Task(e.to_string()))?;
        let reply = reply?;
        tokens[i as usize] = reply.access_token;
        user_ids[i as usize] = reply.user.id;
    }

    // Channels, owned by user 0.
    let plan = Plan::new(config);
    let owner = tokens.first().cloned().unwrap_or_default();
    let mut channel_ids = Vec::new();
    for c in 0..plan.channel_count() {
        let what = format!("creating channel {c}");
        let reply = api
            .post(
                &what,
                "/api/v1/channels",
                Some(&owner),
                json!({"name": format!("lt-{run_id}-{c}"), "kind": "group"}),
            )
            .await?;
        let channel: ChannelReply = Api::expect(&what, reply).await?;
        channel_ids.push(channel.id);
    }

    // Members.
    let mut tasks = JoinSet::new();
    for (c, members) in plan.channel_members().into_iter().enumerate() {
        let Some(&channel) = channel_ids.get(c) else {
            continue;
        };
        for user in members.into_iter().filter(|&u| u != 0) {
            let (api, gate, owner) = (api.clone(), gate.clone(), owner.clone());
            let user_id = user_ids[user as usize].clone();
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let what = format!("adding user {user} to channel {c}");
                let reply = api
                    .post(
                        &what,
                        &format!("/api/v1/channels/{channel}/members"),
                        Some(&owner),
                        json!({"user_id": user_id}),
                    )
                    .await?;
                Api::expect::<serde_json::Value>(&what, reply)
                    .await
                    .map(drop)
            });
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| ProvisionError::Task(e.to_string()))??;
    }

    let mut room_ids = Vec::new();
    if config.scenario == ScenarioKind::Rooms {
        let r = &config.rooms;
        for room in 0..r.rooms {
            let what = format!("creating room {room}");
            let reply = api
                .post(
                    &what,
                    "/api/v1/rooms",
                    Some(&owner),
                    json!({
                        "name": format!("lt-{run_id}-{room}"),
                        "template": r.template,
                        "capacity": r.avatars,
                        "create_chat": false,
                    }),
                )
                .await?;
            room_ids.push(Api::expect::<IdReply<RoomId>>(&what, reply).await?.id);
        }
    }

    let mut conversation_ids = Vec::new();
    if config.scenario == ScenarioKind::Llm {
        let mut tasks = JoinSet::new();
        for stream in 0..config.llm.streams {
            let (api, gate) = (api.clone(), gate.clone());
            let token = tokens[plan.stream_owner(stream) as usize].clone();
            let model = config.llm.model.clone();
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let what = format!("creating the conversation of stream {stream}");
                let reply = api
                    .post(
                        &what,
                        "/api/v1/ai/conversations",
                        Some(&token),
                        json!({"title": format!("lt {stream}"), "model": model}),
                    )
                    .await?;
                let id = Api::expect::<IdReply<ConversationId>>(&what, reply)
                    .await?
                    .id;
                Ok::<_, ProvisionError>((stream, id))
            });
        }
        let mut ids = vec![None; config.llm.streams as usize];
        while let Some(joined) = tasks.join_next().await {
            let (stream, id) = joined.map_err(|e| ProvisionError::Task(e.to_string()))??;
            ids[stream as usize] = Some(id);
        }
        conversation_ids = ids.into_iter().flatten().collect();
    }
    let webtransport =
        if config.scenario == ScenarioKind::Rooms && config.rooms.transport == RoomTransport::Wt {
            Some(discover_webtransport(&api, config).await?)
        } else {
            None
        };
    Ok(Provisioned {
        tokens,
        user_ids,
        channel_ids,
        room_ids,
        conversation_ids,
        webtransport,
    })
}

/// Where the node serves WebTransport and the hash of its certificate
/// (`GET /api/v1/webtransport`), checked before any worker starts: a loopback `https` URL
/// (`target.wt_url` replaces the announced one) and a generated certificate's hash. Fetched
/// once per run: the node renews its certificate days before it expires, far apart from runs.
async fn discover_webtransport(
    api: &Api,
    config: &LoadConfig,
) -> Result<WtAnnouncement, ProvisionError> {
    let what = "asking where the node serves WebTransport (GET /api/v1/webtransport)";
    let reply = api
        .http
        .get(format!("{}/api/v1/webtransport", api.base))
        .send()
        .await
        .map_err(|source| ProvisionError::Unreachable {
            what: what.to_owned(),
            source,
        })?;
    let announced: WtAnnouncement = Api::expect(what, reply).await?;
    WtTarget::resolve(&announced, config.target.wt_url.as_deref())?;
    Ok(announced)
}

/// Points provider account `<model>` and model `<model>` at the mock (admin API). A model left
/// by an earlier run against the same database is kept: it names the same account, whose base
/// URL is replaced here.
async fn configure_mock_model(
    api: &Api,
    admin_token: &str,
    config: &LoadConfig,
    base_url: &str,
) -> Result<(), ProvisionError> {
    let name = &config.llm.model;
    let what =
        format!("configuring provider account {name} (needs an admin of the default organization)");
    let reply = api
        .send(
            reqwest::Method::PUT,
            &what,
            &format!("/api/v1/admin/providers/{name}"),
            Some(admin_token),
            json!({"kind": "openai", "base_url": base_url, "api_key": "loadtest-mock-key"}),
        )
        .await?;
    Api::expect::<serde_json::Value>(&what, reply).await?;
    let what = format!("configuring model {name}");
    let reply = api
        .post(
            &what,
            "/api/v1/admin/models",
            Some(admin_token),
            json!({"name": name, "provider": name, "model_id": "mock", "fallback": []}),
        )
        .await?;
    if reply.status() == reqwest::StatusCode::CONFLICT {
        return Ok(());
    }
    Api::expect::<serde_json::Value>(&what, reply)
        .await
        .map(drop)
}

/// Users each channel needs.
pub fn membership_count(config: &LoadConfig) -> usize {
    Plan::new(config)
        .channel_members()
        .iter()
        .map(BTreeSet::len)
        .sum()
}

/// What provisioning is about to make, for the log line before it.
pub fn describe(config: &LoadConfig) -> String {
    let users = config.users.count;
    match config.scenario {
        ScenarioKind::Rooms => format!(
            "{users} users and {} rooms of template {}",
            config.rooms.rooms, config.rooms.template
        ),
        ScenarioKind::Llm => format!(
            "an admin, the mock model {}, {users} users and {} conversations",
            config.llm.model, config.llm.streams
        ),
        _ => format!(
            "{users} users, {} channels and {} memberships",
            Plan::new(config).channel_count(),
            membership_count(config)
        ),
    }
}
