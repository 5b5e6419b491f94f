//! A conversation's title when no model can write one.

/// Most words a derived title keeps.
pub const MAX_TITLE_WORDS: usize = 8;
/// Most characters of any stored title (model-written ones are cut to this too).
pub const MAX_TITLE_CHARS: usize = 80;
/// The title of a conversation whose first message says nothing usable.
pub const UNTITLED: &str = "New conversation";

/// A short title from the first user message: its first line, whitespace collapsed, at most
/// [`MAX_TITLE_WORDS`] words and [`MAX_TITLE_CHARS`] characters, trailing punctuation dropped.
pub fn from_first_message(content: &str) -> String {
    let line = content.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().take(MAX_TITLE_WORDS).collect();
    clean(&words.join(" "))
}

/// A model's proposed title, cleaned: quotes and a leading "Title:" removed, one line, cut to
/// [`MAX_TITLE_CHARS`]. `None` when nothing usable is left.
pub fn from_model(text: &str) -> Option<String> {
    let line = text.lines().find(|l| !l.trim().is_empty())?.trim();
    let line = line
        .strip_prefix("Title:")
        .or_else(|| line.strip_prefix("title:"))
        .unwrap_or(line);
    let cleaned =
        clean(line.trim_matches(|c: char| c == '"' || c == '\'' || c == '*' || c.is_whitespace()));
    (cleaned != UNTITLED || line.trim() == UNTITLED).then_some(cleaned)
}

fn clean(text: &str) -> String {
    let collapsed: Vec<&str> = text.split_whitespace().collect();
    let mut title: String = collapsed.join(" ").chars().take(MAX_TITLE_CHARS).collect();
    while title.ends_with(['.', ',', ';', ':', '!', '?', '-']) {
        title.pop();
    }
    let title = title.trim_end().to_owned();
    if title.is_empty() {
        UNTITLED.to_owned()
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_titles_are_short_and_clean() {
        assert_eq!(
            from_first_message("  What time is it?\nmore"),
            "What time is it"
        );
        assert_eq!(
            from_first_message("one two three four five six seven eight nine ten"),
            "one two three four five six seven eight"
        );
        assert_eq!(from_first_message("   \n  "), UNTITLED);
        assert_eq!(
            from_first_message(&"x".repeat(500)).chars().count(),
            MAX_TITLE_CHARS
        );
    }

    #[test]
    fn model_titles_lose_quotes_and_labels() {
        assert_eq!(
            from_model("\"Trip to Berlin\"\n").as_deref(),
            Some("Trip to Berlin")
        );
        assert_eq!(
            from_model("Title: Budget plan.").as_deref(),
            Some("Budget plan")
        );
        assert_eq!(from_model("   "), None);
        assert_eq!(from_model("\"\""), None);
    }
}
