//! Helpers shared by the integration tests: a simulated room client that decodes and applies
//! snapshots the way a browser would, and output filters.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use atrium_spatial::snapshot::{
    DeltaError, EncodedSnapshot, View, apply_snapshot, decode_part, quantize_position, quantize_yaw,
};
use atrium_spatial::{
    AvatarId, ClientId, GainUpdate, JoinedRoom, RoomId, RoomTemplate, Simulation, SpatialConfig,
    SpatialInput, SpatialOutput, TemplateCatalog, Tick, TickOutputs,
};

pub fn template(name: &str) -> Arc<RoomTemplate> {
    TemplateCatalog::builtin()
        .expect("built-in templates load")
        .get(name)
        .expect("template exists")
}

pub fn simulation(config: SpatialConfig) -> Simulation {
    Simulation::new(config).expect("valid config")
}

/// Creates a room from a built-in template and runs the tick that opens it.
pub fn open_room(sim: &mut Simulation, name: &str) -> RoomId {
    let room = RoomId::new();
    sim.submit(SpatialInput::CreateRoom {
        room,
        template: template(name),
    });
    sim.step();
    room
}

pub fn for_client(outputs: &TickOutputs, client: ClientId) -> Vec<&SpatialOutput> {
    outputs
        .outputs
        .iter()
        .filter(|a| a.client == client)
        .map(|a| &a.output)
        .collect()
}

pub fn joined(outputs: &TickOutputs, client: ClientId) -> Option<JoinedRoom> {
    for_client(outputs, client)
        .into_iter()
        .find_map(|o| match o {
            SpatialOutput::Joined(j) => Some(j.clone()),
            _ => None,
        })
}

pub fn gains(outputs: &TickOutputs, client: ClientId) -> Option<GainUpdate> {
    for_client(outputs, client)
        .into_iter()
        .find_map(|o| match o {
            SpatialOutput::Gains(g) => Some(g.clone()),
            _ => None,
        })
}

pub fn snapshot(outputs: &TickOutputs, client: ClientId) -> Option<EncodedSnapshot> {
    for_client(outputs, client)
        .into_iter()
        .find_map(|o| match o {
            SpatialOutput::Snapshot(s) => Some(s.snapshot.clone()),
            _ => None,
        })
}

/// A client's side of the snapshot protocol: decode every part, apply it to the baseline view
/// it holds, keep the result by tick.
pub struct Mirror {
    pub client: ClientId,
    pub views: BTreeMap<Tick, View>,
    pub latest: Option<Tick>,
}

impl Mirror {
    pub fn new(client: ClientId) -> Self {
        Self {
            client,
            views: BTreeMap::new(),
            latest: None,
        }
    }

    /// Applies this client's snapshot from a tick's outputs, if any; returns its tick.
    pub fn receive(&mut self, outputs: &TickOutputs) -> Result<Option<Tick>, DeltaError> {
        let Some(encoded) = snapshot(outputs, self.client) else {
            return Ok(None);
        };
        let parts: Vec<_> = encoded
            .parts
            .iter()
            .map(|bytes| decode_part(bytes).expect("server snapshots decode"))
            .collect();
        let view = apply_snapshot(|tick| self.views.get(&tick), &parts)?;
        self.views.insert(encoded.tick, view);
        self.latest = Some(encoded.tick);
        Ok(Some(encoded.tick))
    }

    pub fn latest_view(&self) -> &View {
        self.latest
            .and_then(|t| self.views.get(&t))
            .expect("a snapshot was received")
    }

    pub fn sees(&self, avatar: AvatarId) -> bool {
        self.latest_view().get(avatar).is_some()
    }
}

/// Checks a client's reconstructed view against the simulation's own state, exactly (after
/// quantisation): every avatar in the view is where the server holds it.
pub fn assert_view_matches(
    sim: &Simulation,
    view: &View,
    who: &[(ClientId, AvatarId)],
    template: &RoomTemplate,
) {
    for state in view.states() {
        let (client, _) = who
            .iter()
            .find(|(_, a)| *a == state.id)
            .expect("every avatar in a view is known");
        let truth = sim.avatar(*client).expect("avatar exists");
        let [x, y, z] = quantize_position(&template.bounds, truth.position);
        assert_eq!(
            (state.x, state.y, state.z),
            (x, y, z),
            "position of {:?}",
            state.id
        );
        assert_eq!(state.yaw, quantize_yaw(truth.yaw), "yaw of {:?}", state.id);
    }
}

/// A client's current gains, kept up to date from gain updates (0 removes a source).
#[derive(Default, Debug)]
pub struct GainBook(pub BTreeMap<AvatarId, f32>);

impl GainBook {
    pub fn update(&mut self, outputs: &TickOutputs, client: ClientId) {
        if let Some(update) = gains(outputs, client) {
            for g in update.gains {
                if g.gain == 0.0 {
                    self.0.remove(&g.avatar);
                } else {
                    self.0.insert(g.avatar, g.gain);
                }
            }
        }
    }

    pub fn get(&self, avatar: AvatarId) -> Option<f32> {
        self.0.get(&avatar).copied()
    }
}
