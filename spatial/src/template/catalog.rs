//! The built-in templates (compiled in from `spatial/templates/*.toml`) and a catalog that also
//! holds the caller's custom ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{RoomTemplate, TemplateError};

/// The shipped template files, as `(file name, contents)`.
pub const BUILTIN_TEMPLATE_FILES: &[(&str, &str)] = &[
    (
        "conference.toml",
        include_str!("../../templates/conference.toml"),
    ),
    (
        "classroom.toml",
        include_str!("../../templates/classroom.toml"),
    ),
    ("theater.toml", include_str!("../../templates/theater.toml")),
    ("gallery.toml", include_str!("../../templates/gallery.toml")),
];

/// Parses and validates every built-in template.
pub fn builtin_templates() -> Result<Vec<RoomTemplate>, TemplateError> {
    BUILTIN_TEMPLATE_FILES
        .iter()
        .map(|(_, text)| RoomTemplate::from_toml(text))
        .collect()
}

/// Templates by name: what `GET /api/v1/rooms/templates` lists and what room creation resolves
/// a template name against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateCatalog {
    templates: BTreeMap<String, Arc<RoomTemplate>>,
}

impl TemplateCatalog {
    /// A catalog holding the built-in templates.
    pub fn builtin() -> Result<Self, TemplateError> {
        let mut catalog = Self::default();
        for template in builtin_templates()? {
            catalog.insert(template)?;
        }
        Ok(catalog)
    }

    /// Adds (or replaces) a template after validating it.
    pub fn insert(&mut self, template: RoomTemplate) -> Result<Arc<RoomTemplate>, TemplateError> {
        template.validate()?;
        let template = Arc::new(template);
        self.templates
            .insert(template.name.clone(), Arc::clone(&template));
        Ok(template)
    }

    /// The template with this name.
    pub fn get(&self, name: &str) -> Option<Arc<RoomTemplate>> {
        self.templates.get(name).cloned()
    }

    /// All templates, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<RoomTemplate>> {
        self.templates.values()
    }

    /// How many templates there are.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use glam::Vec3;

    use super::*;
    use crate::template::ZoneKind;

    #[test]
    fn every_builtin_template_loads_and_validates() {
        let catalog = TemplateCatalog::builtin().unwrap();
        let names: Vec<&str> = catalog.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["classroom", "conference", "gallery", "theater"]);
        for (file, _) in BUILTIN_TEMPLATE_FILES {
            let stem = file.trim_end_matches(".toml");
            assert!(
                catalog.get(stem).is_some(),
                "{file} must define name = \"{stem}\""
            );
        }
    }

    #[test]
    fn builtin_templates_have_their_defining_features() {
        let catalog = TemplateCatalog::builtin().unwrap();
        let get = |name: &str| catalog.get(name).unwrap();
        for t in catalog.iter() {
            for place in t.seats.iter().chain(&t.spawn_points) {
                assert!(t.bounds.contains(place.position), "{}: {place:?}", t.name);
            }
            assert!(
                t.seats.len() <= t.capacity as usize,
                "{}: more seats than capacity",
                t.name
            );
        }
        let has_zone = |name: &str, kind| get(name).zones.iter().any(|z| z.kind == kind);
        assert!(get("conference").seats.len() >= 8, "a table with seats");
        assert!(has_zone("classroom", ZoneKind::Stage), "a front stage");
        assert!(has_zone("theater", ZoneKind::Stage), "a stage");
        assert!(get("theater").seats.len() >= 50, "an audience");
        assert!(!get("gallery").auto_seat, "free roam");
        assert!(get("gallery").spawn_points.len() > 1, "exhibit spots");

        // Classroom desks face the stage: their facing points towards −Z, where the stage is.
        let classroom = get("classroom");
        for seat in &classroom.seats {
            let facing = crate::audio::facing(seat.yaw());
            assert!(facing.dot(Vec3::NEG_Z) > 0.99, "{seat:?}");
            assert!(!classroom.zone_presence(seat.position).on_stage);
        }
    }

    #[test]
    fn a_custom_template_joins_the_catalog_only_if_valid() {
        let mut catalog = TemplateCatalog::builtin().unwrap();
        let mut custom = catalog.get("conference").unwrap().as_ref().clone();
        custom.name = "boardroom".into();
        custom.capacity = 6;
        catalog.insert(custom.clone()).unwrap();
        assert_eq!(catalog.get("boardroom").unwrap().capacity, 6);
        custom.name = "broken".into();
        custom.spawn_points.clear();
        assert!(catalog.insert(custom).is_err());
        assert!(catalog.get("broken").is_none());
    }
}
