//! What the user is asking for, recognised by phrases of both languages (a German speaker may
//! still type "thx", an English one "danke").

use super::text::contains_any;

/// The requests the bot understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intent {
    Greeting,
    Farewell,
    Thanks,
    Help,
    Capabilities,
    Time,
    Date,
    Identity,
    Wellbeing,
    Joke,
    /// Nothing recognised.
    Unknown,
}

/// The rules in priority order: the first intent whose phrases occur wins, so "Hi, what time is
/// it?" is a time question (the greeting is remembered separately and answered in passing).
#[rustfmt::skip]
const RULES: &[(Intent, &[&str])] = &[
    (Intent::Time, &[
        "what time", "the time", "time is it", "current time", "wie spät", "uhrzeit", "wieviel uhr",
        "wie viel uhr",
    ]),
    (Intent::Date, &[
        "the date", "what date", "what day", "which day", "todays date", "date today",
        "what is today", "welcher tag", "welchen tag", "welches datum", "das datum", "datum heute",
        "heutige datum", "der wievielte",
    ]),
    (Intent::Capabilities, &[
        "what can you do", "what can you", "what are you able", "what do you do",
        "your capabilities", "what are your features", "was kannst du", "was machst du",
        "was kann ich dich fragen", "deine fähigkeiten", "deine funktionen",
    ]),
    (Intent::Help, &[
        "help", "assist", "support", "hilfe", "helfen", "hilf", "unterstützung",
    ]),
    (Intent::Identity, &[
        "who are you", "your name", "what are you", "are you a bot", "are you human",
        "are you a human", "wer bist du", "wie heißt du", "dein name", "bist du ein bot",
        "bist du ein mensch", "was bist du",
    ]),
    (Intent::Wellbeing, &[
        "how are you", "how are things", "how is it going", "hows it going", "how do you do",
        "wie geht es dir", "wie gehts", "wie geht es ihnen", "wie läufts",
    ]),
    (Intent::Joke, &[
        "joke", "something funny", "witz", "etwas lustiges",
    ]),
    (Intent::Thanks, &[
        "thanks", "thank you", "thx", "ty", "danke", "dankeschön", "vielen dank", "merci",
    ]),
    (Intent::Farewell, &[
        "bye", "goodbye", "see you", "good night", "farewell", "tschüss", "tschüs",
        "auf wiedersehen", "bis bald", "bis später", "gute nacht", "ciao",
    ]),
    (Intent::Greeting, &[
        "hi", "hello", "hey", "good morning", "good afternoon", "good evening", "greetings",
        "howdy", "hallo", "servus", "moin", "guten morgen", "guten tag", "guten abend", "grüß gott",
        "grüß dich", "grüezi",
    ]),
];

/// The recognised request of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intents {
    /// The request to answer.
    pub primary: Intent,
    /// The message also greeted the bot (answered with a short greeting first).
    pub greeted: bool,
}

pub fn classify(words: &[String]) -> Intents {
    let primary = RULES
        .iter()
        .find(|(_, phrases)| contains_any(words, phrases))
        .map_or(Intent::Unknown, |(intent, _)| *intent);
    let greeted = primary != Intent::Greeting
        && RULES
            .iter()
            .any(|(i, phrases)| *i == Intent::Greeting && contains_any(words, phrases));
    Intents { primary, greeted }
}

#[cfg(test)]
mod tests {
    use super::super::text::words;
    use super::*;

    fn of(text: &str) -> Intents {
        classify(&words(text))
    }

    #[test]
    fn recognises_common_requests() {
        assert_eq!(of("Hello!").primary, Intent::Greeting);
        assert_eq!(of("Guten Morgen").primary, Intent::Greeting);
        assert_eq!(of("What can you do?").primary, Intent::Capabilities);
        assert_eq!(of("Was kannst du?").primary, Intent::Capabilities);
        assert_eq!(of("Wie spät ist es?").primary, Intent::Time);
        assert_eq!(of("Welches Datum haben wir?").primary, Intent::Date);
        assert_eq!(of("Vielen Dank!").primary, Intent::Thanks);
        assert_eq!(of("I need help").primary, Intent::Help);
        assert_eq!(of("Wer bist du?").primary, Intent::Identity);
        assert_eq!(of("How's it going?").primary, Intent::Wellbeing);
        assert_eq!(of("Tschüss").primary, Intent::Farewell);
        assert_eq!(of("Erzähl mir einen Witz").primary, Intent::Joke);
        assert_eq!(of("Quantum chromodynamics").primary, Intent::Unknown);
    }

    #[test]
    fn a_greeting_with_a_question_answers_the_question() {
        let intents = of("Hi, what time is it?");
        assert_eq!(intents.primary, Intent::Time);
        assert!(intents.greeted);
        assert!(
            !of("Hello").greeted,
            "a plain greeting is the primary intent"
        );
    }
}
