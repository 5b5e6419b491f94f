//! Metric names. The engine's Prometheus exporter picks these up from the `metrics` facade;
//! [`describe`] registers their help texts (call it once at start).

/// Histogram: wall time of one tick, seconds.
pub const TICK_SECONDS: &str = "atrium_spatial_tick_seconds";
/// Histogram, label `step` (`route`, `inputs`, `integrate`, `grid`, `interest`, `audio`,
/// `snapshots`): wall time of each step of a tick, seconds.
pub const STEP_SECONDS: &str = "atrium_spatial_step_seconds";
/// Counter: deadlines skipped because a tick overran (or the thread was descheduled).
pub const TICKS_SKIPPED: &str = "atrium_spatial_ticks_skipped_total";
/// Counter, label `reason`: inputs corrected.
pub const CORRECTIONS: &str = "atrium_spatial_corrections_total";
/// Counter, label `reason`: inputs ignored (`no_avatar`, `unknown_ack`).
pub const IGNORED_INPUTS: &str = "atrium_spatial_ignored_inputs_total";
/// Counter, label `kind` (`full`, `delta`, `stream`): snapshots sent.
pub const SNAPSHOTS: &str = "atrium_spatial_snapshots_total";
/// Counter: encoded snapshot bytes.
pub const SNAPSHOT_BYTES: &str = "atrium_spatial_snapshot_bytes_total";
/// Counter: gain updates sent.
pub const GAIN_UPDATES: &str = "atrium_spatial_gain_updates_total";
/// Counter: output batches the sink refused (consumer too slow).
pub const OUTPUTS_DROPPED: &str = "atrium_spatial_output_batches_dropped_total";
/// Gauge: open rooms.
pub const ROOMS: &str = "atrium_spatial_rooms";
/// Gauge: avatars in all rooms.
pub const AVATARS: &str = "atrium_spatial_avatars";

/// Registers help texts for every spatial metric.
pub fn describe() {
    metrics::describe_histogram!(
        TICK_SECONDS,
        metrics::Unit::Seconds,
        "Wall time of one simulation tick"
    );
    metrics::describe_histogram!(
        STEP_SECONDS,
        metrics::Unit::Seconds,
        "Wall time of each step of a simulation tick"
    );
    metrics::describe_counter!(TICKS_SKIPPED, "Tick deadlines skipped after an overrun");
    metrics::describe_counter!(CORRECTIONS, "Avatar inputs corrected, by reason");
    metrics::describe_counter!(IGNORED_INPUTS, "Inputs ignored, by reason");
    metrics::describe_counter!(SNAPSHOTS, "Snapshots sent, by kind");
    metrics::describe_counter!(
        SNAPSHOT_BYTES,
        metrics::Unit::Bytes,
        "Encoded snapshot bytes sent"
    );
    metrics::describe_counter!(GAIN_UPDATES, "Gain updates sent");
    metrics::describe_counter!(
        OUTPUTS_DROPPED,
        "Output batches dropped because the consumer was full"
    );
    metrics::describe_gauge!(ROOMS, "Open rooms");
    metrics::describe_gauge!(AVATARS, "Avatars in rooms");
}
