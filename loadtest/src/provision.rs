//! Users, tokens, channels and memberships, made through Atrium's HTTP API before a run.
//!
//! Registration and login each cost the server an argon2id hash (tens of milliseconds), so a run
//! provisions `users.count` users once and spreads its sessions over them: every session of a
//! user presents the same access token (tokens live 30 minutes by default, longer than a run).
//! A user that already exists (an earlier run against the same database) is logged in instead.
//! Channels are created fresh for each run by user 0, who then adds the members the plan needs.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use atrium_core::ids::ChannelId;
use serde::Deserialize;
use serde_json::json;
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::LoadConfig;
use crate::plan::Plan;

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
}

/// What the workers need.
#[derive(Debug, Clone, Default)]
pub struct Provisioned {
    /// Access token per user index.
    pub tokens: Vec<String>,
    pub user_ids: Vec<String>,
    pub channel_ids: Vec<ChannelId>,
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
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
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

/// Provisions everything `config` needs; `run_id` makes channel names unique.
pub async fn provision(config: &LoadConfig, run_id: &str) -> Result<Provisioned, ProvisionError> {
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
    Ok(Provisioned {
        tokens,
        user_ids,
        channel_ids,
    })
}

/// Users each channel needs, for the log line before provisioning.
pub fn membership_count(config: &LoadConfig) -> usize {
    Plan::new(config)
        .channel_members()
        .iter()
        .map(BTreeSet::len)
        .sum()
}
