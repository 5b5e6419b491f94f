//! Turning a stored room into the template its simulation runs.
//!
//! A room row names a catalog template and may carry `template_data`: a JSON merge patch
//! (RFC 7396) over that template (a new title, other audio settings), or, for the template
//! `custom`, the whole template. The room's own capacity replaces the template's. Whatever comes
//! out is validated exactly like a built-in template.

use std::path::Path;

use serde_json::Value;

use atrium_core::model::{CUSTOM_ROOM_TEMPLATE, Room};
use atrium_spatial::{RoomTemplate, TemplateCatalog, TemplateError};

/// Why a room's template cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RoomTemplateError {
    #[error("unknown template `{0}`")]
    Unknown(String),
    #[error("a custom room needs its whole template in `template_data`")]
    MissingCustom,
    #[error("template data does not describe a template: {0}")]
    Data(String),
    #[error(transparent)]
    Invalid(#[from] TemplateError),
}

/// The template a room runs with.
pub fn resolve(
    catalog: &TemplateCatalog,
    template: &str,
    data: Option<&Value>,
    capacity: u32,
) -> Result<RoomTemplate, RoomTemplateError> {
    let mut resolved: RoomTemplate = if template == CUSTOM_ROOM_TEMPLATE {
        let data = data.ok_or(RoomTemplateError::MissingCustom)?;
        serde_json::from_value(data.clone()).map_err(|e| RoomTemplateError::Data(e.to_string()))?
    } else {
        let base = catalog
            .get(template)
            .ok_or_else(|| RoomTemplateError::Unknown(template.to_owned()))?;
        match data {
            None => base.as_ref().clone(),
            Some(patch) => {
                let mut value = serde_json::to_value(base.as_ref())
                    .map_err(|e| RoomTemplateError::Data(e.to_string()))?;
                merge_patch(&mut value, patch);
                serde_json::from_value(value).map_err(|e| RoomTemplateError::Data(e.to_string()))?
            }
        }
    };
    resolved.capacity = capacity;
    resolved.validate()?;
    Ok(resolved)
}

/// The template of a stored room.
pub fn resolve_room(
    catalog: &TemplateCatalog,
    room: &Room,
) -> Result<RoomTemplate, RoomTemplateError> {
    resolve(
        catalog,
        &room.template,
        room.template_data.as_ref(),
        room.capacity,
    )
}

/// RFC 7396: objects merge key by key, `null` removes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Most template files read from a templates directory.
pub const MAX_TEMPLATE_FILES: usize = 1_000;
/// Largest template file read, in bytes.
pub const MAX_TEMPLATE_FILE_BYTES: u64 = 1024 * 1024;

/// The built-in templates plus every `*.toml` file in `dir` (a file may replace a built-in
/// template by using its name). Any unreadable or invalid file is an error naming it: a node
/// does not start with a template it silently ignored.
pub fn load_catalog(dir: Option<&Path>) -> Result<TemplateCatalog, String> {
    let mut catalog = TemplateCatalog::builtin().map_err(|e| format!("built-in templates: {e}"))?;
    let Some(dir) = dir else {
        return Ok(catalog);
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("templates directory {}: {e}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    if files.len() > MAX_TEMPLATE_FILES {
        return Err(format!(
            "templates directory {} holds {} templates; the limit is {MAX_TEMPLATE_FILES}",
            dir.display(),
            files.len()
        ));
    }
    for path in files {
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > MAX_TEMPLATE_FILE_BYTES {
            return Err(format!(
                "{}: {size} bytes; the limit is {MAX_TEMPLATE_FILE_BYTES}",
                path.display()
            ));
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let template =
            RoomTemplate::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        catalog
            .insert(template)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1, 2]});
        merge_patch(&mut target, &json!({"a": [3]}));
        assert_eq!(target, json!({"a": [3]}));
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let catalog = TemplateCatalog::builtin().unwrap();
        let theater = resolve(
            &catalog,
            "theater",
            Some(&json!({"title": "Town hall", "audio": {"rolloff_factor": 2.0}})),
            20,
        )
        .unwrap();
        assert_eq!(theater.title, "Town hall");
        assert_eq!(theater.audio.rolloff_factor, 2.0);
        assert_eq!(theater.capacity, 20, "the room's capacity wins");
        assert_eq!(theater.seats.len(), 72, "everything else is the template's");

        let broken = resolve(&catalog, "theater", Some(&json!({"spawn_points": []})), 20);
        assert!(
            matches!(broken, Err(RoomTemplateError::Invalid(_))),
            "{broken:?}"
        );
        let typo = resolve(&catalog, "theater", Some(&json!({"flying": true})), 20);
        assert!(matches!(typo, Err(RoomTemplateError::Data(_))), "{typo:?}");
        assert_eq!(
            resolve(&catalog, "castle", None, 20),
            Err(RoomTemplateError::Unknown("castle".into()))
        );
    }

    #[test]
    fn custom_rooms_carry_their_whole_template() {
        let catalog = TemplateCatalog::builtin().unwrap();
        let data = json!({
            "name": "booth",
            "capacity": 4,
            "audible_range": 5.0,
            "bounds": {"min": [0.0, 0.0, 0.0], "max": [4.0, 3.0, 4.0]},
            "spawn_points": [{"position": [1.0, 0.0, 1.0]}]
        });
        let booth = resolve(&catalog, "custom", Some(&data), 3).unwrap();
        assert_eq!(booth.name, "booth");
        assert_eq!(booth.capacity, 3);
        assert_eq!(
            resolve(&catalog, "custom", None, 3),
            Err(RoomTemplateError::MissingCustom)
        );
    }

    #[test]
    fn a_templates_directory_adds_and_replaces_templates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("booth.toml"),
            "name = \"booth\"\ncapacity = 4\naudible_range = 5.0\n\
             bounds = { min = [0.0, 0.0, 0.0], max = [4.0, 3.0, 4.0] }\n\
             spawn_points = [{ position = [1.0, 0.0, 1.0] }]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a template").unwrap();
        let catalog = load_catalog(Some(dir.path())).unwrap();
        assert!(catalog.get("booth").is_some());
        assert!(catalog.get("theater").is_some());
        std::fs::write(dir.path().join("bad.toml"), "name = \"bad\"\n").unwrap();
        let err = load_catalog(Some(dir.path())).unwrap_err();
        assert!(err.contains("bad.toml"), "{err}");
        assert!(load_catalog(Some(&dir.path().join("missing"))).is_err());
    }
}
