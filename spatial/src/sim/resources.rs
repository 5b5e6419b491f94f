//! Resources: simulation-wide state.

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;

use crate::config::SpatialConfig;
use crate::hash::FastMap;
use crate::ids::{ClientId, RoomId, Tick};
use crate::messages::{Addressed, RoomEvent, RoomNotice, SpatialInput, SpatialOutput};

/// The configuration, validated.
#[derive(Resource)]
pub(crate) struct Settings(pub SpatialConfig);

/// The tick being computed.
#[derive(Resource, Default)]
pub(crate) struct SimTick(pub Tick);

/// Inputs queued for the next tick, in arrival order.
#[derive(Resource, Default)]
pub(crate) struct Inbox(pub Vec<SpatialInput>);

/// Outputs of the tick being computed.
#[derive(Resource, Default)]
pub(crate) struct Outbox {
    pub outputs: Vec<Addressed>,
    pub notices: Vec<RoomNotice>,
}

impl Outbox {
    pub fn send(&mut self, client: ClientId, output: SpatialOutput) {
        self.outputs.push(Addressed { client, output });
    }

    /// Sends an event to every member, optionally skipping one client (the subject).
    pub fn broadcast(
        &mut self,
        members: &[(Entity, ClientId)],
        event: &RoomEvent,
        skip: Option<ClientId>,
    ) {
        for (_, client) in members {
            if Some(*client) != skip {
                self.send(*client, SpatialOutput::Event(event.clone()));
            }
        }
    }
}

/// Id → entity lookups.
#[derive(Resource, Default)]
pub(crate) struct Directory {
    pub rooms: FastMap<RoomId, Entity>,
    pub clients: FastMap<ClientId, Entity>,
}

/// Running totals since the simulation started (also exported as metrics).
#[derive(Resource, Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Inputs corrected (each correction reason counts once).
    pub corrections: u64,
    /// Inputs ignored: from clients without an avatar, or acknowledgements of unknown ticks.
    pub ignored_inputs: u64,
    /// Full snapshots sent.
    pub full_snapshots: u64,
    /// Delta snapshots sent (keepalives included).
    pub delta_snapshots: u64,
    /// Snapshots flagged for a stream because they needed too many datagrams.
    pub stream_snapshots: u64,
    /// Encoded snapshot bytes sent.
    pub snapshot_bytes: u64,
    /// Gain updates sent.
    pub gain_updates: u64,
}
