//! Full-text message search over the caller's channels.

use atrium_persistence::store::{SearchHit, Store};

use super::{Caller, ServiceError, ServiceResult};

/// Longest accepted query, in characters.
pub const QUERY_MAX: usize = 256;
/// Hits returned when the client does not say.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Most hits per request.
pub const MAX_SEARCH_LIMIT: u32 = 100;

/// Messages matching `query` in channels the caller is a member of, best first.
pub async fn search(
    store: &dyn Store,
    caller: &Caller,
    query: &str,
    limit: Option<u32>,
) -> ServiceResult<Vec<SearchHit>> {
    caller.require("search.read")?;
    let query = query.trim();
    if query.is_empty() {
        return Err(ServiceError::Invalid("q: must not be empty".into()));
    }
    if query.chars().count() > QUERY_MAX {
        return Err(ServiceError::Invalid(format!(
            "q: must be at most {QUERY_MAX} characters long"
        )));
    }
    let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        return Err(ServiceError::Invalid(format!(
            "limit: must be between 1 and {MAX_SEARCH_LIMIT}"
        )));
    }
    Ok(store.search_messages(caller.id(), query, limit).await?)
}
