//! The driver: a [`Simulation`] stepped at a fixed rate on its own OS thread.
//!
//! Inputs come in through a bounded channel ([`SpatialHandle`], cheap to clone, never blocks);
//! each tick's outputs go to an [`OutputSink`] — a channel by default, or whatever the engine
//! wants (for example a closure routing each output to its session's outbox). Between ticks the
//! thread blocks on the input channel until the next deadline, so inputs are queued as they
//! arrive and applied together at the start of the next tick. Pacing is in [`TickPacer`].

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use thiserror::Error;

use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, SpatialConfig};
use crate::ids::{ClientId, RoomId, Tick};
use crate::input::AvatarInput;
use crate::messages::{SpatialInput, TickOutputs};
use crate::pacer::TickPacer;
use crate::sim::{SimStats, Simulation};
use crate::telemetry;
use crate::template::{RoomTemplate, TemplateError};

/// Where the driver delivers each tick's outputs.
pub trait OutputSink: Send + 'static {
    /// Takes one tick's outputs. Returning [`SinkClosed`] stops the driver (nobody listens).
    fn deliver(&mut self, outputs: TickOutputs) -> Result<(), SinkClosed>;
}

/// The output consumer is gone.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the spatial output consumer is gone")]
pub struct SinkClosed;

impl OutputSink for mpsc::Sender<TickOutputs> {
    fn deliver(&mut self, outputs: TickOutputs) -> Result<(), SinkClosed> {
        self.send(outputs).map_err(|_| SinkClosed)
    }
}

/// A bounded channel: when the consumer falls behind, a tick's batch is dropped (and counted)
/// rather than stalling the simulation. Snapshots recover by themselves; the engine should size
/// the channel so that this never happens in practice.
impl OutputSink for SyncSender<TickOutputs> {
    fn deliver(&mut self, outputs: TickOutputs) -> Result<(), SinkClosed> {
        match self.try_send(outputs) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                metrics::counter!(telemetry::OUTPUTS_DROPPED).increment(1);
                tracing::warn!("spatial output consumer is full; dropped a tick of outputs");
                Ok(())
            }
            Err(TrySendError::Disconnected(_)) => Err(SinkClosed),
        }
    }
}

/// Adapts a closure into a sink.
pub struct FnSink<F>(pub F);

impl<F> OutputSink for FnSink<F>
where
    F: FnMut(TickOutputs) -> Result<(), SinkClosed> + Send + 'static,
{
    fn deliver(&mut self, outputs: TickOutputs) -> Result<(), SinkClosed> {
        (self.0)(outputs)
    }
}

enum DriverMsg {
    Input(SpatialInput),
    Stop,
}

/// Why an input was not accepted by the driver.
#[derive(Debug, Error)]
pub enum SubmitError {
    /// The input channel is full: the simulation is overloaded. Retry later or drop the input
    /// (for a move, the next one supersedes it anyway).
    #[error("the spatial simulation is overloaded")]
    Busy,
    /// The driver has stopped.
    #[error("the spatial simulation has stopped")]
    Stopped,
    /// A room template failed validation (nothing was sent).
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// Sends inputs to a running driver. Cheap to clone; never blocks.
#[derive(Clone)]
pub struct SpatialHandle {
    tx: SyncSender<DriverMsg>,
}

impl SpatialHandle {
    /// Queues an input for the next tick.
    pub fn submit(&self, input: SpatialInput) -> Result<(), SubmitError> {
        self.tx
            .try_send(DriverMsg::Input(input))
            .map_err(|e| match e {
                TrySendError::Full(_) => SubmitError::Busy,
                TrySendError::Disconnected(_) => SubmitError::Stopped,
            })
    }

    /// Validates a template (owned, or shared from a [`crate::TemplateCatalog`]) and opens a
    /// room with it.
    pub fn create_room(
        &self,
        room: RoomId,
        template: impl Into<Arc<RoomTemplate>>,
    ) -> Result<(), SubmitError> {
        let template = template.into();
        template.validate()?;
        self.submit(SpatialInput::CreateRoom { room, template })
    }

    /// Closes a room.
    pub fn close_room(&self, room: RoomId) -> Result<(), SubmitError> {
        self.submit(SpatialInput::CloseRoom { room })
    }

    /// Puts a client's avatar in a room.
    pub fn join(&self, client: ClientId, room: RoomId) -> Result<(), SubmitError> {
        self.submit(SpatialInput::Join { client, room })
    }

    /// Removes a client's avatar.
    pub fn leave(&self, client: ClientId) -> Result<(), SubmitError> {
        self.submit(SpatialInput::Leave { client })
    }

    /// Moves or teleports a client's avatar.
    pub fn input(&self, client: ClientId, input: AvatarInput) -> Result<(), SubmitError> {
        self.submit(SpatialInput::Avatar { client, input })
    }

    /// Acknowledges a snapshot.
    pub fn ack(&self, client: ClientId, tick: Tick) -> Result<(), SubmitError> {
        self.submit(SpatialInput::Ack { client, tick })
    }
}

/// What a stopped driver did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverReport {
    /// Ticks run.
    pub ticks: Tick,
    /// Deadlines skipped after overruns.
    pub skipped_ticks: u64,
    /// The simulation's totals.
    pub stats: SimStats,
}

/// A running simulation thread. Stopping (or dropping) it ends the thread after the current
/// tick; inputs still queued are discarded.
pub struct SpatialDriver {
    handle: SpatialHandle,
    thread: Option<JoinHandle<DriverReport>>,
}

/// Name of the driver's OS thread (shows up in profilers and panics).
pub const DRIVER_THREAD_NAME: &str = "atrium-spatial";

impl SpatialDriver {
    /// Starts a driver on real time.
    pub fn start(config: SpatialConfig, sink: impl OutputSink) -> Result<Self, DriverError> {
        Self::start_with_clock(config, sink, SystemClock)
    }

    /// Starts a driver on the given clock (tests use a [`crate::ManualClock`]).
    pub fn start_with_clock(
        config: SpatialConfig,
        sink: impl OutputSink,
        clock: impl Clock,
    ) -> Result<Self, DriverError> {
        let simulation = Simulation::new(config)?;
        let capacity = simulation.config().input_queue_capacity;
        let (tx, rx) = mpsc::sync_channel(capacity);
        // The schedule starts now, not whenever the thread gets to run.
        let pacer = TickPacer::new(clock.now(), simulation.config().tick_period());
        let thread = thread::Builder::new()
            .name(DRIVER_THREAD_NAME.into())
            .spawn(move || run(simulation, pacer, rx, sink, clock))
            .map_err(DriverError::Spawn)?;
        Ok(Self {
            handle: SpatialHandle { tx },
            thread: Some(thread),
        })
    }

    /// A handle for sending inputs.
    pub fn handle(&self) -> SpatialHandle {
        self.handle.clone()
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) -> DriverReport {
        self.shutdown()
    }

    fn shutdown(&mut self) -> DriverReport {
        // A full channel is drained by the loop within one tick; block until the stop fits.
        let _ = self.handle.tx.send(DriverMsg::Stop);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(report)) => report,
            Some(Err(_)) => {
                tracing::error!("the spatial driver thread panicked");
                DriverReport::default()
            }
            None => DriverReport::default(),
        }
    }
}

impl Drop for SpatialDriver {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}

/// The driver could not start.
#[derive(Debug, Error)]
pub enum DriverError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The OS refused a thread.
    #[error("could not start the spatial thread: {0}")]
    Spawn(std::io::Error),
}

fn run(
    mut simulation: Simulation,
    mut pacer: TickPacer,
    rx: Receiver<DriverMsg>,
    mut sink: impl OutputSink,
    clock: impl Clock,
) -> DriverReport {
    let mut skipped_total = 0u64;
    tracing::info!(
        tick_hz = simulation.config().tick_hz,
        "spatial driver started"
    );
    let drain_limit = simulation.config().input_queue_capacity;
    'ticks: loop {
        // Take inputs until the deadline.
        loop {
            let now = clock.now();
            if pacer.is_due(now) {
                break;
            }
            match rx.recv_timeout(clock.block_for(pacer.until_due(now))) {
                Ok(DriverMsg::Input(input)) => simulation.submit(input),
                Ok(DriverMsg::Stop) | Err(RecvTimeoutError::Disconnected) => break 'ticks,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        // Whatever was already queued at the deadline belongs to this tick too (bounded, so a
        // flood cannot postpone the tick forever).
        for _ in 0..drain_limit {
            match rx.try_recv() {
                Ok(DriverMsg::Input(input)) => simulation.submit(input),
                Ok(DriverMsg::Stop) | Err(TryRecvError::Disconnected) => break 'ticks,
                Err(TryRecvError::Empty) => break,
            }
        }
        let started = Instant::now();
        let outputs = simulation.step();
        metrics::histogram!(telemetry::TICK_SECONDS).record(started.elapsed().as_secs_f64());
        for (step, took) in simulation.step_times() {
            metrics::histogram!(telemetry::STEP_SECONDS, "step" => step.as_str())
                .record(took.as_secs_f64());
        }
        // Pace by when the work finished, read before handing the outputs over (a consumer
        // reacting to them cannot then shift this tick's accounting).
        let finished = clock.now();
        if sink.deliver(outputs).is_err() {
            tracing::info!("spatial output consumer gone; stopping");
            break;
        }
        let skipped = pacer.finish_tick(finished);
        if skipped > 0 {
            skipped_total += skipped;
            metrics::counter!(telemetry::TICKS_SKIPPED).increment(skipped);
            tracing::debug!(
                skipped,
                tick = simulation.tick(),
                "tick overran; deadlines skipped"
            );
        }
    }
    tracing::info!(
        ticks = simulation.tick(),
        skipped = skipped_total,
        "spatial driver stopped"
    );
    DriverReport {
        ticks: simulation.tick(),
        skipped_ticks: skipped_total,
        stats: simulation.stats(),
    }
}
