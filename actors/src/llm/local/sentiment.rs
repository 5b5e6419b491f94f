//! A deliberately simple sentiment reading: count positive and negative words of both
//! languages, flipping a word that follows a negation closely ("not good", "nicht gut").
//! It only has to tell the bot whether to sound sympathetic or pleased.

use super::text::contains_any;

/// How the user seems to feel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

#[rustfmt::skip]
const POSITIVE: &[&str] = &[
    // English
    "good", "great", "excellent", "awesome", "amazing", "happy", "love", "wonderful",
    "fantastic", "nice", "glad", "perfect", "cool", "brilliant", "pleased", "enjoy", "helpful",
    "best", "works",
    // German
    "gut", "super", "toll", "prima", "klasse", "großartig", "wunderbar", "fantastisch", "glücklich",
    "froh", "liebe", "mag", "perfekt", "schön", "hilfreich", "genial", "spitze", "beste",
    "funktioniert",
];

#[rustfmt::skip]
const NEGATIVE: &[&str] = &[
    // English
    "bad", "terrible", "awful", "horrible", "hate", "sad", "angry", "annoyed", "frustrated",
    "frustrating", "broken", "problem", "problems", "wrong", "fail", "failed", "fails", "worst",
    "upset", "disappointed", "useless", "slow", "bug", "crash", "crashes", "stuck",
    // German
    "schlecht", "schrecklich", "furchtbar", "hasse", "traurig", "wütend", "sauer", "genervt",
    "frustriert", "kaputt", "problem", "probleme", "falsch", "fehler", "ärgerlich", "enttäuscht",
    "nutzlos", "langsam", "schlimm", "mist", "blöd", "hängt", "abgestürzt",
];

/// Words that flip the polarity of a sentiment word shortly after them.
#[rustfmt::skip]
const NEGATORS: &[&str] = &[
    "not", "no", "never", "nothing", "dont", "doesnt", "isnt", "wasnt", "cant", "nicht", "kein",
    "keine", "keinen", "nie", "niemals", "nichts",
];

/// How many words after a negator it still applies ("not very good").
const NEGATION_WINDOW: usize = 3;

/// Complaints that contain no sentiment word of their own.
const NEGATIVE_PHRASES: &[&str] = &[
    "doesnt work",
    "not working",
    "does not work",
    "funktioniert nicht",
    "geht nicht",
    "klappt nicht",
];

/// Positive minus negative evidence.
pub fn score(words: &[String]) -> i32 {
    let mut score = 0;
    let mut negation_left = 0usize;
    for word in words {
        let word = word.as_str();
        if NEGATORS.contains(&word) {
            negation_left = NEGATION_WINDOW;
            continue;
        }
        let polarity = if POSITIVE.contains(&word) {
            1
        } else if NEGATIVE.contains(&word) {
            -1
        } else {
            0
        };
        score += if negation_left > 0 {
            -polarity
        } else {
            polarity
        };
        negation_left = negation_left.saturating_sub(1);
    }
    if contains_any(words, NEGATIVE_PHRASES) {
        // "funktioniert nicht" counted "funktioniert" as positive above; outweigh it.
        score -= 2;
    }
    score
}

pub fn detect(words: &[String]) -> Sentiment {
    match score(words) {
        s if s > 0 => Sentiment::Positive,
        s if s < 0 => Sentiment::Negative,
        _ => Sentiment::Neutral,
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::words;
    use super::*;

    fn of(text: &str) -> Sentiment {
        detect(&words(text))
    }

    #[test]
    fn reads_both_languages() {
        assert_eq!(of("This is great, I love it"), Sentiment::Positive);
        assert_eq!(of("Das ist wirklich toll"), Sentiment::Positive);
        assert_eq!(of("This is terrible and broken"), Sentiment::Negative);
        assert_eq!(of("Ich bin total genervt"), Sentiment::Negative);
        assert_eq!(of("What time is it?"), Sentiment::Neutral);
    }

    #[test]
    fn negation_flips_nearby_words() {
        assert_eq!(of("This is not very good"), Sentiment::Negative);
        assert_eq!(of("Das ist nicht schlecht"), Sentiment::Positive);
        assert_eq!(of("Das Login funktioniert nicht"), Sentiment::Negative);
        assert_eq!(of("The upload doesn't work"), Sentiment::Negative);
        assert_eq!(of("Nothing works today"), Sentiment::Negative);
    }
}
