//! The auto-title: after a conversation's first exchange, a short title is written in the
//! background.
//!
//! The model that answered is asked for a title (its usage is recorded with purpose `title`);
//! the local bot, which cannot summarise, and any failure fall back to the first words of the
//! user's message. Nothing of this reaches the user: failures are logged, never pushed, and the
//! title is set only if the conversation still has none (the user may have named it meanwhile).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use atrium_core::ai::{UsageOutcome, UsagePurpose, UsageRecord, title};
use atrium_core::ids::{ConversationId, OrgId, UserId};

use super::catalog::Catalog;
use super::prepare::now_ms;
use crate::context::Context;
use crate::llm::{ChatMessage, ChatRequest, StreamEvent, TokenUsage};

/// Most characters of the answer shown to the title model.
pub const ANSWER_EXCERPT_CHARS: usize = 2_000;
/// Output limit of the title request.
pub const TITLE_MAX_TOKENS: u32 = 24;
/// The whole title request may take this long.
pub const TITLE_TIMEOUT: Duration = Duration::from_secs(30);

const INSTRUCTION: &str = "Write a title of at most six words for this conversation. \
                           Reply with the title only, without quotes.";

/// The first exchange of a conversation.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub org: OrgId,
    pub user: UserId,
    pub conversation: ConversationId,
    /// The model that answered.
    pub model: String,
    pub question: String,
    pub answer: String,
}

/// Starts the background task.
pub fn spawn(ctx: Arc<Context>, catalog: Arc<Catalog>, exchange: Exchange) {
    tokio::spawn(async move {
        let title = match ask(&ctx, &catalog, &exchange).await {
            Some(title) => title,
            None => title::from_first_message(&exchange.question),
        };
        match ctx
            .store
            .set_conversation_title_if_unset(exchange.org, exchange.conversation, &title)
            .await
        {
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(conversation = %exchange.conversation, %error, "auto-title could not be stored");
            }
        }
    });
}

/// Asks the answering model for a title; `None` for the local bot or on any failure (logged).
async fn ask(ctx: &Context, catalog: &Catalog, exchange: &Exchange) -> Option<String> {
    if catalog.is_local(&exchange.model) {
        return None;
    }
    let excerpt: String = exchange.answer.chars().take(ANSWER_EXCERPT_CHARS).collect();
    let request = ChatRequest::new(
        exchange.model.clone(),
        vec![
            ChatMessage::system(INSTRUCTION),
            ChatMessage::user(exchange.question.clone()),
            ChatMessage::assistant(excerpt),
            ChatMessage::user(INSTRUCTION),
        ],
    )
    .with_max_tokens(TITLE_MAX_TOKENS);
    let mut stream = catalog.router.stream(&request);
    let mut text = String::new();
    let mut usage = TokenUsage::default();
    let collect = async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(StreamEvent::Delta(t)) => text.push_str(&t),
                Ok(event @ StreamEvent::Usage { .. }) => usage.record(&event),
                Ok(StreamEvent::Done { .. }) => return Ok(()),
                Err(error) => return Err(error.to_string()),
            }
        }
        Ok(())
    };
    let outcome = match tokio::time::timeout(TITLE_TIMEOUT, collect).await {
        Ok(result) => result,
        Err(_) => Err("timed out".to_owned()),
    };
    let record = UsageRecord {
        id: 0,
        org_id: exchange.org,
        user_id: exchange.user,
        conversation_id: Some(exchange.conversation),
        stream_id: None,
        model: exchange.model.clone(),
        provider: catalog.provider_of(&exchange.model).to_owned(),
        purpose: UsagePurpose::Title,
        outcome: if outcome.is_ok() {
            UsageOutcome::Completed
        } else {
            UsageOutcome::Failed
        },
        streamed: false,
        input_tokens: u64::from(usage.input_tokens),
        output_tokens: u64::from(usage.output_tokens),
        cost_micros: catalog.cost(&exchange.model, usage),
        error_code: outcome.as_ref().err().map(|_| "title_failed".to_owned()),
        at: now_ms(),
    };
    if let Err(error) = ctx.store.record_usage(&record).await {
        tracing::warn!(%error, "could not record the title request's usage");
    }
    match outcome {
        Ok(()) => {
            let title = title::from_model(&text);
            if title.is_none() {
                tracing::warn!(conversation = %exchange.conversation, "the model proposed no usable title");
            }
            title
        }
        Err(error) => {
            tracing::warn!(conversation = %exchange.conversation, %error, "auto-title failed; using the first words");
            None
        }
    }
}
