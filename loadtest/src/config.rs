//! What a run does: the scenario, the target and every size, from a TOML file and flags.
//!
//! Defaults are written here once. A TOML file (`--config`) overrides them and command-line flags
//! override the file (see `cli.rs`). [`LoadConfig::validate`] then checks the whole thing before
//! anything connects: loopback targets only, sizes within the hard limits below, and what the
//! scenario needs actually implemented.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::loopback::{self, LoopbackError};
use crate::payload;

/// Most sessions one run may open, all processes together.
pub const MAX_SESSIONS: u64 = 250_000;
/// Longest run (publishing, holding or soaking), in seconds.
pub const MAX_DURATION_SECS: u64 = 3600;
/// Most worker processes.
pub const MAX_PROCESSES: u32 = 64;
/// Most users provisioned through the HTTP API (each costs an argon2 hash on the server).
pub const MAX_USERS: u32 = 10_000;
/// Most rooms one run creates.
pub const MAX_ROOMS: u32 = 1000;
/// Most avatars in one room (the server's capacity limit).
pub const MAX_AVATARS_PER_ROOM: u32 = 5000;
/// Highest pose rate per avatar.
pub const MAX_POS_HZ: u32 = 120;
/// Most concurrent LLM streams.
pub const MAX_STREAMS: u32 = 20_000;
/// Most deltas the mock provider writes per stream.
pub const MAX_DELTAS: u32 = 10_000;

/// The load shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// Open N sessions at a rate and hold them (idle memory per session).
    Connect,
    /// M channels × K subscribers; publishers post P messages/s for T seconds.
    Fanout,
    /// Fan-out running while other sessions connect and disconnect.
    Soak,
    /// Avatars walking in 3D rooms: `pos` at the tick rate, snapshots acknowledged.
    Rooms,
    /// Concurrent LLM streams answered by the load tester's own mock provider.
    Llm,
}

impl ScenarioKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioKind::Connect => "connect",
            ScenarioKind::Fanout => "fanout",
            ScenarioKind::Soak => "soak",
            ScenarioKind::Rooms => "rooms",
            ScenarioKind::Llm => "llm",
        }
    }
}

/// Which server protocol the sessions speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Atrium's `atrium.v1` MessagePack frames over WebSocket.
    Atrium,
    /// Socket.IO 4 (Engine.IO 4 over WebSocket), the peer in `loadtest/peers/socketio`.
    Socketio,
    /// NATS core protocol over nats-server's WebSocket listener (`loadtest/peers/nats`).
    Nats,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Atrium => "atrium",
            TargetKind::Socketio => "socketio",
            TargetKind::Nats => "nats",
        }
    }

    /// Where each server listens when started by `loadtest/compare.sh`.
    pub fn default_url(self) -> &'static str {
        match self {
            TargetKind::Atrium => "ws://127.0.0.1:8080/ws",
            TargetKind::Socketio => "ws://127.0.0.1:3100/socket.io/?EIO=4&transport=websocket",
            TargetKind::Nats => "ws://127.0.0.1:4280/",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetConfig {
    pub kind: TargetKind,
    /// WebSocket URL; defaults per kind ([`TargetKind::default_url`]).
    pub url: Option<String>,
    /// Atrium's HTTP API, for provisioning; defaults to the WebSocket URL's host and port.
    pub http_url: Option<String>,
    /// `rooms --transport wt`: the WebTransport URL (`https://…/wt`, loopback). Unset: the one
    /// the node announces at `GET /api/v1/webtransport` (`https://127.0.0.1:4433/wt` for a
    /// default `atrium serve`). The certificate hash always comes from the node.
    pub wt_url: Option<String>,
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            kind: TargetKind::Atrium,
            url: None,
            http_url: None,
            wt_url: None,
        }
    }
}

impl TargetConfig {
    pub fn ws_url(&self) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| self.kind.default_url().to_owned())
    }

    /// The HTTP base URL (`http://host:port`) derived from the WebSocket URL when not given.
    pub fn http_base(&self) -> String {
        if let Some(url) = &self.http_url {
            return url.trim_end_matches('/').to_owned();
        }
        let ws = self.ws_url();
        let rest = ws.strip_prefix("ws://").unwrap_or(&ws);
        let authority = rest.split('/').next().unwrap_or(rest);
        format!("http://{authority}")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Publishing time (`fanout`, `soak`); `connect` holds for `connect.hold_secs` instead.
    pub duration_secs: u64,
    /// After publishing stops, how long subscribers may take to receive what was confirmed.
    pub drain_secs: u64,
    /// How long connecting and subscribing may take before the run is abandoned.
    pub prepare_timeout_secs: u64,
    /// Worker processes (to pass the per-process open-file limit).
    pub processes: u32,
    /// Local addresses connections bind to, round-robin (to pass the ~28,000 ephemeral ports
    /// per source and destination). Empty: the system picks.
    pub source_addrs: Vec<String>,
    /// Connection handshakes in flight at once, per process.
    pub connect_concurrency: u32,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            duration_secs: 20,
            drain_secs: 10,
            prepare_timeout_secs: 120,
            processes: 1,
            source_addrs: Vec::new(),
            connect_concurrency: 256,
        }
    }
}

/// Users created (or logged into) through Atrium's HTTP API before the run. Registration costs an
/// argon2 hash, so a run uses a bounded number of users and spreads its sessions over them
/// (session i belongs to user i mod count); tokens are reused by every session of a user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsersConfig {
    pub count: u32,
    /// Usernames are `<prefix><index>`.
    pub prefix: String,
    pub password: String,
    /// HTTP requests in flight while provisioning.
    pub concurrency: u32,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            count: 100,
            prefix: "lt".to_owned(),
            password: "load-test-password".to_owned(),
            concurrency: 8,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectConfig {
    pub sessions: u64,
    /// New sessions per second, all processes together.
    pub rate_per_sec: u64,
    /// How long to hold the sessions once all are open.
    pub hold_secs: u64,
    /// Subscribe each session to one channel (session i to channel i mod `channels`).
    pub subscribe: bool,
    pub channels: u32,
}

impl Default for ConnectConfig {
    fn default() -> Self {
        Self {
            sessions: 1000,
            rate_per_sec: 1000,
            hold_secs: 10,
            subscribe: true,
            channels: 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FanoutConfig {
    pub channels: u32,
    /// Subscribers per channel.
    pub members: u32,
    /// Publishing sessions per channel (they do not subscribe).
    pub publishers_per_channel: u32,
    /// Messages per second, all publishers together; 0 = as fast as confirmations allow
    /// (saturation).
    pub rate_per_sec: u64,
    /// Unconfirmed messages per publisher at most.
    pub inflight: u32,
    pub payload_bytes: usize,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        Self {
            channels: 1,
            members: 1000,
            publishers_per_channel: 1,
            rate_per_sec: 100,
            inflight: 64,
            payload_bytes: 100,
        }
    }
}

/// `soak`: the `fanout` settings run while `churn_sessions` sessions keep connecting,
/// subscribing, staying `churn_hold_ms` and leaving, at most `churn_rate_per_sec` new ones a
/// second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoakConfig {
    pub churn_sessions: u64,
    pub churn_rate_per_sec: u64,
    pub churn_hold_ms: u64,
}

impl Default for SoakConfig {
    fn default() -> Self {
        Self {
            churn_sessions: 200,
            churn_rate_per_sec: 100,
            churn_hold_ms: 2000,
        }
    }
}

/// How `rooms` sessions carry their poses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RoomTransport {
    /// `pos` frames on the WebSocket.
    #[default]
    Ws,
    /// WebTransport: `pos` datagrams out, snapshot parts in as `snap` datagrams, everything
    /// else on the control stream.
    Wt,
}

impl RoomTransport {
    /// How reports name it.
    pub fn describe(self) -> &'static str {
        match self {
            RoomTransport::Ws => "WebSocket",
            RoomTransport::Wt => "WebTransport datagrams",
        }
    }
}

/// `rooms`: `rooms` rooms of `template`, `avatars` sessions in each, every one walking a small
/// circle and sending its pose `pos_hz` times a second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomsConfig {
    pub rooms: u32,
    /// Avatars (sessions) per room.
    pub avatars: u32,
    /// A room template name (`GET /api/v1/rooms/templates`); rooms get `capacity = avatars`.
    pub template: String,
    pub transport: RoomTransport,
    /// Poses per second per avatar.
    pub pos_hz: u32,
    /// The server's `spatial.tick_hz` (20 by default): the snapshot rate a client should see.
    pub tick_hz: u32,
    /// Walking speed, metres per second (the server clamps above 6).
    pub speed_mps: f32,
}

impl Default for RoomsConfig {
    fn default() -> Self {
        Self {
            rooms: 2,
            avatars: 10,
            template: "theater".to_owned(),
            transport: RoomTransport::Ws,
            pos_hz: 20,
            tick_hz: 20,
            speed_mps: 1.5,
        }
    }
}

/// `llm`: `streams` generations at once, spread over the users (stream `j` belongs to user
/// `j mod users.count`), each answered by the mock with `deltas` deltas, one every
/// `delta_interval_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    pub streams: u32,
    pub deltas: u32,
    pub delta_interval_ms: u64,
    /// The model and provider account the run configures on the server (admin API).
    pub model: String,
    /// An administrator of the default organization: registered (on a fresh database the first
    /// account becomes admin) or logged in with `users.password`.
    pub admin_user: String,
    /// The server's `llm.streams.max_per_user` (4 by default): a run is refused if a user would
    /// have more streams at once than that.
    pub max_per_user: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            streams: 40,
            deltas: 20,
            delta_interval_ms: 50,
            model: "loadtest-mock".to_owned(),
            admin_user: "lt-admin".to_owned(),
            max_per_user: 4,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// JSON report file.
    pub report: Option<PathBuf>,
    /// Directory for the SVG plots (latency over time, latency distribution).
    pub plots_dir: Option<PathBuf>,
    /// The server's process id, to sample its memory (RSS per session) and CPU time.
    pub server_pid: Option<u32>,
    /// Hide the progress bar even on a terminal.
    pub quiet: bool,
}

/// The whole run description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadConfig {
    pub scenario: ScenarioKind,
    /// Names the report and plot files; defaults to `<target>-<scenario>`.
    pub label: Option<String>,
    pub target: TargetConfig,
    pub run: RunConfig,
    pub users: UsersConfig,
    pub connect: ConnectConfig,
    pub fanout: FanoutConfig,
    pub soak: SoakConfig,
    pub rooms: RoomsConfig,
    pub llm: LlmConfig,
    pub output: OutputConfig,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            scenario: ScenarioKind::Fanout,
            label: None,
            target: TargetConfig::default(),
            run: RunConfig::default(),
            users: UsersConfig::default(),
            connect: ConnectConfig::default(),
            fanout: FanoutConfig::default(),
            soak: SoakConfig::default(),
            rooms: RoomsConfig::default(),
            llm: LlmConfig::default(),
            output: OutputConfig::default(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(transparent)]
    Loopback(#[from] LoopbackError),
    #[error("{0}")]
    Invalid(String),
}

impl LoadConfig {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The label, by default `<target>-<scenario>` (`atrium-rooms-wt` over WebTransport).
    pub fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            let base = format!("{}-{}", self.target.kind.as_str(), self.scenario.as_str());
            match (self.scenario, self.rooms.transport) {
                (ScenarioKind::Rooms, RoomTransport::Wt) => format!("{base}-wt"),
                _ => base,
            }
        })
    }

    /// Checks everything that can be checked before connecting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let target = loopback::check_url(&self.target.ws_url(), &["ws"])?;
        if self.target.kind == TargetKind::Atrium {
            loopback::check_url(&self.target.http_base(), &["http"])?;
        }
        loopback::check_sources(&self.run.source_addrs, target.addr.ip())?;

        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let run = &self.run;
        if !(1..=MAX_PROCESSES).contains(&run.processes) {
            return invalid(format!("run.processes must be 1 to {MAX_PROCESSES}"));
        }
        if run.connect_concurrency == 0 {
            return invalid("run.connect_concurrency must be at least 1".into());
        }
        if run.prepare_timeout_secs == 0 {
            return invalid("run.prepare_timeout_secs must be at least 1".into());
        }
        let active = match self.scenario {
            ScenarioKind::Connect => self.connect.hold_secs,
            _ => run.duration_secs,
        };
        if !(1..=MAX_DURATION_SECS).contains(&active) || run.drain_secs > MAX_DURATION_SECS {
            return invalid(format!(
                "durations must be 1 to {MAX_DURATION_SECS} s (drain at most as long)"
            ));
        }
        if !(1..=MAX_USERS).contains(&self.users.count) || self.users.concurrency == 0 {
            return invalid(format!(
                "users.count must be 1 to {MAX_USERS} and users.concurrency at least 1"
            ));
        }
        let fanout = &self.fanout;
        let uses_fanout = matches!(self.scenario, ScenarioKind::Fanout | ScenarioKind::Soak);
        if uses_fanout {
            if fanout.channels == 0 || fanout.members == 0 || fanout.publishers_per_channel == 0 {
                return invalid(
                    "fanout.channels, fanout.members and fanout.publishers_per_channel must be \
                     at least 1"
                        .into(),
                );
            }
            if fanout.inflight == 0 {
                return invalid("fanout.inflight must be at least 1".into());
            }
            if !(payload::HEADER_LEN..=payload::MAX_PAYLOAD_BYTES).contains(&fanout.payload_bytes) {
                return invalid(format!(
                    "fanout.payload_bytes must be {} to {}",
                    payload::HEADER_LEN,
                    payload::MAX_PAYLOAD_BYTES
                ));
            }
        }
        if self.scenario == ScenarioKind::Connect {
            if self.connect.sessions == 0 || self.connect.rate_per_sec == 0 {
                return invalid(
                    "connect.sessions and connect.rate_per_sec must be at least 1".into(),
                );
            }
            if self.connect.subscribe && self.connect.channels == 0 {
                return invalid("connect.channels must be at least 1 to subscribe".into());
            }
        }
        if self.scenario == ScenarioKind::Soak
            && self.soak.churn_sessions > 0
            && self.soak.churn_rate_per_sec == 0
        {
            return invalid("soak.churn_rate_per_sec must be at least 1".into());
        }
        if matches!(self.scenario, ScenarioKind::Rooms | ScenarioKind::Llm)
            && self.target.kind != TargetKind::Atrium
        {
            return invalid(format!(
                "scenario {} drives Atrium features; use --target atrium",
                self.scenario.as_str()
            ));
        }
        if self.scenario == ScenarioKind::Rooms {
            self.validate_rooms()?;
        }
        if self.scenario == ScenarioKind::Llm {
            self.validate_llm()?;
        }
        if self.total_sessions() > MAX_SESSIONS {
            return invalid(format!(
                "{} sessions requested; a run opens at most {MAX_SESSIONS}",
                self.total_sessions()
            ));
        }
        Ok(())
    }

    fn validate_rooms(&self) -> Result<(), ConfigError> {
        let r = &self.rooms;
        if r.transport == RoomTransport::Wt {
            if let Some(url) = &self.target.wt_url {
                loopback::check_url(url, &["https"])?;
            }
        } else if self.target.wt_url.is_some() {
            return Err(ConfigError::Invalid(
                "target.wt_url (--wt-url) is for rooms over WebTransport (--transport wt)".into(),
            ));
        }
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if !(1..=MAX_ROOMS).contains(&r.rooms) {
            return invalid(format!("rooms.rooms must be 1 to {MAX_ROOMS}"));
        }
        if !(1..=MAX_AVATARS_PER_ROOM).contains(&r.avatars) {
            return invalid(format!("rooms.avatars must be 1 to {MAX_AVATARS_PER_ROOM}"));
        }
        if !(1..=MAX_POS_HZ).contains(&r.pos_hz) || !(1..=MAX_POS_HZ).contains(&r.tick_hz) {
            return invalid(format!(
                "rooms.pos_hz and rooms.tick_hz must be 1 to {MAX_POS_HZ}"
            ));
        }
        if !(r.speed_mps.is_finite() && r.speed_mps > 0.0 && r.speed_mps <= 6.0) {
            return invalid(
                "rooms.speed_mps must be above 0 and at most 6 (the server's limit)".into(),
            );
        }
        let name_ok = !r.template.is_empty()
            && r.template.len() <= 64
            && r.template
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return invalid("rooms.template must be a template name (a-z 0-9 - _)".into());
        }
        // A user is in one room at a time (a second session of the user joining takes the
        // avatar over), so every avatar needs its own user.
        let avatars = u64::from(r.rooms) * u64::from(r.avatars);
        if u64::from(self.users.count) < avatars {
            return invalid(format!(
                "{avatars} avatars need as many users (users.count is {}): a user is in one \
                 room at a time; use --users {avatars}",
                self.users.count
            ));
        }
        Ok(())
    }

    fn validate_llm(&self) -> Result<(), ConfigError> {
        let l = &self.llm;
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if !(1..=MAX_STREAMS).contains(&l.streams) {
            return invalid(format!("llm.streams must be 1 to {MAX_STREAMS}"));
        }
        if !(1..=MAX_DELTAS).contains(&l.deltas) {
            return invalid(format!("llm.deltas must be 1 to {MAX_DELTAS}"));
        }
        if l.delta_interval_ms > 60_000 {
            return invalid("llm.delta_interval_ms must be at most 60000".into());
        }
        if l.model.is_empty() || l.model.len() > 128 || l.admin_user.is_empty() {
            return invalid("llm.model (≤ 128 bytes) and llm.admin_user must be set".into());
        }
        let per_user = l.streams.div_ceil(self.users.count.max(1));
        if per_user > l.max_per_user {
            return invalid(format!(
                "{} streams over {} users is {per_user} per user, above llm.max_per_user ({}); \
                 use --users {} or raise the server's llm.streams.max_per_user and llm.max_per_user",
                l.streams,
                self.users.count,
                l.max_per_user,
                l.streams.div_ceil(l.max_per_user.max(1))
            ));
        }
        Ok(())
    }

    /// Sessions open at the same time, at most.
    pub fn total_sessions(&self) -> u64 {
        let f = &self.fanout;
        let fanout = u64::from(f.channels) * u64::from(f.members)
            + u64::from(f.channels) * u64::from(f.publishers_per_channel);
        match self.scenario {
            ScenarioKind::Connect => self.connect.sessions,
            ScenarioKind::Fanout => fanout,
            ScenarioKind::Soak => fanout + self.soak.churn_sessions,
            ScenarioKind::Rooms => u64::from(self.rooms.rooms) * u64::from(self.rooms.avatars),
            // One session per user that has a stream.
            ScenarioKind::Llm => u64::from(self.llm.streams.min(self.users.count)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        LoadConfig::default().validate().unwrap();
    }

    #[test]
    fn a_toml_file_overrides_the_defaults_it_names() {
        let config = LoadConfig::from_toml(
            r#"
            scenario = "connect"
            label = "idle"
            [target]
            kind = "nats"
            url = "ws://127.0.0.1:4280/"
            [run]
            processes = 2
            source_addrs = ["127.0.0.1", "127.0.0.2"]
            [connect]
            sessions = 19000
            rate_per_sec = 2000
            "#,
        )
        .unwrap();
        assert_eq!(config.scenario, ScenarioKind::Connect);
        assert_eq!(config.target.kind, TargetKind::Nats);
        assert_eq!(config.run.processes, 2);
        assert_eq!(config.connect.sessions, 19_000);
        assert_eq!(config.connect.hold_secs, ConnectConfig::default().hold_secs);
        assert_eq!(config.fanout, FanoutConfig::default());
        assert_eq!(config.label(), "idle");
        config.validate().unwrap();
    }

    #[test]
    fn the_shipped_scenario_files_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let config = LoadConfig::from_file(&path).unwrap();
                config
                    .validate()
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(seen >= 6, "fanout ×2, idle sessions, soak, rooms, llm");
    }

    #[test]
    fn unknown_keys_are_errors_not_silently_ignored() {
        let err = LoadConfig::from_toml("[fanout]\nmembres = 3\n").unwrap_err();
        assert!(err.contains("membres"), "{err}");
        assert!(LoadConfig::from_toml("scenario = \"party\"").is_err());
    }

    #[test]
    fn rooms_and_llm_defaults_are_valid_and_read_from_toml() {
        let config = LoadConfig::from_toml(
            r#"
            scenario = "rooms"
            [users]
            count = 1000
            [rooms]
            rooms = 20
            avatars = 50
            template = "theater"
            "#,
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(config.total_sessions(), 1000);
        assert_eq!(config.rooms.pos_hz, 20);
        let config = LoadConfig::from_toml(
            "scenario = \"llm\"\n[users]\ncount = 25\n[llm]\nstreams = 100\ndeltas = 5\n",
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(config.total_sessions(), 25, "one session per user");
        assert_eq!(config.llm.delta_interval_ms, 50);
    }

    #[test]
    fn rooms_and_llm_sizes_outside_the_limits_are_refused() {
        let rooms = |f: fn(&mut LoadConfig)| {
            let mut c = LoadConfig {
                scenario: ScenarioKind::Rooms,
                ..LoadConfig::default()
            };
            f(&mut c);
            c.validate()
        };
        assert!(rooms(|_| {}).is_ok());
        for f in [
            (|c: &mut LoadConfig| c.rooms.rooms = 0) as fn(&mut LoadConfig),
            |c| c.rooms.avatars = 0,
            |c| c.rooms.pos_hz = 0,
            |c| c.rooms.speed_mps = 7.0,
            |c| c.rooms.template = "../etc".into(),
            |c| c.users.count = 19,
            |c| c.target.kind = TargetKind::Nats,
        ] {
            assert!(matches!(rooms(f), Err(ConfigError::Invalid(_))));
        }
        // WebTransport: the announced URL by default, or a loopback `https` URL.
        assert!(rooms(|c| c.rooms.transport = RoomTransport::Wt).is_ok());
        assert!(
            rooms(|c| {
                c.rooms.transport = RoomTransport::Wt;
                c.target.wt_url = Some("https://127.0.0.1:4433/wt".into());
            })
            .is_ok()
        );
        assert!(matches!(
            rooms(|c| {
                c.rooms.transport = RoomTransport::Wt;
                c.target.wt_url = Some("https://192.0.2.1:4433/wt".into());
            }),
            Err(ConfigError::Loopback(LoopbackError::NotLoopback { .. }))
        ));
        assert!(matches!(
            rooms(|c| {
                c.rooms.transport = RoomTransport::Wt;
                c.target.wt_url = Some("http://127.0.0.1:4433/wt".into());
            }),
            Err(ConfigError::Loopback(LoopbackError::BadScheme { .. }))
        ));
        let err = rooms(|c| c.target.wt_url = Some("https://127.0.0.1:4433/wt".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--transport wt"), "{err}");

        let llm = |f: fn(&mut LoadConfig)| {
            let mut c = LoadConfig {
                scenario: ScenarioKind::Llm,
                ..LoadConfig::default()
            };
            f(&mut c);
            c.validate()
        };
        assert!(llm(|_| {}).is_ok());
        for f in [
            (|c: &mut LoadConfig| c.llm.streams = 0) as fn(&mut LoadConfig),
            |c| c.llm.deltas = 0,
            |c| c.llm.model = String::new(),
        ] {
            assert!(matches!(llm(f), Err(ConfigError::Invalid(_))));
        }
        // 1000 streams over 100 users is 10 per user, above the server's default of 4.
        let err = llm(|c| c.llm.streams = 1000).unwrap_err().to_string();
        assert!(err.contains("--users 250"), "{err}");
    }

    #[test]
    fn non_loopback_targets_and_sources_are_refused() {
        let mut config = LoadConfig::default();
        config.target.url = Some("ws://192.0.2.1:8080/ws".into());
        assert!(matches!(config.validate(), Err(ConfigError::Loopback(_))));
        let mut config = LoadConfig::default();
        config.target.http_url = Some("http://192.0.2.1:8080".into());
        assert!(matches!(config.validate(), Err(ConfigError::Loopback(_))));
        let mut config = LoadConfig::default();
        config.run.source_addrs = vec!["192.0.2.7".into()];
        assert!(matches!(config.validate(), Err(ConfigError::Loopback(_))));
    }

    #[test]
    fn sizes_outside_the_limits_are_refused() {
        let cases: Vec<fn(&mut LoadConfig)> = vec![
            |c| c.run.processes = 0,
            |c| c.run.processes = MAX_PROCESSES + 1,
            |c| c.run.duration_secs = 0,
            |c| c.run.duration_secs = MAX_DURATION_SECS + 1,
            |c| c.users.count = 0,
            |c| c.fanout.members = 0,
            |c| c.fanout.inflight = 0,
            |c| c.fanout.payload_bytes = 10,
            |c| {
                c.fanout.channels = 1000;
                c.fanout.members = 1000;
            },
        ];
        for (i, break_it) in cases.into_iter().enumerate() {
            let mut config = LoadConfig::default();
            break_it(&mut config);
            assert!(
                matches!(config.validate(), Err(ConfigError::Invalid(_))),
                "case {i}"
            );
        }
    }

    #[test]
    fn the_http_base_follows_the_websocket_url() {
        let mut t = TargetConfig {
            url: Some("ws://127.0.0.5:9000/ws".into()),
            ..TargetConfig::default()
        };
        assert_eq!(t.http_base(), "http://127.0.0.5:9000");
        t.http_url = Some("http://127.0.0.1:1/".into());
        assert_eq!(t.http_base(), "http://127.0.0.1:1");
    }

    #[test]
    fn session_totals_per_scenario() {
        let mut c = LoadConfig::default();
        c.fanout.channels = 100;
        c.fanout.members = 100;
        assert_eq!(c.total_sessions(), 10_100);
        c.scenario = ScenarioKind::Soak;
        assert_eq!(c.total_sessions(), 10_100 + 200);
        c.scenario = ScenarioKind::Connect;
        assert_eq!(c.total_sessions(), 1000);
    }
}
