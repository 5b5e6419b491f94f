//! Turning what a user types into a search box into an SQLite FTS5 query.
//!
//! PostgreSQL has `websearch_to_tsquery`, which accepts any text and understands `"phrases"`,
//! `-excluded` words and `or`. FTS5 has no such function and rejects malformed queries with an
//! error, so user text must never reach `MATCH` as is. This module parses the same small
//! language and emits a well-formed FTS5 expression in which every word is a quoted string, so
//! no character the user types can act as FTS5 syntax.
//!
//! Precedence matches `websearch_to_tsquery`: words next to each other are ANDed, `or` binds
//! loosest, and `-word` excludes within its AND group. A group with only exclusions cannot be
//! expressed in FTS5 (there is no "everything except"), so it is dropped; a query left with
//! nothing matches nothing.

/// One term of the query: a word or a quoted phrase, possibly excluded.
#[derive(Debug, PartialEq)]
struct Term {
    text: String,
    excluded: bool,
}

/// The FTS5 expression for `input`, or `None` if nothing searchable is left.
pub(crate) fn to_fts5(input: &str) -> Option<String> {
    let mut groups: Vec<Vec<Term>> = vec![Vec::new()];
    for token in tokens(input) {
        match token {
            Token::Or => {
                if groups.last().is_some_and(|g| !g.is_empty()) {
                    groups.push(Vec::new());
                }
            }
            Token::Term(term) => {
                if let Some(group) = groups.last_mut() {
                    group.push(term);
                }
            }
        }
    }

    let rendered: Vec<String> = groups.iter().filter_map(|g| render_group(g)).collect();
    if rendered.is_empty() {
        return None;
    }
    Some(rendered.join(" OR "))
}

/// `(a AND b NOT c)`: FTS5's NOT is binary, so the included terms go first.
fn render_group(group: &[Term]) -> Option<String> {
    let included: Vec<String> = group
        .iter()
        .filter(|t| !t.excluded)
        .map(|t| quote(&t.text))
        .collect();
    if included.is_empty() {
        return None;
    }
    let mut expr = included.join(" AND ");
    for term in group.iter().filter(|t| t.excluded) {
        expr.push_str(" NOT ");
        expr.push_str(&quote(&term.text));
    }
    Some(format!("({expr})"))
}

/// An FTS5 string literal: double quotes, inner quotes doubled.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

enum Token {
    Term(Term),
    Or,
}

/// Splits on whitespace outside quotes; keeps only terms with something indexable in them.
fn tokens(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };

        let excluded = first == '-';
        if excluded {
            chars.next();
        }
        let quoted = chars.next_if_eq(&'"').is_some();
        let mut text = String::new();
        if quoted {
            // A phrase runs to the closing quote (or the end of the input).
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                text.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '"') {
                text.push(c);
            }
        }

        if !quoted && !excluded && text.eq_ignore_ascii_case("or") {
            out.push(Token::Or);
        } else if text.chars().any(char::is_alphanumeric) {
            out.push(Token::Term(Term { text, excluded }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_fts5;

    #[test]
    fn words_are_anded_and_quoted() {
        assert_eq!(
            to_fts5("hello world").as_deref(),
            Some("(\"hello\" AND \"world\")")
        );
        assert_eq!(to_fts5("  Grüße  ").as_deref(), Some("(\"Grüße\")"));
    }

    #[test]
    fn phrases_or_and_exclusions() {
        assert_eq!(
            to_fts5("\"sad cat\" or fat -rat").as_deref(),
            Some("(\"sad cat\") OR (\"fat\" NOT \"rat\")")
        );
        assert_eq!(
            to_fts5("a -b c").as_deref(),
            Some("(\"a\" AND \"c\" NOT \"b\")")
        );
    }

    #[test]
    fn syntax_characters_are_inert() {
        // FTS5 operators and column filters stay inside string literals.
        assert_eq!(
            to_fts5("body:x NEAR(a b) * ^c").as_deref(),
            Some("(\"body:x\" AND \"NEAR(a\" AND \"b)\" AND \"^c\")")
        );
        assert_eq!(to_fts5("say \"hi").as_deref(), Some("(\"say\" AND \"hi\")"));
        assert_eq!(to_fts5("it's").as_deref(), Some("(\"it's\")"));
    }

    #[test]
    fn nothing_searchable_is_none() {
        assert_eq!(to_fts5(""), None);
        assert_eq!(to_fts5("   "), None);
        assert_eq!(to_fts5("-only -excluded"), None);
        assert_eq!(to_fts5("or or"), None);
        assert_eq!(to_fts5("*** \"\" -"), None);
    }

    #[test]
    fn dangling_or_is_ignored() {
        assert_eq!(to_fts5("or cat or").as_deref(), Some("(\"cat\")"));
    }
}
