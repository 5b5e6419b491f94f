//! Finding `@username` mentions in a message body.
//!
//! Usernames are 3–32 characters of `a-z 0-9 _ . -` (see `atrium_core::auth::credentials`), so a
//! mention is an `@` that does not follow a username character (an e-mail address such as
//! `ann@example.com` is not a mention) followed by such characters. Trailing `.` and `-` are
//! punctuation (`thanks @ann.`), and matching is case-insensitive because usernames are stored in
//! lowercase. The names found here are resolved against the sender's organization by the store;
//! names that match nobody are simply not mentions.

/// The most distinct names one message may mention (the rest are ignored).
pub const MAX_MENTIONS: usize = 50;

const MIN_LEN: usize = 3;
const MAX_LEN: usize = 32;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The distinct lowercase usernames mentioned in `body`, in order of first appearance.
pub fn parse_mentions(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let after_name_char = previous.is_some_and(is_name_char);
        previous = Some(c);
        if c != '@' || after_name_char {
            continue;
        }
        let start = at + 1;
        let mut end = start;
        while let Some(&(i, next)) = chars.peek() {
            if !is_name_char(next) {
                break;
            }
            end = i + next.len_utf8();
            previous = Some(next);
            chars.next();
        }
        let name = body[start..end].trim_end_matches(['.', '-']);
        if (MIN_LEN..=MAX_LEN).contains(&name.len()) {
            let name = name.to_ascii_lowercase();
            if !found.contains(&name) {
                found.push(name);
                if found.len() == MAX_MENTIONS {
                    break;
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions() {
        assert_eq!(
            parse_mentions("hi @ann and @Bob_2, see @ann again"),
            vec!["ann", "bob_2"]
        );
        assert_eq!(parse_mentions("@carol: ping"), vec!["carol"]);
        assert_eq!(parse_mentions("thanks @dave."), vec!["dave"]);
        assert_eq!(parse_mentions("(@erin)"), vec!["erin"]);
        assert_eq!(parse_mentions("@first.last-name"), vec!["first.last-name"]);
    }

    #[test]
    fn ignores_what_is_not_a_mention() {
        assert!(parse_mentions("mail ann@example.com").is_empty());
        assert!(parse_mentions("@ab is too short").is_empty());
        assert!(parse_mentions("@ alone").is_empty());
        assert!(parse_mentions("@@").is_empty());
        let long = format!("@{}", "x".repeat(33));
        assert!(parse_mentions(&long).is_empty());
        assert!(parse_mentions("ünïcödé @ünï").is_empty());
    }

    #[test]
    fn caps_the_number_of_names() {
        let body: String = (0..80).map(|i| format!("@user{i:03} ")).collect();
        assert_eq!(parse_mentions(&body).len(), MAX_MENTIONS);
    }
}
