//! Command-line interface. Every `run` flag overrides the same setting of the TOML file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{ConfigError, LoadConfig, RoomTransport, ScenarioKind, TargetKind};

#[derive(Debug, Parser)]
#[command(
    name = "atrium-loadtest",
    version,
    about = "Load tester for Atrium and peer servers (loopback targets only)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario against one server and report.
    Run(Box<RunArgs>),
    /// Build the comparison table and plots from a directory of reports.
    Compare(CompareArgs),
    /// Print a report's confirmed publish rate times a factor (for "half of saturation" runs).
    Rate(RateArgs),
    /// Internal: one worker process of a run (driven over stdin/stdout).
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Default, Args)]
pub struct RunArgs {
    /// TOML file with the scenario (flags override it).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub scenario: Option<ScenarioKind>,
    /// Names the report and plots (default `<target>-<scenario>`).
    #[arg(long)]
    pub label: Option<String>,
    #[arg(long, value_enum)]
    pub target: Option<TargetKind>,
    /// WebSocket URL (loopback only); defaults per target.
    #[arg(long)]
    pub url: Option<String>,
    /// Atrium HTTP API base for provisioning (default: the WebSocket URL's host and port).
    #[arg(long)]
    pub http_url: Option<String>,
    /// rooms over WebTransport: the session URL (loopback `https://…/wt`; default: the one the
    /// node announces at `GET /api/v1/webtransport`).
    #[arg(long)]
    pub wt_url: Option<String>,
    /// Seconds of publishing (fanout, soak).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Seconds subscribers may take to receive everything after publishing stops.
    #[arg(long)]
    pub drain: Option<u64>,
    /// Worker processes (each is limited by the open-file limit).
    #[arg(long)]
    pub processes: Option<u32>,
    /// Local 127.0.0.x addresses to spread connections over, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub source_addrs: Option<Vec<String>>,
    /// Users provisioned over HTTP (sessions share their tokens).
    #[arg(long)]
    pub users: Option<u32>,
    /// connect: sessions to open.
    #[arg(long)]
    pub sessions: Option<u64>,
    /// connect: new sessions per second.
    #[arg(long)]
    pub connect_rate: Option<u64>,
    /// connect: seconds to hold the sessions open.
    #[arg(long)]
    pub hold: Option<u64>,
    /// connect: subscribe each session to a channel (true/false).
    #[arg(long)]
    pub subscribe: Option<bool>,
    /// fanout/soak: channels (connect: channels to subscribe to).
    #[arg(long)]
    pub channels: Option<u32>,
    /// fanout/soak: subscribers per channel.
    #[arg(long)]
    pub members: Option<u32>,
    #[arg(long)]
    pub publishers_per_channel: Option<u32>,
    /// Messages per second, all publishers together (0 = saturate).
    #[arg(long)]
    pub rate: Option<u64>,
    /// Unconfirmed messages per publisher.
    #[arg(long)]
    pub inflight: Option<u32>,
    #[arg(long)]
    pub payload_bytes: Option<usize>,
    /// soak: churning sessions.
    #[arg(long)]
    pub churn_sessions: Option<u64>,
    /// soak: new churning sessions per second.
    #[arg(long)]
    pub churn_rate: Option<u64>,
    /// soak: milliseconds a churning session stays.
    #[arg(long)]
    pub churn_hold_ms: Option<u64>,
    /// rooms: rooms to create.
    #[arg(long)]
    pub rooms: Option<u32>,
    /// rooms: avatars (sessions) per room.
    #[arg(long)]
    pub avatars: Option<u32>,
    /// rooms: room template (`GET /api/v1/rooms/templates`).
    #[arg(long)]
    pub template: Option<String>,
    /// rooms: how poses travel.
    #[arg(long, value_enum)]
    pub transport: Option<RoomTransport>,
    /// rooms: poses per second per avatar.
    #[arg(long)]
    pub pos_hz: Option<u32>,
    /// llm: concurrent streams.
    #[arg(long)]
    pub streams: Option<u32>,
    /// llm: deltas the mock provider writes per stream.
    #[arg(long)]
    pub deltas: Option<u32>,
    /// llm: milliseconds between two deltas of a stream.
    #[arg(long)]
    pub delta_interval_ms: Option<u64>,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write SVG plots into this directory.
    #[arg(long)]
    pub plots_dir: Option<PathBuf>,
    /// The server's PID, to sample its memory and CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Directory of reports named `<case>.<target>.json`.
    #[arg(long)]
    pub results: PathBuf,
    /// Markdown file whose generated block (between the peers markers) is replaced.
    #[arg(long)]
    pub doc: PathBuf,
    /// Directory for the comparison plots.
    #[arg(long)]
    pub plots_dir: PathBuf,
    /// The command that reproduces the comparison, quoted in the document.
    #[arg(long)]
    pub command: String,
}

#[derive(Debug, Args)]
pub struct RateArgs {
    pub report: PathBuf,
    #[arg(long, default_value_t = 1.0)]
    pub factor: f64,
}

impl RunArgs {
    /// The file (if any) with these flags applied on top.
    pub fn load(&self) -> Result<LoadConfig, ConfigError> {
        let mut config = match &self.config {
            Some(path) => LoadConfig::from_file(path)?,
            None => LoadConfig::default(),
        };
        self.apply(&mut config);
        Ok(config)
    }

    pub fn apply(&self, c: &mut LoadConfig) {
        fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *slot = v.clone();
            }
        }
        set(&mut c.scenario, &self.scenario);
        if self.label.is_some() {
            c.label = self.label.clone();
        }
        if let Some(kind) = self.target {
            if kind != c.target.kind && self.url.is_none() {
                // A URL from the file belongs to the file's target.
                c.target.url = None;
            }
            c.target.kind = kind;
        }
        if self.url.is_some() {
            c.target.url = self.url.clone();
        }
        if self.http_url.is_some() {
            c.target.http_url = self.http_url.clone();
        }
        if self.wt_url.is_some() {
            c.target.wt_url = self.wt_url.clone();
        }
        set(&mut c.run.duration_secs, &self.duration);
        set(&mut c.run.drain_secs, &self.drain);
        set(&mut c.run.processes, &self.processes);
        set(&mut c.run.source_addrs, &self.source_addrs);
        set(&mut c.users.count, &self.users);
        set(&mut c.connect.sessions, &self.sessions);
        set(&mut c.connect.rate_per_sec, &self.connect_rate);
        set(&mut c.connect.hold_secs, &self.hold);
        set(&mut c.connect.subscribe, &self.subscribe);
        if let Some(channels) = self.channels {
            c.fanout.channels = channels;
            c.connect.channels = channels;
        }
        set(&mut c.fanout.members, &self.members);
        set(
            &mut c.fanout.publishers_per_channel,
            &self.publishers_per_channel,
        );
        set(&mut c.fanout.rate_per_sec, &self.rate);
        set(&mut c.fanout.inflight, &self.inflight);
        set(&mut c.fanout.payload_bytes, &self.payload_bytes);
        set(&mut c.soak.churn_sessions, &self.churn_sessions);
        set(&mut c.soak.churn_rate_per_sec, &self.churn_rate);
        set(&mut c.soak.churn_hold_ms, &self.churn_hold_ms);
        set(&mut c.rooms.rooms, &self.rooms);
        set(&mut c.rooms.avatars, &self.avatars);
        set(&mut c.rooms.template, &self.template);
        set(&mut c.rooms.transport, &self.transport);
        set(&mut c.rooms.pos_hz, &self.pos_hz);
        set(&mut c.llm.streams, &self.streams);
        set(&mut c.llm.deltas, &self.deltas);
        set(&mut c.llm.delta_interval_ms, &self.delta_interval_ms);
        if self.report.is_some() {
            c.output.report = self.report.clone();
        }
        if self.plots_dir.is_some() {
            c.output.plots_dir = self.plots_dir.clone();
        }
        if self.server_pid.is_some() {
            c.output.server_pid = self.server_pid;
        }
        c.output.quiet |= self.quiet;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["atrium-loadtest", "run"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Run(args) => *args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "scenario = \"fanout\"\n[fanout]\nchannels = 100\nmembers = 100\nrate_per_sec = 50\n\
             [target]\nkind = \"atrium\"\nurl = \"ws://127.0.0.1:9999/ws\"\n",
        )
        .unwrap();
        let args = parse(&[
            "--config",
            file.to_str().unwrap(),
            "--rate",
            "0",
            "--source-addrs",
            "127.0.0.1,127.0.0.2",
            "--processes",
            "2",
        ]);
        let config = args.load().unwrap();
        assert_eq!(config.fanout.channels, 100, "from the file");
        assert_eq!(config.fanout.rate_per_sec, 0, "flag wins");
        assert_eq!(config.run.source_addrs, ["127.0.0.1", "127.0.0.2"]);
        assert_eq!(config.run.processes, 2);
        assert_eq!(config.target.ws_url(), "ws://127.0.0.1:9999/ws");
        config.validate().unwrap();
    }

    #[test]
    fn switching_target_drops_the_file_url_but_not_a_flag_url() {
        let mut config = LoadConfig::default();
        config.target.url = Some("ws://127.0.0.1:9999/ws".into());
        parse(&["--target", "nats"]).apply(&mut config);
        assert_eq!(config.target.ws_url(), TargetKind::Nats.default_url());
        parse(&["--target", "socketio", "--url", "ws://127.0.0.1:1/x"]).apply(&mut config);
        assert_eq!(config.target.ws_url(), "ws://127.0.0.1:1/x");
    }

    #[test]
    fn a_remote_url_on_the_command_line_is_refused() {
        let config = parse(&["--url", "ws://203.0.113.9:8080/ws"])
            .load()
            .unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("only targets loopback"), "{err}");
    }

    #[test]
    fn unknown_scenarios_fail_to_parse_and_room_and_llm_flags_apply() {
        assert!(Cli::try_parse_from(["atrium-loadtest", "run", "--scenario", "nope"]).is_err());
        let config = parse(&[
            "--scenario",
            "rooms",
            "--rooms",
            "3",
            "--avatars",
            "7",
            "--template",
            "theater",
            "--pos-hz",
            "10",
        ])
        .load()
        .unwrap();
        config.validate().unwrap();
        assert_eq!(
            (
                config.rooms.rooms,
                config.rooms.avatars,
                config.rooms.pos_hz
            ),
            (3, 7, 10)
        );
        assert_eq!(config.rooms.template, "theater");
        let config = parse(&["--scenario", "rooms", "--transport", "wt"])
            .load()
            .unwrap();
        config.validate().unwrap();
        assert_eq!(config.rooms.transport, RoomTransport::Wt);
        assert_eq!(config.label(), "atrium-rooms-wt");
        assert_eq!(config.target.wt_url, None, "the node's announced URL");
        let config = parse(&[
            "--scenario",
            "rooms",
            "--transport",
            "wt",
            "--wt-url",
            "https://127.0.0.1:4499/wt",
        ])
        .load()
        .unwrap();
        config.validate().unwrap();
        assert_eq!(
            config.target.wt_url.as_deref(),
            Some("https://127.0.0.1:4499/wt")
        );
        let config = parse(&["--scenario", "rooms", "--wt-url", "https://8.8.8.8/wt"])
            .load()
            .unwrap();
        assert!(config.validate().is_err());
        let config = parse(&[
            "--scenario",
            "llm",
            "--streams",
            "12",
            "--deltas",
            "3",
            "--delta-interval-ms",
            "5",
        ])
        .load()
        .unwrap();
        config.validate().unwrap();
        assert_eq!(
            (
                config.llm.streams,
                config.llm.deltas,
                config.llm.delta_interval_ms
            ),
            (12, 3, 5)
        );
    }
}
