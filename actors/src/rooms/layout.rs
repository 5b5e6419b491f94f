//! The wire description of a room (`room.join`'s `room`), made from its template.

use atrium_core::model::Room;
use atrium_core::protocol::{AudioParams, RoomInfo, RoomLayout, Spot, ZoneInfo};
use atrium_spatial::RoomTemplate;
use atrium_spatial::audio::DistanceModel;
use atrium_spatial::template::{Placement, ZoneKind};

/// What `room.join` tells a client about `room`, running `template`.
pub fn room_info(room: &Room, template: &RoomTemplate) -> RoomInfo {
    RoomInfo {
        id: room.id,
        name: room.name.clone(),
        template: room.template.clone(),
        channel: room.channel_id,
        capacity: template.capacity,
        layout: layout(template),
    }
}

/// Geometry and audio of a template, in wire units (metres, radians).
pub fn layout(template: &RoomTemplate) -> RoomLayout {
    let audio = &template.audio;
    RoomLayout {
        title: template.title.clone(),
        bounds: [
            template.bounds.min.to_array(),
            template.bounds.max.to_array(),
        ],
        audible_range: template.audible_range,
        audio: AudioParams {
            distance_model: match audio.distance_model {
                DistanceModel::Linear => "linear",
                DistanceModel::Inverse => "inverse",
                DistanceModel::Exponential => "exponential",
            }
            .to_owned(),
            ref_distance: audio.ref_distance,
            max_distance: audio.max_distance,
            rolloff_factor: audio.rolloff_factor,
            cone_inner_angle: audio.cone_inner_angle,
            cone_outer_angle: audio.cone_outer_angle,
            cone_outer_gain: audio.cone_outer_gain,
        },
        spawn_points: template.spawn_points.iter().map(spot).collect(),
        seats: template.seats.iter().map(spot).collect(),
        zones: template
            .zones
            .iter()
            .map(|zone| ZoneInfo {
                name: zone.name.clone(),
                kind: match zone.kind {
                    ZoneKind::Stage => "stage",
                    ZoneKind::Private => "private",
                    ZoneKind::Area => "area",
                }
                .to_owned(),
                min: zone.min.to_array(),
                max: zone.max.to_array(),
            })
            .collect(),
    }
}

fn spot(place: &Placement) -> Spot {
    Spot {
        p: place.position.to_array(),
        yaw: place.yaw(),
        label: place.label.clone(),
    }
}
