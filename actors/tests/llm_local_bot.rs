//! The built-in local bot: German and English answers, sentiment, streaming and usage, and that
//! a configuration without provider keys makes it the default model.

use atrium_actors::llm::local::{Intent, Language, Sentiment};
use atrium_actors::llm::{
    ChatMessage, ChatRequest, FinishReason, LlmConfig, LocalBot, ModelConfig, ModelRouter,
    ProviderConfig, ProviderKind, StreamEvent, TokenUsage,
};
use futures_util::StreamExt;
use time::macros::datetime;

fn bot() -> LocalBot {
    LocalBot::with_clock(|| datetime!(2026-11-24 14:05:09 UTC))
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new("local", vec![ChatMessage::user(text)])
}

fn reply(text: &str) -> String {
    bot().reply(&ask(text)).text
}

/// Every event of the bot's stream for `request`.
async fn events(request: &ChatRequest) -> Vec<StreamEvent> {
    let router = ModelRouter::with_local_bot(&LlmConfig::default(), bot()).expect("router");
    router
        .stream(request)
        .map(|item| item.expect("the local bot never fails"))
        .collect()
        .await
}

#[test]
fn answers_english_requests_in_english() {
    let r = bot().reply(&ask("Hello!"));
    assert_eq!(r.language, Language::English);
    assert_eq!(r.intent, Intent::Greeting);
    assert_eq!(
        r.text,
        "Hello! I'm Atrium's built-in assistant. How can I help you today?"
    );
    assert_eq!(reply("What time is it?"), "It is 14:05 UTC.");
    assert_eq!(
        reply("What's the date today?"),
        "Today is Tuesday, 24 November 2026 (UTC)."
    );
    assert!(reply("What can you do?").starts_with("I'm a small rule-based assistant"));
    assert!(reply("Tell me a joke").contains("bugs"));
}

#[test]
fn answers_german_requests_in_german() {
    let r = bot().reply(&ask("Hallo, wie spät ist es?"));
    assert_eq!(r.language, Language::German);
    assert_eq!(r.intent, Intent::Time);
    assert_eq!(r.text, "Hallo! Es ist 14:05 Uhr (UTC).");
    assert_eq!(
        reply("Welches Datum haben wir heute?"),
        "Heute ist Dienstag, der 24. November 2026 (UTC)."
    );
    assert!(reply("Was kannst du?").starts_with("Ich bin ein kleiner regelbasierter Assistent"));
    assert_eq!(
        reply("Wie geht es dir?"),
        "Mir geht es gut, danke der Nachfrage! Wie geht es dir?"
    );
    assert_eq!(
        reply("Tschüss!"),
        "Tschüss! Schau gern jederzeit wieder vorbei."
    );
}

#[test]
fn sentiment_shapes_the_reply() {
    let r = bot().reply(&ask("This is terrible, the upload doesn't work"));
    assert_eq!(r.sentiment, Sentiment::Negative);
    assert!(r.text.starts_with("I'm sorry to hear that."), "{}", r.text);
    assert!(r.text.contains("open a ticket"), "{}", r.text);

    let r = bot().reply(&ask("Ich bin total genervt, das Login funktioniert nicht"));
    assert_eq!(
        (r.language, r.sentiment),
        (Language::German, Sentiment::Negative)
    );
    assert!(r.text.starts_with("Das tut mir leid."), "{}", r.text);
    assert!(r.text.contains("Ticket"), "{}", r.text);

    let r = bot().reply(&ask("Thanks, that was really helpful!"));
    assert_eq!(
        (r.intent, r.sentiment),
        (Intent::Thanks, Sentiment::Positive)
    );
    assert_eq!(r.text, "You're welcome! Glad I could help.");

    let r = bot().reply(&ask("Vielen Dank, das ist super!"));
    assert_eq!(r.text, "Gern geschehen! Schön, dass ich helfen konnte.");

    assert_eq!(
        reply("Thanks"),
        "You're welcome!",
        "neutral thanks get no extra"
    );
}

#[test]
fn answers_are_deterministic_and_vary_with_the_turn() {
    assert_eq!(reply("Hallo"), reply("Hallo"));
    let later = ChatRequest::new(
        "local",
        vec![
            ChatMessage::user("Hi"),
            ChatMessage::assistant("Hello! …"),
            ChatMessage::user("Hi"),
        ],
    );
    assert_eq!(bot().reply(&later).text, "Hi again! What can I do for you?");
}

#[tokio::test]
async fn streams_the_reply_as_several_deltas_with_word_usage() {
    let request = ChatRequest::new(
        "local",
        vec![
            ChatMessage::system("You are helpful."),
            ChatMessage::user("What can you do?"),
        ],
    );
    let expected = bot().reply(&request).text;
    let events = events(&request).await;

    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(deltas.len() > 3, "several deltas, got {}", deltas.len());
    assert_eq!(deltas.concat(), expected);

    let mut usage = TokenUsage::default();
    events.iter().for_each(|e| usage.record(e));
    assert_eq!(usage.input_tokens, 3 + 4, "words of every message");
    assert_eq!(
        usage.output_tokens as usize,
        expected.split_whitespace().count()
    );
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Done {
            finish_reason: FinishReason::Stop
        })
    );
    assert_eq!(
        events,
        self::events(&request).await,
        "the same conversation streams identically"
    );
}

#[tokio::test]
async fn max_tokens_cuts_the_reply() {
    let events = events(&ask("What can you do?").with_max_tokens(5)).await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text.split_whitespace().count(), 5);
    assert!(events.contains(&StreamEvent::Usage {
        input_tokens: 4,
        output_tokens: 5
    }));
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Done {
            finish_reason: FinishReason::Length
        })
    );
}

#[tokio::test]
async fn without_provider_keys_the_local_bot_is_the_default_model() {
    let config = LlmConfig {
        providers: vec![ProviderConfig::new("openai", ProviderKind::OpenAi)],
        models: vec![ModelConfig::new("gpt", "openai", "gpt-4o")],
        ..LlmConfig::default()
    };
    let router = ModelRouter::with_local_bot(&config, bot()).expect("router");
    assert_eq!(router.default_model(), Some("local"));
    assert!(router.is_available("local"));
    assert!(!router.is_available("gpt"), "no key");

    let default = router.default_model().unwrap_or_default().to_owned();
    let opened = router
        .open(&ChatRequest::new(default, vec![ChatMessage::user("Hallo")]))
        .await
        .expect("the local bot answers");
    assert_eq!(opened.model, "local");
    assert!(opened.failures.is_empty());

    let mut keyed = config.clone();
    keyed.providers[0].api_key = Some(atrium_actors::llm::ApiKey::new("sk-1"));
    let router = ModelRouter::with_local_bot(&keyed, bot()).expect("router");
    assert_eq!(
        router.default_model(),
        Some("gpt"),
        "a keyed model wins over the bot"
    );
}

#[test]
fn a_disabled_bot_is_not_a_model() {
    let mut config = LlmConfig::default();
    config.local_bot.enabled = false;
    let router = ModelRouter::new(&config).expect("router");
    assert_eq!(router.default_model(), None);
    assert!(router.model_names().is_empty());
}
