//! Avatar inputs: `pos` (frame or datagram), `room.ack` and `room.teleport`.
//!
//! They are the high-rate part of the protocol, so they skip the actors: the transport looks the
//! session's avatar up in the registry and submits to the simulation's input channel, which
//! never blocks. The simulation validates every input itself (speed, bounds, teleport targets)
//! and answers bad ones with a `room.correction`.

use atrium_core::ids::SessionId;
use atrium_core::protocol::ErrorCode;
use atrium_spatial::{AvatarInput, SubmitError};
use glam::Vec3;

use crate::rooms::{RoomsContext, telemetry};

/// One input for the session's avatar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RoomInput {
    /// Where the avatar is. `seq` (datagrams only) orders poses that may arrive out of order.
    Pose {
        seq: Option<u32>,
        p: [f32; 3],
        yaw: f32,
        v: [f32; 3],
        ack: Option<u64>,
    },
    /// The client holds every part of the snapshot of `tick`.
    Ack { tick: u64 },
    /// Move onto the seat or spawn point at `to`.
    Teleport { to: [f32; 3] },
}

/// Why an input was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RoomInputRefused {
    pub code: ErrorCode,
    pub message: &'static str,
}

/// Submits `input` for the avatar `session` drives. A pose older than one already taken, or one
/// the overloaded simulation has no room for, is dropped (the next one supersedes it) and
/// counted; that is not an error.
pub fn submit(
    rooms: &RoomsContext,
    session: SessionId,
    input: RoomInput,
) -> Result<(), RoomInputRefused> {
    let client = {
        let mut tables = rooms.registry.lock();
        let Some(client) = tables.by_session.get(&session).copied() else {
            return Err(RoomInputRefused {
                code: ErrorCode::NotInRoom,
                message: "you are not in a room; room.join first",
            });
        };
        if let RoomInput::Pose { seq: Some(seq), .. } = input
            && let Some(seat) = tables.seats.get_mut(&client)
        {
            // Wrapping order: a pose at most 2^31 behind the newest is older.
            if seat
                .last_pos_seq
                .is_some_and(|last| (seq.wrapping_sub(last) as i32) <= 0)
            {
                metrics::counter!(telemetry::INPUTS_DROPPED, "reason" => "stale").increment(1);
                return Ok(());
            }
            seat.last_pos_seq = Some(seq);
        }
        client
    };
    let Some(handle) = rooms.registry.handle() else {
        return Err(RoomInputRefused {
            code: ErrorCode::ShuttingDown,
            message: "the room simulation is not running",
        });
    };
    let submitted = match input {
        RoomInput::Pose { p, yaw, v, ack, .. } => {
            let moved = handle.input(
                client,
                AvatarInput::Move {
                    position: Vec3::from_array(p),
                    yaw,
                    velocity: Vec3::from_array(v),
                },
            );
            match ack {
                Some(tick) => moved.and_then(|()| handle.ack(client, tick)),
                None => moved,
            }
        }
        RoomInput::Ack { tick } => handle.ack(client, tick),
        RoomInput::Teleport { to } => handle.input(
            client,
            AvatarInput::Teleport {
                to: Vec3::from_array(to),
            },
        ),
    };
    match submitted {
        Ok(()) => Ok(()),
        Err(SubmitError::Busy) => {
            metrics::counter!(telemetry::INPUTS_DROPPED, "reason" => "busy").increment(1);
            Ok(())
        }
        Err(SubmitError::Stopped | SubmitError::Template(_)) => Err(RoomInputRefused {
            code: ErrorCode::ShuttingDown,
            message: "the room simulation is not running",
        }),
    }
}
