//! Password hashing off the async runtime.
//!
//! argon2id is built to be slow (tens of milliseconds and megabytes per hash). Running it on a
//! runtime worker would stall every other request on that worker, so it goes to the blocking pool.
//! At most a few hashes run at once per process (see [`MAX_CONCURRENT_HASHES_PER_CPU`]): a burst
//! of logins queues instead of starting hundreds of threads that each allocate the argon2 memory.

use std::sync::OnceLock;

use atrium_core::auth::PasswordHashing;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{ServiceError, ServiceResult};

/// Hashes allowed to run at once, per CPU. One per core keeps the CPU busy; a second absorbs the
/// gaps while a thread is being scheduled.
pub const MAX_CONCURRENT_HASHES_PER_CPU: usize = 2;

static SLOTS: OnceLock<Semaphore> = OnceLock::new();

async fn slot() -> ServiceResult<SemaphorePermit<'static>> {
    let slots = SLOTS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cpus * MAX_CONCURRENT_HASHES_PER_CPU)
    });
    slots
        .acquire()
        .await
        .map_err(|e| ServiceError::Internal(format!("hashing slots closed: {e}")))
}

/// Hashes `password` on the blocking pool.
pub async fn hash_password(hashing: &PasswordHashing, password: &str) -> ServiceResult<String> {
    let _slot = slot().await?;
    let hashing = hashing.clone();
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hashing.hash(&password))
        .await
        .map_err(|e| ServiceError::Internal(format!("hashing task failed: {e}")))?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Checks `password` against `stored` on the blocking pool. `None` for `stored` spends the same
/// time and answers `false` (the account does not exist).
pub async fn verify_password(
    hashing: &PasswordHashing,
    password: &str,
    stored: Option<&str>,
) -> ServiceResult<bool> {
    let _slot = slot().await?;
    let hashing = hashing.clone();
    let password = password.to_owned();
    let stored = stored.map(str::to_owned);
    let outcome = tokio::task::spawn_blocking(move || match stored {
        Some(stored) => hashing.verify(&password, &stored),
        None => Ok(hashing.verify_decoy(&password)),
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("hashing task failed: {e}")))?;
    match outcome {
        Ok(matches) => Ok(matches),
        Err(e) => {
            // A corrupt stored hash must not lock the whole login path into 500s for everyone;
            // this one account simply cannot log in until an admin resets it.
            tracing::error!(error = %e, "stored password hash unreadable");
            Ok(false)
        }
    }
}
