//! Choosing and opening a back end from a database URL.

use std::sync::Arc;

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::store::{Store, StoreError, StoreResult};

/// The back end a database URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite:` URLs and bare file paths are SQLite; `postgres://` and `postgresql://` are
    /// PostgreSQL; any other `scheme://` is refused rather than mistaken for a file name.
    pub fn of_url(url: &str) -> StoreResult<Self> {
        let lower = url.trim_start().to_ascii_lowercase();
        if lower.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if let Some((scheme, _)) = lower.split_once("://") {
            Err(StoreError::Database(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite://PATH, postgres://… \
                 or a plain file path"
            )))
        } else if lower.trim().is_empty() {
            Err(StoreError::Database("empty database URL".into()))
        } else {
            Ok(Backend::Sqlite)
        }
    }
}

/// Opens the store `database_url` names (see [`Backend::of_url`]). A SQLite file and its parent
/// directory are created if missing. Migrations are not applied: call [`Store::migrate`].
pub async fn open_store(database_url: &str) -> StoreResult<Arc<dyn Store>> {
    let url = database_url.trim();
    Ok(match Backend::of_url(url)? {
        Backend::Sqlite if url.to_ascii_lowercase().starts_with("sqlite:") => {
            Arc::new(SqliteStore::connect(url).await?)
        }
        Backend::Sqlite => Arc::new(SqliteStore::open_path(url).await?),
        Backend::Postgres => Arc::new(PgStore::connect(url).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            Backend::of_url("sqlite://./data/atrium.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::of_url("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of_url("./data/atrium.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::of_url("/var/lib/atrium.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::of_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::of_url("PostgreSQL://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::of_url("mysql://u@h/db").is_err());
        assert!(Backend::of_url("  ").is_err());
    }
}
