//! The worker pool behind the parallel steps of a tick.
//!
//! Rooms are independent, and so are clients once their room is prepared, so the per-room and
//! per-client systems run as bevy_ecs parallel queries on the shared `ComputeTaskPool` (one
//! worker per core). Results do not depend on the split: each item writes only its own
//! components, and outputs are gathered afterwards in a fixed order.

use bevy_ecs::batching::BatchingStrategy;
use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};

/// Name of the pool's threads (shared by every simulation in the process).
pub const WORKER_THREAD_NAME: &str = "atrium-spatial-worker";

/// Starts the pool unless something in the process already did.
pub(crate) fn start_pool() {
    ComputeTaskPool::get_or_init(|| {
        TaskPoolBuilder::new()
            .thread_name(WORKER_THREAD_NAME.to_string())
            .build()
    });
}

/// How a parallel step splits its items: a few batches per thread, so that a thread the OS
/// deschedules (the machine is shared) does not hold up the whole step. Eight measured best on
/// the 2-core development machine (against 2, 4 and 16; `docs/benchmarks.md`).
pub(crate) fn batching() -> BatchingStrategy {
    BatchingStrategy::new().batches_per_thread(8)
}
