//! Turning sqlx errors into [`StoreError`]s.
//!
//! Callers need to tell "you picked a taken username" from "the database is down", so every
//! write names the uniqueness rules it can break. SQLite reports the clashing columns in its
//! message (`UNIQUE constraint failed: users.username_key`), PostgreSQL reports the index name
//! (`users_username_key`); both contain the column name, which is what we match on.

use crate::store::StoreError;

/// A failed read or an unexpected failure.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Database(other.to_string()),
    }
}

/// A failed write. `uniques` maps a column-name fragment to the conflict name reported to the
/// caller; a unique violation matching none of them is reported as `Conflict(fallback)`. A
/// foreign-key violation means a referenced record is missing, which callers see as NotFound.
pub(crate) fn write(e: sqlx::Error, fallback: &str, uniques: &[(&str, &str)]) -> StoreError {
    if let Some(dbe) = e.as_database_error() {
        if dbe.is_unique_violation() {
            let what = dbe.constraint().unwrap_or_else(|| dbe.message());
            let name = uniques
                .iter()
                .find(|(fragment, _)| what.contains(fragment))
                .map_or(fallback, |(_, name)| name);
            return StoreError::Conflict(name.to_owned());
        }
        if dbe.is_foreign_key_violation() {
            return StoreError::NotFound;
        }
    }
    db(e)
}

/// A value read from the database that does not map back to a domain value.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
