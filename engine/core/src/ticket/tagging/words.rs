//! Turning text into comparable words: split at anything that is not a letter or digit, lower
//! case, and spell German umlauts and ß the way people type them on a keyboard without them
//! (`ä → ae`, `ö → oe`, `ü → ue`, `ß → ss`).
//!
//! Folding both the text and the keywords this way makes "Rückerstattung", "RUECKERSTATTUNG"
//! and "Rückerstattung" written with a combining diaeresis (`u` + U+0308, as some systems send
//! it) the same word. Other accents are left alone (a combining accent other than the
//! diaeresis is dropped): the rules are written in German and English.

/// Combining diacritical marks (U+0300–U+036F) belong to the letter before them.
fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

const COMBINING_DIAERESIS: char = '\u{0308}';

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Appends the folded form of one word.
fn fold_into(word: &str, out: &mut String) {
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            // A decomposed umlaut: the vowel is already out, add its "e".
            COMBINING_DIAERESIS if out.ends_with(['a', 'o', 'u']) => out.push('e'),
            c if is_combining_mark(c) => {}
            c => out.push(c),
        }
    }
}

/// The folded words of a text, in order.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut folded = String::with_capacity(w.len() + 2);
            fold_into(w, &mut folded);
            folded
        })
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_punctuation_and_lowercases() {
        assert_eq!(
            words("Crash! Error-404, (E-Mail) can't"),
            ["crash", "error", "404", "e", "mail", "can", "t"]
        );
        assert!(words("  ...  ").is_empty());
    }

    #[test]
    fn umlauts_and_sharp_s_fold_to_their_keyboard_spelling() {
        assert_eq!(words("Rückerstattung"), ["rueckerstattung"]);
        assert_eq!(words("RÜCKERSTATTUNG"), ["rueckerstattung"]);
        assert_eq!(words("Rueckerstattung"), ["rueckerstattung"]);
        assert_eq!(words("Ru\u{0308}ckerstattung"), ["rueckerstattung"]);
        assert_eq!(
            words("Straße STRASSE Straẞe"),
            ["strasse", "strasse", "strasse"]
        );
        assert_eq!(
            words("Öffnungszeiten ändern"),
            ["oeffnungszeiten", "aendern"]
        );
    }
}
