//! `atrium config print`: the effective configuration, secrets masked.

use crate::config::{Config, render_masked};

pub fn run(config: &Config) -> anyhow::Result<()> {
    print!("{}", render_masked(config)?);
    Ok(())
}
