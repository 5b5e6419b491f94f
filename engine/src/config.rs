//! Layered configuration: built-in defaults ← TOML file ← `ATRIUM_*` environment ← command-line
//! flags. Every default is written down here and printed by `atrium config print`.
//!
//! Environment names are the TOML keys upper-cased with the `ATRIUM_` prefix; a nested key uses a
//! double underscore: `ATRIUM_DATABASE_URL`, `ATRIUM_HTTP_ADDR`, `ATRIUM_LOG__FORMAT=json`,
//! `ATRIUM_HTTP__JWT_SECRET=…`.

use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::telemetry::LogConfig;

/// The default SQLite database, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/atrium.db";
/// The default HTTP + WebSocket listen address (loopback: expose it deliberately).
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
/// How long shutdown waits for in-flight work before giving up.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 10;

/// The whole node configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the HTTP API and the WebSocket endpoint listen.
    pub http_addr: SocketAddr,
    /// `sqlite://path` (default, embedded) or `postgres://user@host/db`.
    pub database_url: String,
    /// Seconds to wait for in-flight work at shutdown.
    pub shutdown_grace_secs: u64,
    /// Milliseconds between returns of freed heap pages to the kernel (`malloc_trim`, glibc
    /// only); 0 turns it off. See `crate::memory`.
    pub memory_trim_interval_ms: u64,
    pub log: LogConfig,
    /// HTTP control plane and token settings.
    pub http: atrium_gateway::HttpConfig,
    /// Live connections (`/ws`): handshake, heartbeat, frame size, rate limit, buffers.
    pub ws: atrium_gateway::ws::WsConfig,
    /// The realtime core: session queues, channel rings, idle timeouts, restart budget.
    pub realtime: crate::realtime_settings::RealtimeSettings,
    /// The WebTransport listener (UDP, `/wt`): address, certificate, QUIC timers, datagram rate.
    /// Session rules are those of `[ws]`.
    pub webtransport: atrium_gateway::webtransport::WtConfig,
    /// Virtual rooms: tick rate, area of interest, grace period, templates directory, ….
    pub spatial: crate::spatial_settings::SpatialSettings,
    /// AI assistants: providers, models, keys (`ATRIUM_LLM__KEYS__<PROVIDER>`), the encryption
    /// key for stored keys, timeouts, the local bot, stream limits. See docs/llm.md.
    pub llm: atrium_actors::llm::LlmConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: DEFAULT_HTTP_ADDR
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            memory_trim_interval_ms: crate::memory::DEFAULT_TRIM_INTERVAL_MS,
            log: LogConfig::default(),
            http: atrium_gateway::HttpConfig::default(),
            ws: atrium_gateway::ws::WsConfig::default(),
            realtime: Default::default(),
            webtransport: atrium_gateway::webtransport::WtConfig::default(),
            spatial: Default::default(),
            llm: atrium_actors::llm::LlmConfig::default(),
        }
    }
}

/// Top-level keys that environment variables may set. Anything else with the `ATRIUM_` prefix
/// (e.g. `ATRIUM_TEST_DATABASE_URL`, `ATRIUM_CONFIG`) is not configuration and is ignored.
const ENV_KEYS: &[&str] = &[
    "http_addr",
    "database_url",
    "shutdown_grace_secs",
    "memory_trim_interval_ms",
    "log",
    "http",
    "ws",
    "realtime",
    "webtransport",
    "spatial",
    "llm",
];

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogOverride>,
}

/// `--log-format` on the command line.
#[derive(Clone, Debug, Serialize)]
pub struct LogOverride {
    pub format: crate::telemetry::LogFormat,
}

/// Loads the configuration. A named file that does not exist is an error; with no file named,
/// `./atrium.toml` is read if present.
pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) => {
            anyhow::ensure!(
                path.is_file(),
                "configuration file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file(path));
        }
        None => figment = figment.merge(Toml::file("atrium.toml")),
    }
    let env = Env::prefixed("ATRIUM_").split("__").filter(|key| {
        // Keys arrive in the environment's case; compare case-insensitively.
        let key = key.as_str().to_ascii_lowercase();
        let top = key.split('.').next().unwrap_or_default();
        ENV_KEYS.contains(&top)
    });
    figment = figment.merge(env).merge(Serialized::defaults(flags));
    let config: Config = figment
        .extract()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    Ok(config)
}

/// The configuration as TOML, with secrets masked, for `atrium config print`.
pub fn render_masked(config: &Config) -> anyhow::Result<String> {
    let mut shown = config.clone();
    shown.database_url = mask_url_password(&shown.database_url);
    if shown.http.jwt_secret.is_some() {
        shown.http.jwt_secret = Some("********".to_owned());
    }
    shown.llm = shown.llm.masked();
    Ok(toml::to_string_pretty(&shown)?)
}

/// Replaces the password of `scheme://user:password@host…` with asterisks.
fn mask_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}://{}:********{}",
            &url[..scheme_end],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
// figment's `Jail` closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_and_sqlite() {
        let c = Config::default();
        assert_eq!(c.http_addr.to_string(), DEFAULT_HTTP_ADDR);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "http_addr = \"127.0.0.1:9000\"\ndatabase_url = \"sqlite://file.db\"\n[log]\nformat = \"json\"\n",
            )?;
            jail.set_env("ATRIUM_DATABASE_URL", "postgres://u:secret@db/atrium");
            jail.set_env("ATRIUM_TEST_DATABASE_URL", "ignored");
            jail.set_env("ATRIUM_LLM__KEYS__OPENAI", "sk-secret-from-env");
            jail.set_env("ATRIUM_LLM__STREAMS__MAX_PER_USER", "7");
            let flags = FlagOverrides {
                http_addr: Some("127.0.0.1:9100".parse().unwrap()),
                ..Default::default()
            };
            let c = load(Some(Path::new("custom.toml")), &flags).unwrap();
            assert_eq!(c.http_addr.port(), 9100, "flag beats file");
            assert_eq!(
                c.database_url, "postgres://u:secret@db/atrium",
                "env beats file"
            );
            assert_eq!(
                c.log.format,
                crate::telemetry::LogFormat::Json,
                "file beats default"
            );
            assert_eq!(
                c.llm.keys.get("openai").map(|k| k.expose()),
                Some("sk-secret-from-env")
            );
            assert_eq!(c.llm.streams.max_per_user, 7);
            let shown = render_masked(&c).unwrap();
            assert!(!shown.contains("secret"), "{shown}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "htp_addr = \"127.0.0.1:1\"\n")?;
            let err = load(Some(Path::new("bad.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("htp_addr"), "{err}");
            let err = load(Some(Path::new("nope.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("does not exist"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn masks_only_passwords() {
        assert_eq!(
            mask_url_password("postgres://u:pw@h:5432/d"),
            "postgres://u:********@h:5432/d"
        );
        assert_eq!(mask_url_password("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(mask_url_password("sqlite://./x.db"), "sqlite://./x.db");
    }
}
