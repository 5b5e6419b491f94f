//! Text normalisation shared by the bot's detectors: lowercase words without punctuation, so
//! rules can be written as plain phrases ("what can you do", "wie spät").

/// The words of `text`, lowercased, with apostrophes removed (`what's` → `whats`,
/// `geht's` → `gehts`) and every other non-alphanumeric character treated as a separator.
/// Umlauts and ß are letters and stay.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’', '`'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `phrase` (space-separated words, already normalised) occurs as consecutive words.
pub(crate) fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let needle: Vec<&str> = phrase.split(' ').collect();
    if needle.is_empty() || needle.len() > words.len() {
        return false;
    }
    words
        .windows(needle.len())
        .any(|window| window.iter().zip(&needle).all(|(w, n)| w == n))
}

/// Whether any of `phrases` occurs.
pub(crate) fn contains_any(words: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| contains_phrase(words, p))
}

/// Whitespace-separated words: the bot's unit of "tokens" for usage accounting.
pub(crate) fn token_count(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_normalised() {
        assert_eq!(
            words("Wie geht's, Jürgen? What's UP!"),
            vec!["wie", "gehts", "jürgen", "whats", "up"]
        );
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let w = words("this is what I can do");
        assert!(contains_phrase(&w, "can do"));
        assert!(
            !contains_phrase(&w, "hi"),
            "'hi' must not match inside 'this'"
        );
        assert!(!contains_phrase(&w, "do it"));
    }
}
