//! `atrium migrate`: apply pending migrations and exit.

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = super::open_migrated(&config.database_url).await?;
    println!(
        "migrations applied ({} at {})",
        store.backend(),
        super::redact(&config.database_url)
    );
    store.close().await;
    Ok(())
}
