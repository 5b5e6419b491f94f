//! The bot's answers: one short text per intent and language, shaped by the user's mood.
//!
//! Where an intent has several phrasings, the number of earlier assistant turns picks one, so a
//! conversation does not repeat itself and the same conversation always gets the same answer.

use time::OffsetDateTime;

use super::intent::{Intent, Intents};
use super::language::Language;
use super::sentiment::Sentiment;

/// Everything that decides an answer.
pub(crate) struct Context {
    pub language: Language,
    pub intents: Intents,
    pub sentiment: Sentiment,
    pub now: OffsetDateTime,
    /// Assistant turns so far, to vary repeated answers.
    pub turn: usize,
}

pub(crate) fn compose(ctx: &Context) -> String {
    let de = ctx.language == Language::German;
    let mut parts: Vec<String> = Vec::new();
    let primary = ctx.intents.primary;

    match (ctx.sentiment, primary) {
        (Sentiment::Negative, Intent::Thanks | Intent::Farewell) => {}
        (Sentiment::Negative, _) => {
            parts.push(pick(de, "I'm sorry to hear that.", "Das tut mir leid."))
        }
        (Sentiment::Positive, Intent::Unknown | Intent::Greeting | Intent::Wellbeing) => {
            parts.push(pick(de, "That's great to hear!", "Das freut mich!"));
        }
        _ => {}
    }
    if ctx.intents.greeted {
        parts.push(pick(de, "Hello!", "Hallo!"));
    }
    parts.push(core(ctx, de));
    if primary == Intent::Thanks && ctx.sentiment == Sentiment::Positive {
        parts.push(pick(
            de,
            "Glad I could help.",
            "Schön, dass ich helfen konnte.",
        ));
    }
    parts.join(" ")
}

fn core(ctx: &Context, de: bool) -> String {
    let vary = |options: &[(&str, &str)]| {
        let (en, ge) = options[ctx.turn % options.len()];
        pick(de, en, ge)
    };
    match ctx.intents.primary {
        Intent::Greeting => vary(&[
            (
                "Hello! I'm Atrium's built-in assistant. How can I help you today?",
                "Hallo! Ich bin der eingebaute Assistent von Atrium. Wie kann ich dir helfen?",
            ),
            (
                "Hi again! What can I do for you?",
                "Hallo nochmal! Was kann ich für dich tun?",
            ),
        ]),
        Intent::Farewell => pick(
            de,
            "Goodbye! Come back any time.",
            "Tschüss! Schau gern jederzeit wieder vorbei.",
        ),
        Intent::Thanks => pick(de, "You're welcome!", "Gern geschehen!"),
        Intent::Help => pick(
            de,
            "I'm the built-in assistant that answers when no AI model is connected. I can greet \
             you, tell you the time and date, explain what I can do and keep a simple \
             conversation going. If something is broken, the support team can help: open a \
             ticket, or ask an administrator to connect an AI model for full answers.",
            "Ich bin der eingebaute Assistent, der antwortet, wenn kein KI-Modell angebunden ist. \
             Ich kann dich begrüßen, dir Uhrzeit und Datum sagen, erklären, was ich kann, und \
             ein einfaches Gespräch führen. Wenn etwas nicht funktioniert, hilft dir das \
             Support-Team: Eröffne ein Ticket oder bitte einen Administrator, ein KI-Modell \
             anzubinden.",
        ),
        Intent::Capabilities => pick(
            de,
            "I'm a small rule-based assistant that runs inside Atrium without any network \
             access. I can greet you and chat a little, tell you the current time and date \
             (UTC), explain how to get help and notice when something bothers you. An \
             administrator can connect AI models (OpenAI, Anthropic, Gemini, Mistral, xAI or \
             Azure OpenAI) for complete answers.",
            "Ich bin ein kleiner regelbasierter Assistent, der ohne Netzwerkzugriff direkt in \
             Atrium läuft. Ich kann dich begrüßen und ein wenig plaudern, dir die aktuelle \
             Uhrzeit und das Datum (UTC) sagen, erklären, wo du Hilfe bekommst, und merken, \
             wenn dich etwas ärgert. Ein Administrator kann KI-Modelle (OpenAI, Anthropic, \
             Gemini, Mistral, xAI oder Azure OpenAI) für vollständige Antworten anbinden.",
        ),
        Intent::Time => {
            let (h, m) = (ctx.now.hour(), ctx.now.minute());
            if de {
                format!("Es ist {h:02}:{m:02} Uhr (UTC).")
            } else {
                format!("It is {h:02}:{m:02} UTC.")
            }
        }
        Intent::Date => date(ctx.now, de),
        Intent::Identity => pick(
            de,
            "I'm Atrium's built-in assistant: a simple rule-based bot that works without any \
             AI provider.",
            "Ich bin der eingebaute Assistent von Atrium: ein einfacher regelbasierter Bot, der \
             ohne KI-Anbieter funktioniert.",
        ),
        Intent::Wellbeing => pick(
            de,
            "I'm doing well, thanks for asking! How are you?",
            "Mir geht es gut, danke der Nachfrage! Wie geht es dir?",
        ),
        Intent::Joke => pick(
            de,
            "Why do programmers prefer dark mode? Because light attracts bugs.",
            "Warum mögen Programmierer den Dunkelmodus? Weil Licht Bugs anzieht.",
        ),
        Intent::Unknown if ctx.sentiment == Sentiment::Negative => pick(
            de,
            "I'm only a simple built-in assistant and can't solve this myself. The support \
             team can help: open a ticket and describe what happened.",
            "Ich bin nur ein einfacher eingebauter Assistent und kann das nicht selbst lösen. \
             Das Support-Team hilft dir weiter: Eröffne ein Ticket und beschreibe, was passiert \
             ist.",
        ),
        Intent::Unknown => vary(&[
            (
                "I'm only a simple built-in assistant, so I can't answer that properly. Ask me \
                 what I can do, or ask an administrator to connect an AI model.",
                "Ich bin nur ein einfacher eingebauter Assistent und kann darauf nicht richtig \
                 antworten. Frag mich, was ich kann, oder bitte einen Administrator, ein \
                 KI-Modell anzubinden.",
            ),
            (
                "I didn't quite understand that. Try asking what I can do, or for the time or \
                 the date.",
                "Das habe ich nicht ganz verstanden. Frag mich doch, was ich kann, oder nach \
                 Uhrzeit oder Datum.",
            ),
        ]),
    }
}

fn pick(german: bool, english: &str, deutsch: &str) -> String {
    if german { deutsch } else { english }.to_owned()
}

#[rustfmt::skip]
const WEEKDAYS_EN: [&str; 7] = [
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
];
#[rustfmt::skip]
const WEEKDAYS_DE: [&str; 7] = [
    "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag",
];
#[rustfmt::skip]
const MONTHS_EN: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];
#[rustfmt::skip]
const MONTHS_DE: [&str; 12] = [
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
    "November", "Dezember",
];

fn date(now: OffsetDateTime, de: bool) -> String {
    let weekday = usize::from(now.weekday().number_days_from_monday());
    let month = usize::from(u8::from(now.month())).saturating_sub(1);
    let (day, year) = (now.day(), now.year());
    if de {
        format!(
            "Heute ist {}, der {day}. {} {year} (UTC).",
            WEEKDAYS_DE[weekday % 7],
            MONTHS_DE[month % 12]
        )
    } else {
        format!(
            "Today is {}, {day} {} {year} (UTC).",
            WEEKDAYS_EN[weekday % 7],
            MONTHS_EN[month % 12]
        )
    }
}
