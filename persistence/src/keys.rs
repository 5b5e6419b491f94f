//! Case-insensitive keys for unique values (usernames, e-mail addresses).
//!
//! The fold happens here, in Rust, rather than with the database's `lower()`: SQLite's only
//! lower-cases ASCII, PostgreSQL's depends on the server locale. Folding once, the same way, makes
//! "Jörg" and "JÖRG" the same username on both back ends.

/// The lookup key for a case-insensitive value.
pub(crate) fn fold(value: &str) -> String {
    value.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn folds_unicode_and_trims() {
        assert_eq!(super::fold("  JÖRG@Example.ORG "), "jörg@example.org");
    }
}
