//! The parent process of a run: checks the limits, provisions, starts the workers, steps them
//! through the phases (see `control.rs`), samples the server, and merges the report.
//!
//! Workers are always separate processes, even when there is only one, so a run of 1 and a run
//! of 8 processes take the same path. Each phase has a deadline; a worker that fails, exits or
//! misses one ends the run with an error naming it, and `kill_on_drop` takes the rest down.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::{LoadConfig, ScenarioKind, TargetKind};
use crate::control::{
    Expectations, FromWorker, Job, Progress, PublisherOutcome, ToWorker, WorkerReport,
};
use crate::llm_mock::{MockProvider, MockShape};
use crate::payload::now_us;
use crate::procstat;
use crate::progress::ProgressView;
use crate::provision::{self, Provisioned};
use crate::report::{self, Report, RunFacts, ServerSample};

/// File descriptors each worker keeps for itself (stdio, runtime, logs).
const SPARE_FDS: u64 = 64;
/// Ports per source address kept free for everything else on the machine.
const SPARE_PORTS: u64 = 1000;
/// Between the `go` message and the start, so every worker has it in time.
const START_DELAY: Duration = Duration::from_millis(500);
/// Slack added to every phase deadline.
const PHASE_SLACK: Duration = Duration::from_secs(30);

/// Refuses runs this machine cannot carry, with the flag that fixes it.
pub fn check_capacity(config: &LoadConfig, nofile: u64, ports: Option<u64>) -> anyhow::Result<()> {
    let sessions = config.total_sessions();
    let processes = u64::from(config.run.processes.max(1));
    let per_process = sessions.div_ceil(processes);
    if per_process + SPARE_FDS > nofile {
        let needed = sessions.div_ceil(nofile.saturating_sub(SPARE_FDS).max(1));
        bail!(
            "{sessions} sessions over {processes} process(es) is {per_process} sockets per \
             process, above the open-file limit of {nofile}; use --processes {needed} or more"
        );
    }
    if let Some(ports) = ports {
        let sources = config.run.source_addrs.len().max(1) as u64;
        let usable = ports.saturating_sub(SPARE_PORTS).max(1);
        if sessions.div_ceil(sources) > usable {
            let needed = sessions.div_ceil(usable);
            bail!(
                "{sessions} sessions need about {needed} source addresses ({usable} ephemeral \
                 ports each towards one server); pass --source-addrs 127.0.0.1,127.0.0.2,…"
            );
        }
    }
    Ok(())
}

struct Fleet {
    stdins: Vec<ChildStdin>,
    children: Vec<Child>,
    events: mpsc::UnboundedReceiver<(u32, Option<FromWorker>)>,
    progress: Vec<Progress>,
    view: ProgressView,
}

impl Fleet {
    async fn spawn(
        config: &LoadConfig,
        provisioned: &Provisioned,
        view: ProgressView,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find my own executable")?;
        let (tx, events) = mpsc::unbounded_channel();
        let mut stdins = Vec::new();
        let mut children = Vec::new();
        for worker in 0..config.run.processes {
            let mut child = Command::new(&exe)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("cannot start worker {worker}"))?;
            let mut stdin = child.stdin.take().context("worker stdin")?;
            let stdout = child.stdout.take().context("worker stdout")?;
            let job = ToWorker::Job(Box::new(Job {
                worker,
                config: config.clone(),
                tokens: provisioned.tokens.clone(),
                channel_ids: provisioned.channel_ids.clone(),
                room_ids: provisioned.room_ids.clone(),
                conversation_ids: provisioned.conversation_ids.clone(),
                webtransport: provisioned.webtransport.clone(),
            }));
            write_line(&mut stdin, &job).await?;
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match serde_json::from_str::<FromWorker>(&line) {
                        Ok(message) => {
                            let _ = tx.send((worker, Some(message)));
                        }
                        Err(e) => tracing::warn!(worker, %e, "unreadable line from a worker"),
                    }
                }
                let _ = tx.send((worker, None));
            });
            stdins.push(stdin);
            children.push(child);
        }
        Ok(Self {
            stdins,
            children,
            events,
            progress: vec![Progress::default(); config.run.processes as usize],
            view,
        })
    }

    async fn send_all(&mut self, message: &ToWorker) -> anyhow::Result<()> {
        for stdin in &mut self.stdins {
            write_line(stdin, message).await?;
        }
        Ok(())
    }

    fn total(&self) -> Progress {
        self.progress
            .iter()
            .fold(Progress::default(), |a, p| Progress {
                connected: a.connected + p.connected,
                connect_failed: a.connect_failed + p.connect_failed,
                published: a.published + p.published,
                confirmed: a.confirmed + p.confirmed,
                deliveries: a.deliveries + p.deliveries,
                errors: a.errors + p.errors,
            })
    }

    /// Waits until every worker has sent a message `pick` accepts; shows progress meanwhile.
    /// `on_progress` sets the bar position from the totals.
    async fn collect<T>(
        &mut self,
        phase: &str,
        timeout: Duration,
        mut pick: impl FnMut(FromWorker) -> Result<T, FromWorker>,
        on_progress: impl Fn(&Progress) -> u64,
    ) -> anyhow::Result<Vec<T>> {
        let deadline = Instant::now() + timeout;
        let mut got: Vec<Option<T>> = (0..self.stdins.len()).map(|_| None).collect();
        while got.iter().any(Option::is_none) {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .map_err(|_| {
                    anyhow::anyhow!("workers did not finish `{phase}` within {timeout:?}")
                })?;
            let Some((worker, message)) = event else {
                bail!("every worker went away during `{phase}`");
            };
            let i = worker as usize;
            let Some(message) = message else {
                if got[i].is_none() {
                    bail!("worker {worker} exited during `{phase}`");
                }
                continue;
            };
            match pick(message) {
                Ok(value) => got[i] = Some(value),
                Err(FromWorker::Progress(p)) => {
                    self.progress[i] = p;
                    let total = self.total();
                    self.view.set_position(on_progress(&total));
                    self.view.update(total);
                }
                Err(FromWorker::Failed { message }) => bail!("worker {worker} failed: {message}"),
                Err(other) => tracing::debug!(worker, ?other, "message ignored during `{phase}`"),
            }
        }
        Ok(got.into_iter().flatten().collect())
    }

    async fn shut_down(mut self) {
        drop(std::mem::take(&mut self.stdins));
        for child in &mut self.children {
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
            }
        }
        self.view.finish();
    }
}

async fn write_line(stdin: &mut ChildStdin, message: &ToWorker) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    stdin
        .write_all(&line)
        .await
        .context("a worker stopped listening")?;
    stdin.flush().await?;
    Ok(())
}

/// Runs the whole thing and returns the report (also written and plotted as configured).
pub async fn run(config: LoadConfig, command: String) -> anyhow::Result<Report> {
    config.validate()?;
    let nofile = procstat::raise_nofile_limit().context("cannot raise the open-file limit")?;
    check_capacity(&config, nofile, procstat::ephemeral_ports())?;
    let started_at_unix_ms = now_us() / 1000;
    let load_average = procstat::load_average().unwrap_or(0.0);
    let server_pid = config.output.server_pid;

    // `llm`: the provider the server streams from, served here for the whole run.
    let mock = if config.scenario == ScenarioKind::Llm {
        let shape = MockShape {
            deltas: config.llm.deltas,
            interval: Duration::from_millis(config.llm.delta_interval_ms),
        };
        Some(
            MockProvider::start(shape)
                .await
                .context("cannot start the mock LLM provider")?,
        )
    } else {
        None
    };
    let provisioned = if config.target.kind == TargetKind::Atrium {
        eprintln!("provisioning over HTTP: {}…", provision::describe(&config));
        provision::provision(
            &config,
            &format!("{:x}", now_us()),
            mock.as_ref().map(|m| m.base_url.as_str()),
        )
        .await
        .context("provisioning through the HTTP API failed")?
    } else {
        Provisioned::default()
    };

    // The baseline comes after provisioning: its password hashing grows the server's heap,
    // and that is not memory the sessions use.
    let settle = crate::control::memory_settle(&config);
    tokio::time::sleep(settle).await;
    let rss_before = server_pid.and_then(|pid| procstat::rss_kib(Some(pid)));
    let mut view = ProgressView::new(!config.output.quiet);
    let standing = config.total_sessions() - config.soak_sessions();
    let standing = if config.scenario == ScenarioKind::Connect {
        0
    } else {
        standing
    };
    view.phase("connect", standing);
    let mut fleet = Fleet::spawn(&config, &provisioned, view).await?;
    let prepare = Duration::from_secs(config.run.prepare_timeout_secs) + PHASE_SLACK;
    let ready_cpu: Vec<f64> = fleet
        .collect(
            "connect",
            prepare,
            |m| match m {
                FromWorker::Ready { cpu_seconds, .. } => Ok(cpu_seconds),
                other => Err(other),
            },
            |p| p.connected,
        )
        .await?;

    // Active phase.
    let start_us = now_us() + START_DELAY.as_micros() as u64;
    let server_cpu_start = server_pid.and_then(|pid| procstat::cpu_seconds(Some(pid)));
    fleet.send_all(&ToWorker::Go { start_us }).await?;
    let start = Instant::now() + START_DELAY;
    let mut rss_loaded = None;
    let active_timeout = match config.scenario {
        ScenarioKind::Connect => {
            let c = &config.connect;
            fleet.view.phase("open", c.sessions);
            let opening = Duration::from_secs(c.sessions.div_ceil(c.rate_per_sec.max(1)))
                + Duration::from_secs(config.run.prepare_timeout_secs)
                + PHASE_SLACK;
            fleet
                .collect(
                    "open",
                    opening,
                    |m| match m {
                        FromWorker::Held { .. } => Ok(()),
                        other => Err(other),
                    },
                    |p| p.connected + p.connect_failed,
                )
                .await?;
            tokio::time::sleep(settle).await;
            rss_loaded = server_pid.and_then(|pid| procstat::rss_kib(Some(pid)));
            fleet.view.phase("hold", c.hold_secs);
            Duration::from_secs(c.hold_secs) + PHASE_SLACK
        }
        _ => {
            let phase = match config.scenario {
                ScenarioKind::Rooms => "walk",
                ScenarioKind::Llm => "stream",
                _ => "publish",
            };
            fleet.view.phase(phase, config.run.duration_secs);
            Duration::from_secs(config.run.duration_secs + config.run.drain_secs) + PHASE_SLACK
        }
    };
    let published: Vec<(Vec<PublisherOutcome>, f64)> = fleet
        .collect(
            "publish",
            active_timeout,
            |m| match m {
                FromWorker::Published {
                    outcomes,
                    cpu_seconds,
                } => Ok((outcomes, cpu_seconds)),
                other => Err(other),
            },
            |_| start.elapsed().as_secs(),
        )
        .await?;
    let active_secs = start.elapsed().as_secs_f64();
    let server_cpu_end = server_pid.and_then(|pid| procstat::cpu_seconds(Some(pid)));
    if config.scenario != ScenarioKind::Connect {
        rss_loaded = server_pid.and_then(|pid| procstat::rss_kib(Some(pid)));
    }
    let generator_cpu: f64 =
        published.iter().map(|(_, cpu)| cpu).sum::<f64>() - ready_cpu.iter().sum::<f64>();

    // Drain and report.
    let expectations = Expectations::from_outcomes(published.iter().flat_map(|(o, _)| o));
    fleet.send_all(&ToWorker::Finish { expectations }).await?;
    fleet.view.phase("drain", config.run.drain_secs);
    let drain_started = Instant::now();
    let reports: Vec<WorkerReport> = fleet
        .collect(
            "drain",
            Duration::from_secs(config.run.drain_secs) + PHASE_SLACK,
            |m| match m {
                FromWorker::Report(r) => Ok(*r),
                other => Err(other),
            },
            |_| drain_started.elapsed().as_secs(),
        )
        .await?;
    fleet.shut_down().await;

    let server = server_pid.map(|pid| {
        let before = rss_before.unwrap_or(0);
        let loaded = rss_loaded.unwrap_or(0);
        let open: u64 = reports.iter().map(|r| r.connected).sum();
        let cpu = match (server_cpu_start, server_cpu_end) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        };
        ServerSample {
            pid,
            rss_before_kib: before,
            rss_loaded_kib: loaded,
            rss_per_session_bytes: report::per_session_bytes(before, loaded, open),
            cpu_seconds: cpu,
            cpu_cores: cpu / active_secs.max(1e-3),
        }
    });
    let facts = RunFacts {
        command,
        started_at_unix_ms,
        load_average,
        start_us,
        active_secs,
        server,
    };
    let mut report = Report::build(&config, &reports, facts);
    if let (Some(mock), Some(llm)) = (&mock, report.llm.as_mut()) {
        llm.provider_streams = mock.streamed_requests();
        llm.provider_other_requests = mock.other_requests();
    }
    report.generator.cpu_seconds = generator_cpu;
    report.generator.cpu_cores = generator_cpu / active_secs.max(1e-3);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_sessions_per_process_name_the_flag_that_helps() {
        let mut config = LoadConfig {
            scenario: ScenarioKind::Connect,
            ..LoadConfig::default()
        };
        config.connect.sessions = 30_000;
        let err = check_capacity(&config, 20_000, Some(28_232))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--processes 2"), "{err}");
        config.run.processes = 2;
        let err = check_capacity(&config, 20_000, Some(28_232))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--source-addrs"), "{err}");
        config.run.source_addrs = vec!["127.0.0.1".into(), "127.0.0.2".into()];
        check_capacity(&config, 20_000, Some(28_232)).unwrap();
        // 19,000 sessions fit one process under a 20,000 limit.
        config.connect.sessions = 19_000;
        config.run.processes = 1;
        check_capacity(&config, 20_000, Some(28_232)).unwrap();
    }
}
