//! Handing freed heap memory back to the kernel.
//!
//! glibc's allocator keeps the pages of freed blocks mapped: after a burst — hundreds of
//! session actors that then hibernate, or password hashing at 19 MiB a hash — the process's RSS
//! stays at the burst's peak although the memory is free. A background task calls
//! `malloc_trim(0)` every `memory_trim_interval_ms`, which returns every free page of every
//! arena (not only the top of the heap). A trim takes a few milliseconds on a heap of hundreds
//! of MiB and locks one arena at a time, so it runs on a blocking thread and not often.
//!
//! Only glibc has `malloc_trim`; elsewhere [`trim`] returns `None` and no task starts.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Default interval between trims (`memory_trim_interval_ms`; 0 turns trimming off).
pub const DEFAULT_TRIM_INTERVAL_MS: u64 = 10_000;

/// Duration of each trim (histogram, seconds).
pub const TRIM_SECONDS: &str = "atrium_memory_trim_seconds";
/// Resident memory returned to the kernel by trims (counter, bytes).
pub const TRIMMED_BYTES: &str = "atrium_memory_trimmed_bytes_total";

/// What one trim did.
#[derive(Clone, Copy, Debug)]
pub struct Trim {
    pub took: Duration,
    /// Resident set before and after, bytes (0 where `/proc/self/statm` is unreadable).
    pub rss_before: u64,
    pub rss_after: u64,
}

impl Trim {
    /// Bytes the trim gave back.
    pub fn released(&self) -> u64 {
        self.rss_before.saturating_sub(self.rss_after)
    }
}

/// The process's resident set, bytes.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // statm counts in pages.
    Some(pages * page_size())
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn page_size() -> u64 {
    4096
}

/// Returns free heap pages to the kernel now (blocking: call it off the async workers).
pub fn trim() -> Option<Trim> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let rss_before = rss_bytes().unwrap_or(0);
        let started = std::time::Instant::now();
        // SAFETY: malloc_trim only walks and releases the allocator's own free lists.
        unsafe {
            libc::malloc_trim(0);
        }
        let took = started.elapsed();
        let rss_after = rss_bytes().unwrap_or(0);
        Some(Trim {
            took,
            rss_before,
            rss_after,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// Starts the periodic trim unless `interval` is zero or the allocator cannot trim.
pub fn spawn_trimmer(interval: Duration, stop: CancellationToken) {
    if interval.is_zero() || !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    metrics::describe_histogram!(
        TRIM_SECONDS,
        metrics::Unit::Seconds,
        "Time one malloc_trim took"
    );
    metrics::describe_counter!(
        TRIMMED_BYTES,
        metrics::Unit::Bytes,
        "Resident memory returned to the kernel by malloc_trim"
    );
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let Ok(Some(done)) = tokio::task::spawn_blocking(trim).await else {
                continue;
            };
            metrics::histogram!(TRIM_SECONDS).record(done.took.as_secs_f64());
            metrics::counter!(TRIMMED_BYTES).increment(done.released());
            tracing::debug!(
                took_us = done.took.as_micros() as u64,
                rss_before = done.rss_before,
                rss_after = done.rss_after,
                "heap trimmed"
            );
        }
    });
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn a_trim_returns_the_pages_of_freed_blocks_below_a_live_one() {
        // 64 MiB in 4 KiB blocks, touched, then all freed except the last: the live block pins
        // the top of the heap, so free() alone cannot shrink it and the pages stay resident.
        const BLOCKS: usize = 16 * 1024;
        let thread = std::thread::spawn(|| {
            let mut blocks: Vec<Box<[u8; 4096]>> =
                (0..BLOCKS).map(|_| Box::new([1u8; 4096])).collect();
            let pin = blocks.pop();
            drop(blocks);
            let done = trim().expect("glibc trims");
            drop(pin);
            done
        });
        let done = thread.join().expect("the test thread ran");
        assert!(
            done.rss_before > 0 && done.rss_after > 0,
            "RSS is readable: {done:?}"
        );
        // Other tests in this process allocate meanwhile; most of the 64 MiB must come back.
        assert!(
            done.released() >= 32 * 1024 * 1024,
            "a trim released only {} bytes ({done:?})",
            done.released()
        );
    }

    #[test]
    fn rss_is_read_from_proc() {
        let rss = rss_bytes().expect("/proc/self/statm is readable");
        assert!(
            rss > 1024 * 1024,
            "a test process holds more than 1 MiB: {rss}"
        );
    }
}
