//! Auto-tagging: keyword rules that put tags such as `billing` or `bug` on a new ticket from its
//! subject and description, in German and English.
//!
//! Matching rules:
//! - case-insensitive, and umlaut-aware: `ä/ö/ü/ß` equal `ae/oe/ue/ss` (see [`words`]), so
//!   "Rückerstattung" matches "RUECKERSTATTUNG";
//! - whole words only: `error` does not match "terror", `bug` does not match "debug";
//! - a keyword of several words is a phrase (`stürzt ab`, `not working`), matched as consecutive
//!   words within the subject or within the description (never across the two);
//! - a trailing `*` makes the last word a prefix (`rechnung*` matches "Rechnungsadresse"), for
//!   German compounds and English plurals; the prefix needs at least
//!   [`MIN_PREFIX_CHARS`] characters.
//!
//! A rule matches if any of its German or English keywords matches; the result is the set of
//! matching rules' tags. Both keyword lists are searched whatever the ticket's language, because
//! people mix them ("Error beim Login").

mod defaults;
mod words;

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

pub use defaults::default_tag_rules;

/// Most rules an organization may configure.
pub const MAX_TAG_RULES: usize = 200;
/// Most keywords (German and English together) per rule.
pub const MAX_KEYWORDS_PER_RULE: usize = 200;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 64;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 32;
/// Shortest prefix a `*` keyword may have (after folding), so `a*` cannot tag everything.
pub const MIN_PREFIX_CHARS: usize = 3;

/// One rule: put `tag` on a ticket whose subject or description contains any of the keywords.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    /// Lowercase ASCII letters, digits, `_` and `-`, e.g. `billing`.
    pub tag: String,
    /// German keywords.
    #[serde(default)]
    pub de: Vec<String>,
    /// English keywords.
    #[serde(default)]
    pub en: Vec<String>,
}

impl TagRule {
    fn keywords(&self) -> impl Iterator<Item = &str> {
        self.de.iter().chain(&self.en).map(String::as_str)
    }
}

/// Why a rule set is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TagRuleError {
    #[error("at most {MAX_TAG_RULES} tagging rules, got {0}")]
    TooManyRules(usize),
    #[error(
        "tag {0:?} is not valid: use 1 to {MAX_TAG_CHARS} lowercase letters, digits, '_' or '-'"
    )]
    BadTag(String),
    #[error("the rule for tag {0:?} has no keywords")]
    NoKeywords(String),
    #[error("the rule for tag {tag:?} has {count} keywords; at most {MAX_KEYWORDS_PER_RULE}")]
    TooManyKeywords { tag: String, count: usize },
    #[error("keyword {keyword:?} of tag {tag:?}: {reason}")]
    BadKeyword {
        tag: String,
        keyword: String,
        reason: &'static str,
    },
}

/// A keyword ready to match: its folded words, the last one maybe a prefix.
#[derive(Debug, PartialEq, Eq)]
struct Keyword {
    head: Vec<String>,
    last: String,
    prefix: bool,
}

impl Keyword {
    fn parse(text: &str) -> Result<Self, &'static str> {
        if text.chars().count() > MAX_KEYWORD_CHARS {
            return Err("too long");
        }
        let trimmed = text.trim();
        let (body, prefix) = match trimmed.strip_suffix('*') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        if body.contains('*') {
            return Err("'*' is only allowed once, at the end");
        }
        if prefix && !body.ends_with(char::is_alphanumeric) {
            return Err("'*' must follow a letter or digit directly");
        }
        let mut head = words::words(body);
        let Some(last) = head.pop() else {
            return Err("contains no word");
        };
        if prefix && last.chars().count() < MIN_PREFIX_CHARS {
            return Err("a prefix before '*' needs at least 3 letters");
        }
        Ok(Self { head, last, prefix })
    }

    /// Whether the keyword occurs in the words of one text.
    fn occurs_in(&self, text: &Text<'_>) -> bool {
        if self.head.is_empty() && !self.prefix {
            return text.vocabulary.contains(self.last.as_str());
        }
        let n = self.head.len() + 1;
        text.words
            .windows(n)
            .any(|window| window[..n - 1] == self.head[..] && self.last_matches(&window[n - 1]))
    }

    fn last_matches(&self, word: &str) -> bool {
        if self.prefix {
            word.starts_with(self.last.as_str())
        } else {
            word == self.last
        }
    }
}

/// The words of one text plus a set of them for fast single-word lookups.
struct Text<'a> {
    words: &'a [String],
    vocabulary: HashSet<&'a str>,
}

impl<'a> Text<'a> {
    fn new(words: &'a [String]) -> Self {
        Self {
            words,
            vocabulary: words.iter().map(String::as_str).collect(),
        }
    }
}

/// The tags whose rules match the subject or the description. Keywords that are not valid (see
/// [`validate_tag_rules`]) never match.
pub fn auto_tags(subject: &str, description: &str, rules: &[TagRule]) -> BTreeSet<String> {
    let (subject, description) = (words::words(subject), words::words(description));
    let texts = [Text::new(&subject), Text::new(&description)];
    rules
        .iter()
        .filter(|rule| {
            rule.keywords()
                .filter_map(|k| Keyword::parse(k).ok())
                .any(|k| texts.iter().any(|t| k.occurs_in(t)))
        })
        .map(|rule| rule.tag.clone())
        .collect()
}

/// Checks a rule set before it is saved: limits, tag syntax, and every keyword.
pub fn validate_tag_rules(rules: &[TagRule]) -> Result<(), TagRuleError> {
    if rules.len() > MAX_TAG_RULES {
        return Err(TagRuleError::TooManyRules(rules.len()));
    }
    for rule in rules {
        let tag_ok = !rule.tag.is_empty()
            && rule.tag.len() <= MAX_TAG_CHARS
            && rule
                .tag
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !tag_ok {
            return Err(TagRuleError::BadTag(rule.tag.clone()));
        }
        let count = rule.de.len() + rule.en.len();
        if count == 0 {
            return Err(TagRuleError::NoKeywords(rule.tag.clone()));
        }
        if count > MAX_KEYWORDS_PER_RULE {
            return Err(TagRuleError::TooManyKeywords {
                tag: rule.tag.clone(),
                count,
            });
        }
        for keyword in rule.keywords() {
            Keyword::parse(keyword).map_err(|reason| TagRuleError::BadKeyword {
                tag: rule.tag.clone(),
                keyword: keyword.to_owned(),
                reason,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
