//! One file per subcommand.

pub mod config_print;
pub mod migrate;
pub mod serve;
pub mod user;

use std::sync::Arc;

use anyhow::Context as _;
use atrium_persistence::store::Store;

/// Opens the configured database and applies pending migrations (every command that touches the
/// database does this first, so a fresh install needs no separate step).
pub async fn open_migrated(database_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store = atrium_persistence::open_store(database_url)
        .await
        .with_context(|| format!("cannot open database {}", redact(database_url)))?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(store)
}

/// A database URL fit for an error message or a log line (no password).
pub fn redact(database_url: &str) -> String {
    match (database_url.find("://"), database_url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…{}", &database_url[..scheme], &database_url[at..])
        }
        _ => database_url.to_owned(),
    }
}
