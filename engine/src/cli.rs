//! The command line: `atrium serve | migrate | user create | config print`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FlagOverrides, LogOverride};
use crate::telemetry::LogFormat;

/// Atrium: one realtime engine for chat, tickets, AI streams and virtual rooms.
#[derive(Debug, Parser)]
#[command(name = "atrium", version, about)]
pub struct Cli {
    /// TOML configuration file (default: ./atrium.toml if it exists).
    #[arg(long, global = true, env = "ATRIUM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log line format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node: migrate the database, then serve HTTP and WebSocket until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage users from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address for HTTP and WebSocket.
    #[arg(long)]
    pub http_addr: Option<SocketAddr>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://path or postgres://…
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (with --admin: an administrator of the default organization).
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    /// The password. Prefer --password-stdin or ATRIUM_USER_PASSWORD: flags show in `ps`.
    #[arg(long, env = "ATRIUM_USER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// Make the user an administrator.
    #[arg(long)]
    pub admin: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML (secrets masked).
    Print,
}

impl Cli {
    /// The configuration values given as flags, to be layered over file and environment.
    pub fn overrides(&self) -> FlagOverrides {
        let mut flags = FlagOverrides {
            log: self.log_format.map(|format| LogOverride { format }),
            ..FlagOverrides::default()
        };
        match &self.command {
            Command::Serve(args) => {
                flags.http_addr = args.http_addr;
                flags.database_url = args.database.database_url.clone();
            }
            Command::Migrate(args) => flags.database_url = args.database_url.clone(),
            Command::User {
                command: UserCommand::Create(args),
            } => flags.database_url = args.database.database_url.clone(),
            Command::Config { .. } => {}
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_become_overrides() {
        let cli = Cli::try_parse_from([
            "atrium",
            "--log-format",
            "json",
            "serve",
            "--http-addr",
            "127.0.0.1:9999",
            "--database-url",
            "sqlite://x.db",
        ])
        .unwrap();
        let o = cli.overrides();
        assert_eq!(o.http_addr.unwrap().port(), 9999);
        assert_eq!(o.database_url.as_deref(), Some("sqlite://x.db"));
        assert!(o.log.is_some());
    }
}
