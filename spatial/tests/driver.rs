//! The driver thread: start, tick on its clock, skip instead of piling up, stop. Time is a
//! `ManualClock` the test advances; outputs are awaited with a timeout, never slept for.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use atrium_spatial::{
    ClientId, FnSink, ManualClock, RoomId, RoomNotice, SinkClosed, SpatialConfig, SpatialDriver,
    SpatialOutput, SubmitError, TickOutputs,
};
use common::template;

/// Generous bound for the driver thread to react; only reached if something is broken.
const REACT: Duration = Duration::from_secs(10);

#[test]
fn ticks_follow_the_clock_and_overruns_skip_instead_of_piling_up() {
    let config = SpatialConfig::default();
    let period = config.tick_period();
    let clock = ManualClock::new();
    let (tx, rx) = mpsc::channel::<TickOutputs>();
    let driver = SpatialDriver::start_with_clock(config, tx, clock.clone()).unwrap();
    let handle = driver.handle();

    let room = RoomId::new();
    let client = ClientId::new();
    handle
        .create_room(room, template("conference").as_ref().clone())
        .unwrap();
    handle.join(client, room).unwrap();

    // Nothing happens until the clock reaches the first deadline.
    assert!(rx.try_recv().is_err());
    clock.advance(period);
    let first = rx.recv_timeout(REACT).expect("tick 1");
    assert_eq!(first.tick, 1);
    assert_eq!(first.notices, [RoomNotice::Created { room }]);
    assert!(
        first
            .outputs
            .iter()
            .any(|o| o.client == client && matches!(o.output, SpatialOutput::Joined(_)))
    );

    // The thread stalls for ten periods: one tick runs, nine deadlines are skipped.
    clock.advance(period * 10);
    let second = rx.recv_timeout(REACT).expect("tick 2");
    assert_eq!(second.tick, 2);
    // The next deadline is 12 periods in; at 11 nothing more may run.
    assert!(rx.recv_timeout(Duration::from_millis(20)).is_err());
    clock.advance(period);
    assert_eq!(rx.recv_timeout(REACT).expect("tick 3").tick, 3);

    let report = driver.stop();
    assert_eq!(report.ticks, 3);
    assert_eq!(report.skipped_ticks, 9);
    // The client never acknowledged, so every snapshot it got was a full one.
    assert_eq!(report.stats.full_snapshots, 3);
    assert!(matches!(
        handle.join(client, room),
        Err(SubmitError::Stopped)
    ));
}

#[test]
fn runs_on_real_time_and_stops_when_asked() {
    let (tx, rx) = mpsc::channel::<TickOutputs>();
    let driver = SpatialDriver::start(
        SpatialConfig {
            tick_hz: 100,
            ..SpatialConfig::default()
        },
        tx,
    )
    .unwrap();
    for expected in 1..=3 {
        assert_eq!(
            rx.recv_timeout(REACT).expect("ticks keep coming").tick,
            expected
        );
    }
    let report = driver.stop();
    assert!(report.ticks >= 3);
    // The sender was moved into the thread and dropped with it.
    while rx.recv_timeout(REACT).is_ok() {}
}

#[test]
fn stops_by_itself_when_the_consumer_goes_away() {
    let clock = ManualClock::new();
    let config = SpatialConfig::default();
    let period = config.tick_period();
    let driver = SpatialDriver::start_with_clock(
        config,
        FnSink(|_outputs: TickOutputs| Err(SinkClosed)),
        clock.clone(),
    )
    .unwrap();
    let handle = driver.handle();
    clock.advance(period);
    // The first delivery fails, the thread ends, and the input channel disconnects.
    let deadline = std::time::Instant::now() + REACT;
    loop {
        match handle.leave(ClientId::new()) {
            Err(SubmitError::Stopped) => break,
            _ if std::time::Instant::now() > deadline => panic!("driver did not stop"),
            _ => std::thread::yield_now(),
        }
    }
    assert_eq!(driver.stop().ticks, 1);
}

#[test]
fn invalid_configs_and_templates_are_refused_up_front() {
    let (tx, _rx) = mpsc::channel::<TickOutputs>();
    let bad = SpatialConfig {
        tick_hz: 0,
        ..SpatialConfig::default()
    };
    assert!(SpatialDriver::start(bad, tx.clone()).is_err());
    let driver = SpatialDriver::start(SpatialConfig::default(), tx).unwrap();
    let mut broken = template("gallery").as_ref().clone();
    broken.capacity = 0;
    assert!(matches!(
        driver.handle().create_room(RoomId::new(), broken),
        Err(SubmitError::Template(_))
    ));
}
