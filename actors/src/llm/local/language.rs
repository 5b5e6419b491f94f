//! Telling German from English by counting words that only one of the two languages uses.

use super::text::words;
use crate::llm::request::{ChatMessage, Role};

/// The languages the bot answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    English,
    German,
}

/// Common German words that are not also common English words (`was`, `an`, `in`, `im`, `die`
/// are left out for that reason: they are common English words or contractions too).
#[rustfmt::skip]
const GERMAN: &[&str] = &[
    "ich", "du", "sie", "wir", "ihr", "und", "oder", "nicht", "ist", "bin", "bist", "sind", "das",
    "der", "den", "dem", "ein", "eine", "einen", "mit", "für", "auf", "wie", "wer", "wo", "warum",
    "wann", "hallo", "danke", "bitte", "ja", "nein", "guten", "morgen", "tag", "abend", "heute",
    "kannst", "kann", "mir", "mich", "dir", "dich", "hilfe", "uhrzeit", "spät", "datum", "welcher",
    "welches", "gut", "schlecht", "sehr", "auch", "noch", "aber", "schon", "mal", "gibt", "es",
    "zu", "von", "gehts", "geht", "hast", "habe", "haben", "mein", "meine", "dein", "deine", "kein",
    "keine", "tschüss", "servus", "moin", "vielen", "dank", "etwas", "jetzt", "machen",
    "funktioniert", "frage", "möchte", "würde", "könnte",
];

/// Common English words that are not also common German words.
#[rustfmt::skip]
const ENGLISH: &[&str] = &[
    "i", "you", "we", "they", "and", "or", "not", "is", "am", "are", "the", "a", "with", "for",
    "on", "what", "how", "who", "where", "why", "when", "hello", "thanks", "thank", "please", "yes",
    "good", "morning", "evening", "today", "can", "me", "my", "your", "help", "time", "date", "day",
    "bad", "very", "also", "but", "do", "does", "it", "to", "of", "this", "that", "whats", "hows",
    "have", "has", "would", "could", "something", "now", "work", "question", "want", "need",
    "there", "doesnt", "dont", "goodbye", "tell", "joke",
];

/// Extra weight of a character only German spelling uses.
const GERMAN_LETTER_WEIGHT: i32 = 2;

/// The language of one text, or `None` when it gives no evidence either way.
pub fn detect(text: &str) -> Option<Language> {
    let words = words(text);
    let german = words
        .iter()
        .filter(|w| GERMAN.contains(&w.as_str()))
        .count();
    let english = words
        .iter()
        .filter(|w| ENGLISH.contains(&w.as_str()))
        .count();
    let letters = text.chars().filter(|c| "äöüßÄÖÜ".contains(*c)).count();
    let score = i32::try_from(german).unwrap_or(i32::MAX)
        - i32::try_from(english).unwrap_or(i32::MAX)
        + GERMAN_LETTER_WEIGHT * i32::try_from(letters).unwrap_or(i32::MAX);
    match score {
        s if s > 0 => Some(Language::German),
        s if s < 0 => Some(Language::English),
        _ => None,
    }
}

/// The language to answer in: that of the latest user message that gives evidence, else English.
pub fn of_conversation(messages: &[ChatMessage]) -> Language {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == Role::User)
        .find_map(|m| detect(&m.content))
        .unwrap_or(Language::English)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_both_languages() {
        assert_eq!(detect("Wie spät ist es?"), Some(Language::German));
        assert_eq!(detect("Kannst du mir helfen?"), Some(Language::German));
        assert_eq!(detect("What time is it?"), Some(Language::English));
        assert_eq!(
            detect("Can you help me with this?"),
            Some(Language::English)
        );
        assert_eq!(detect("Grüß dich"), Some(Language::German));
        assert_eq!(detect("ok"), None);
    }

    #[test]
    fn conversation_falls_back_to_earlier_messages_then_english() {
        let messages = vec![
            ChatMessage::user("Hallo, wie geht es dir?"),
            ChatMessage::assistant("Gut!"),
            ChatMessage::user("ok"),
        ];
        assert_eq!(of_conversation(&messages), Language::German);
        assert_eq!(
            of_conversation(&[ChatMessage::user("ok")]),
            Language::English
        );
    }
}
