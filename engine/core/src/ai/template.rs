//! Prompt templates: text with `{{variable}}` placeholders.
//!
//! A placeholder is `{{`, optional spaces, a name (a letter or `_`, then letters, digits, `_`,
//! `-` or `.`), optional spaces, `}}`. Anything else between braces (`{{ 1 + 1 }}`, `{{}}`) is
//! not a placeholder and stays as it is, so templates may contain code samples. Rendering
//! replaces every placeholder that has a value; a placeholder without one stays in the text
//! verbatim and is reported in [`Rendered::missing`], so a caller can ask the user for it
//! instead of sending a half-filled prompt.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest variable name, in bytes.
pub const MAX_VARIABLE_NAME_BYTES: usize = 64;

/// The result of rendering a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// The text with every known placeholder replaced.
    pub text: String,
    /// Placeholders without a value, each once, in order of first appearance.
    pub missing: Vec<String>,
}

impl Rendered {
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// One piece of a parsed template.
enum Piece<'a> {
    Text(&'a str),
    /// A placeholder: its name and its full source text (to keep it when it has no value).
    Var {
        name: &'a str,
        source: &'a str,
    },
}

/// Splits `body` into text and placeholders.
fn pieces(body: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        let name = after[..close].trim_matches(' ');
        if is_name(name) {
            if open > 0 {
                out.push(Piece::Text(&rest[..open]));
            }
            out.push(Piece::Var {
                name,
                source: &rest[open..open + 2 + close + 2],
            });
            rest = &after[close + 2..];
        } else {
            // Not a placeholder: keep the braces as text and look further on.
            out.push(Piece::Text(&rest[..open + 2]));
            rest = after;
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= MAX_VARIABLE_NAME_BYTES
        && (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The placeholder names of `body`, each once, in order of first appearance.
pub fn variables(body: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for piece in pieces(body) {
        if let Piece::Var { name, .. } = piece
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
    }
    names
}

/// Renders `body` with `values`. Values are inserted as they are (they are not themselves
/// scanned for placeholders, so a value can never inject another variable).
pub fn render(body: &str, values: &BTreeMap<String, String>) -> Rendered {
    let mut text = String::with_capacity(body.len());
    let mut missing: Vec<String> = Vec::new();
    for piece in pieces(body) {
        match piece {
            Piece::Text(t) => text.push_str(t),
            Piece::Var { name, source } => match values.get(name) {
                Some(value) => text.push_str(value),
                None => {
                    text.push_str(source);
                    if !missing.iter().any(|m| m == name) {
                        missing.push(name.to_owned());
                    }
                }
            },
        }
    }
    Rendered { text, missing }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn replaces_known_and_reports_missing() {
        let r = render(
            "Dear {{name}}, about {{ topic }}: {{name}}! {{missing}} {{other}} {{missing}}",
            &vals(&[("name", "Ada"), ("topic", "engines")]),
        );
        assert_eq!(
            r.text,
            "Dear Ada, about engines: Ada! {{missing}} {{other}} {{missing}}"
        );
        assert_eq!(r.missing, vec!["missing", "other"]);
        assert!(!r.is_complete());
    }

    #[test]
    fn non_placeholders_stay_verbatim() {
        let body = "code {{ 1 + 1 }} {{}} {{a}} {{ unclosed";
        let r = render(body, &vals(&[("a", "A")]));
        assert_eq!(r.text, "code {{ 1 + 1 }} {{}} A {{ unclosed");
        assert!(r.is_complete());
        assert_eq!(variables(body), vec!["a"]);
    }

    #[test]
    fn values_cannot_inject_placeholders() {
        let r = render("{{a}} {{b}}", &vals(&[("a", "{{b}}"), ("b", "B")]));
        assert_eq!(r.text, "{{b}} B");
    }

    #[test]
    fn names_follow_the_rules() {
        assert_eq!(
            variables("{{user.name}} {{_x}} {{a-b}} {{9x}} {{a b}} {{ü}}"),
            vec!["user.name", "_x", "a-b"]
        );
        let long = format!("{{{{{}}}}}", "a".repeat(MAX_VARIABLE_NAME_BYTES + 1));
        assert!(variables(&long).is_empty());
        assert_eq!(render("", &BTreeMap::new()).text, "");
        assert_eq!(render("ünï {{x}}", &vals(&[("x", "ç")])).text, "ünï ç");
    }
}
