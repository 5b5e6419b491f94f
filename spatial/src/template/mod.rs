//! Room templates: the shape of a room as data.
//!
//! A template says where a room's walls are, where people appear and sit, which areas are stages
//! or private, how sound carries and how many may enter. Conference rooms, classrooms, theaters
//! and galleries are TOML files in `spatial/templates/`; a custom room is the same structure
//! supplied by the caller (parsed from TOML, JSON or a database row). The simulation has no code
//! path per template: it only reads these fields.

mod catalog;

pub use catalog::{BUILTIN_TEMPLATE_FILES, TemplateCatalog, builtin_templates};

use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audio::PannerParams;

/// The largest room edge, in metres. Keeps quantised coordinates within 24 bits.
pub const MAX_ROOM_EXTENT: f32 = 10_000.0;

/// The most avatars a template may admit.
pub const MAX_ROOM_CAPACITY: u32 = 5_000;

/// The most seats, spawn points or zones a template may list (indexes travel as `u16`).
pub const MAX_TEMPLATE_ITEMS: usize = 4_096;

/// Longest template name, in bytes.
pub const MAX_TEMPLATE_NAME: usize = 64;

/// Two seats closer than this (metres) would put two people on one chair.
pub const MIN_SEAT_SPACING: f32 = 0.3;

/// A room's description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomTemplate {
    /// Identifier: lowercase letters, digits, `-` and `_` (e.g. `"theater"`).
    pub name: String,
    /// Human-readable title.
    #[serde(default)]
    pub title: String,
    /// Most avatars at once; a join beyond it is refused.
    pub capacity: u32,
    /// Joining avatars take the first free seat (falling back to a spawn point).
    #[serde(default)]
    pub auto_seat: bool,
    /// The walkable box. Every position is clamped into it.
    pub bounds: Bounds,
    /// How far (metres) a spatial source carries before it is culled to silence.
    pub audible_range: f32,
    /// `PannerNode` attributes every client should use for this room.
    #[serde(default)]
    pub audio: PannerParams,
    /// Where avatars appear; also valid teleport targets. At least one.
    pub spawn_points: Vec<Placement>,
    /// Seats: teleport targets that one avatar occupies at a time.
    #[serde(default)]
    pub seats: Vec<Placement>,
    /// Stages, private areas and plain named areas.
    #[serde(default)]
    pub zones: Vec<Zone>,
}

/// An axis-aligned box, metres. +Y is up; the floor is the X–Z plane.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Lowest corner.
    pub min: Vec3,
    /// Highest corner.
    pub max: Vec3,
}

impl Bounds {
    /// Whether `p` lies inside (edges included).
    pub fn contains(&self, p: Vec3) -> bool {
        p.cmpge(self.min).all() && p.cmple(self.max).all()
    }

    /// The nearest point inside.
    pub fn clamp(&self, p: Vec3) -> Vec3 {
        p.clamp(self.min, self.max)
    }

    /// Edge lengths.
    pub fn size(&self) -> Vec3 {
        self.max - self.min
    }
}

/// A spot with a facing: a seat or a spawn point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Optional label shown by clients ("Front row 3", "Exhibit: Sunflowers").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Where the avatar stands or sits.
    pub position: Vec3,
    /// Facing in degrees (0 looks down −Z, counter-clockwise from above), converted to radians
    /// when placed.
    #[serde(default)]
    pub yaw_deg: f32,
}

impl Placement {
    /// Facing in radians.
    pub fn yaw(&self) -> f32 {
        self.yaw_deg.to_radians()
    }
}

/// What a zone does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneKind {
    /// Whoever stands here is heard by the whole room at full gain and seen by everyone.
    Stage,
    /// Whoever stands here hears and is heard only by others inside.
    Private,
    /// A named area with no effect on the simulation (for clients: exhibits, lobbies…).
    Area,
}

/// A rectangle on the floor (X–Z), covering all heights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Name shown by clients.
    pub name: String,
    /// Effect.
    pub kind: ZoneKind,
    /// Lowest corner as `[x, z]`.
    pub min: Vec2,
    /// Highest corner as `[x, z]`.
    pub max: Vec2,
}

impl Zone {
    /// Whether a position stands inside (edges included).
    pub fn contains(&self, p: Vec3) -> bool {
        let floor = Vec2::new(p.x, p.z);
        floor.cmpge(self.min).all() && floor.cmple(self.max).all()
    }

    fn overlaps(&self, other: &Zone) -> bool {
        self.min.cmplt(other.max).all() && other.min.cmplt(self.max).all()
    }
}

/// Why a template is unusable. Messages name the offending item so an author can fix the file.
#[derive(Debug, Error, PartialEq)]
pub enum TemplateError {
    /// Not valid TOML, or fields of the wrong type or unknown fields.
    #[error("template is not well-formed: {0}")]
    Parse(String),
    /// Well-formed but inconsistent.
    #[error("template `{template}` is invalid: {reason}")]
    Invalid {
        /// The template's name (possibly empty).
        template: String,
        /// What is wrong.
        reason: String,
    },
}

impl RoomTemplate {
    /// Parses and validates a TOML template.
    pub fn from_toml(text: &str) -> Result<Self, TemplateError> {
        let template: RoomTemplate =
            toml::from_str(text).map_err(|e| TemplateError::Parse(e.to_string()))?;
        template.validate()?;
        Ok(template)
    }

    /// The index of the stage or private zone containing `p` (first match), for audio.
    pub fn zone_presence(&self, p: Vec3) -> crate::audio::ZonePresence {
        let mut presence = crate::audio::ZonePresence::default();
        for (index, zone) in self.zones.iter().enumerate() {
            if !zone.contains(p) {
                continue;
            }
            match zone.kind {
                ZoneKind::Stage => presence.on_stage = true,
                ZoneKind::Private => {
                    if presence.private_zone.is_none() {
                        presence.private_zone = u16::try_from(index).ok();
                    }
                }
                ZoneKind::Area => {}
            }
        }
        presence
    }

    /// Checks everything the simulation relies on. Run on every template, built-in or custom,
    /// before a room uses it.
    pub fn validate(&self) -> Result<(), TemplateError> {
        let fail = |reason: String| TemplateError::Invalid {
            template: self.name.clone(),
            reason,
        };
        let name_ok = !self.name.is_empty()
            && self.name.len() <= MAX_TEMPLATE_NAME
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(fail(format!(
                "name must be 1..={MAX_TEMPLATE_NAME} characters of a-z, 0-9, '-' or '_'"
            )));
        }
        if self.capacity == 0 || self.capacity > MAX_ROOM_CAPACITY {
            return Err(fail(format!(
                "capacity must be in 1..={MAX_ROOM_CAPACITY}, got {}",
                self.capacity
            )));
        }
        let b = self.bounds;
        if !(b.min.is_finite() && b.max.is_finite()) {
            return Err(fail("bounds must be finite".into()));
        }
        let size = b.size();
        if !(size.cmpgt(Vec3::ZERO).all() && size.cmple(Vec3::splat(MAX_ROOM_EXTENT)).all()) {
            return Err(fail(format!(
                "bounds must have min < max on every axis and edges ≤ {MAX_ROOM_EXTENT} m"
            )));
        }
        if !(self.audible_range.is_finite() && self.audible_range > 0.0) {
            return Err(fail(
                "audible_range must be a positive number of metres".into(),
            ));
        }
        self.audio.validate().map_err(fail)?;
        if self.spawn_points.is_empty() {
            return Err(fail("at least one spawn point is required".into()));
        }
        for (what, list) in [("spawn point", &self.spawn_points), ("seat", &self.seats)] {
            if list.len() > MAX_TEMPLATE_ITEMS {
                return Err(fail(format!("more than {MAX_TEMPLATE_ITEMS} {what}s")));
            }
            for (i, place) in list.iter().enumerate() {
                if !place.position.is_finite() || !place.yaw_deg.is_finite() {
                    return Err(fail(format!("{what} {i} has a non-finite position or yaw")));
                }
                if !b.contains(place.position) {
                    return Err(fail(format!(
                        "{what} {i} at {} lies outside the bounds",
                        place.position
                    )));
                }
            }
        }
        for (i, a) in self.seats.iter().enumerate() {
            for (j, other) in self.seats.iter().enumerate().skip(i + 1) {
                if a.position.distance(other.position) < MIN_SEAT_SPACING {
                    return Err(fail(format!(
                        "seats {i} and {j} are closer than {MIN_SEAT_SPACING} m"
                    )));
                }
            }
        }
        if self.zones.len() > MAX_TEMPLATE_ITEMS {
            return Err(fail(format!("more than {MAX_TEMPLATE_ITEMS} zones")));
        }
        let floor_min = Vec2::new(b.min.x, b.min.z);
        let floor_max = Vec2::new(b.max.x, b.max.z);
        for (i, zone) in self.zones.iter().enumerate() {
            if !(zone.min.is_finite() && zone.max.is_finite()) || zone.min.cmpge(zone.max).any() {
                return Err(fail(format!(
                    "zone {i} (`{}`) must have min < max on x and z",
                    zone.name
                )));
            }
            if zone.min.cmplt(floor_min).any() || zone.max.cmpgt(floor_max).any() {
                return Err(fail(format!(
                    "zone {i} (`{}`) reaches outside the bounds",
                    zone.name
                )));
            }
        }
        // A private zone must not overlap another private zone or a stage: each avatar then has
        // one unambiguous audio zone.
        for (i, a) in self.zones.iter().enumerate() {
            for (j, other) in self.zones.iter().enumerate().skip(i + 1) {
                let private_involved =
                    a.kind == ZoneKind::Private || other.kind == ZoneKind::Private;
                let area_involved = a.kind == ZoneKind::Area || other.kind == ZoneKind::Area;
                if private_involved && !area_involved && a.overlaps(other) {
                    return Err(fail(format!(
                        "zone {i} (`{}`) overlaps zone {j} (`{}`); private zones may not \
                         overlap stages or other private zones",
                        a.name, other.name
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        name = "tiny"
        capacity = 2
        audible_range = 10.0
        bounds = { min = [0.0, 0.0, 0.0], max = [4.0, 3.0, 4.0] }
        spawn_points = [{ position = [1.0, 0.0, 1.0] }]
    "#;

    #[test]
    fn a_minimal_custom_template_parses_with_spec_audio_defaults() {
        let t = RoomTemplate::from_toml(MINIMAL).unwrap();
        assert_eq!(t.audio, PannerParams::default());
        assert!(t.seats.is_empty());
    }

    fn with(edit: impl FnOnce(&mut RoomTemplate)) -> Result<(), TemplateError> {
        let mut t = RoomTemplate::from_toml(MINIMAL).unwrap();
        edit(&mut t);
        t.validate()
    }

    fn seat(x: f32, z: f32) -> Placement {
        Placement {
            label: String::new(),
            position: Vec3::new(x, 0.0, z),
            yaw_deg: 0.0,
        }
    }

    fn zone(kind: ZoneKind, min: [f32; 2], max: [f32; 2]) -> Zone {
        Zone {
            name: "z".into(),
            kind,
            min: Vec2::from(min),
            max: Vec2::from(max),
        }
    }

    #[test]
    fn inconsistent_templates_are_refused() {
        assert!(
            with(|t| t.seats.push(seat(9.0, 1.0))).is_err(),
            "seat outside"
        );
        assert!(with(|t| t.spawn_points.clear()).is_err(), "no spawn");
        assert!(with(|t| t.capacity = 0).is_err());
        assert!(with(|t| t.name = "Bad Name".into()).is_err());
        assert!(with(|t| t.bounds.max.x = -1.0).is_err(), "inverted bounds");
        assert!(with(|t| t.audible_range = 0.0).is_err());
        assert!(with(|t| t.audio.cone_outer_gain = 2.0).is_err());
        assert!(
            with(|t| {
                t.seats.push(seat(1.0, 1.0));
                t.seats.push(seat(1.1, 1.0));
            })
            .is_err(),
            "stacked seats"
        );
        assert!(
            with(|t| t.zones.push(zone(ZoneKind::Stage, [0.0, 0.0], [5.0, 1.0]))).is_err(),
            "zone outside"
        );
        assert!(
            with(|t| {
                t.zones.push(zone(ZoneKind::Stage, [0.0, 0.0], [2.0, 2.0]));
                t.zones
                    .push(zone(ZoneKind::Private, [1.0, 1.0], [3.0, 3.0]));
            })
            .is_err(),
            "private overlapping a stage"
        );
        assert!(
            with(|t| {
                t.zones.push(zone(ZoneKind::Area, [0.0, 0.0], [2.0, 2.0]));
                t.zones
                    .push(zone(ZoneKind::Private, [1.0, 1.0], [3.0, 3.0]));
            })
            .is_ok(),
            "areas may overlap anything"
        );
    }

    #[test]
    fn unknown_fields_and_bad_toml_are_parse_errors() {
        let extra = format!("{MINIMAL}\nflying = true\n");
        assert!(matches!(
            RoomTemplate::from_toml(&extra),
            Err(TemplateError::Parse(_))
        ));
        assert!(matches!(
            RoomTemplate::from_toml("name = "),
            Err(TemplateError::Parse(_))
        ));
    }

    #[test]
    fn zone_presence_reports_stage_and_private() {
        let mut t = RoomTemplate::from_toml(MINIMAL).unwrap();
        t.zones.push(zone(ZoneKind::Stage, [0.0, 0.0], [1.0, 1.0]));
        t.zones
            .push(zone(ZoneKind::Private, [3.0, 3.0], [4.0, 4.0]));
        t.validate().unwrap();
        assert!(t.zone_presence(Vec3::new(0.5, 0.0, 0.5)).on_stage);
        assert_eq!(
            t.zone_presence(Vec3::new(3.5, 1.0, 3.5)).private_zone,
            Some(1)
        );
        assert_eq!(
            t.zone_presence(Vec3::new(2.0, 0.0, 2.0)),
            crate::audio::ZonePresence::default()
        );
    }
}
