//! `atrium-loadtest`: see the crate documentation and docs/benchmarks.md ("Load tester").

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use atrium_loadtest::cli::{Cli, Command};
use atrium_loadtest::config::ConfigError;
use atrium_loadtest::report::Report;
use atrium_loadtest::{compare, coordinator, plot, procstat, worker};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ATRIUM_LOADTEST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    // reqwest (provisioning) needs the process-wide rustls provider even for plain HTTP.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Every session is a socket: start from the hard limit.
    if let Err(e) = procstat::raise_nofile_limit() {
        eprintln!("warning: cannot raise the open-file limit: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(&args).await,
            Command::Worker => worker::run().await,
            Command::Compare(args) => {
                compare::run(&args.results, &args.doc, &args.plots_dir, &args.command)
            }
            Command::Rate(args) => rate(&args.report, args.factor),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Configuration mistakes (including non-loopback targets) are usage errors.
            if e.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(args: &atrium_loadtest::cli::RunArgs) -> anyhow::Result<()> {
    let config = args.load()?;
    config.validate()?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let report = coordinator::run(config.clone(), command).await?;
    print!("{}", report.text());
    if let Some(path) = &config.output.report {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("report        {}", path.display());
    }
    if let Some(dir) = &config.output.plots_dir {
        for file in plot::run_plots(
            dir,
            &report.label,
            &report.timeline,
            &report.latency_buckets,
        )? {
            println!("plot          {}", file.display());
        }
    }
    Ok(())
}

fn rate(path: &std::path::Path, factor: f64) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let report: Report = serde_json::from_str(&text)?;
    let rate = report
        .fanout
        .as_ref()
        .map(|f| f.publish_rate_per_sec)
        .context("not a fan-out report")?;
    println!("{}", ((rate * factor).round() as u64).max(1));
    Ok(())
}
