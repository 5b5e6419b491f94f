//! The `atrium` binary. All logic lives in the library (`lib.rs`) so tests can drive it.

use std::process::ExitCode;

use atrium::cli::{Cli, Command, ConfigCommand, UserCommand};
use atrium::{commands, config, crypto, telemetry};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::load(cli.config.as_deref(), &cli.overrides()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("atrium: {error:#}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_logging(&config.log);
    crypto::install_crypto_provider();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("atrium: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Serve(_) => commands::serve::run(config).await,
            Command::Migrate(_) => commands::migrate::run(&config).await,
            Command::User {
                command: UserCommand::Create(args),
            } => commands::user::create(&config, args).await,
            Command::Config {
                command: ConfigCommand::Print,
            } => commands::config_print::run(&config),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("atrium: {error:#}");
            ExitCode::FAILURE
        }
    }
}
