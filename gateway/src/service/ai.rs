//! The AI hub's use cases: conversations and their messages, assistants, prompt templates.
//!
//! Who may do what:
//! - a personal conversation: its owner; a conversation shared with a channel: the channel's
//!   members read it and ask in it, its owner edits and deletes it (admins may delete any);
//! - assistants and templates: global ones (no owner) are visible to the whole organization and
//!   managed by holders of `ai.manage` (admins); personal ones by their owner only;
//! - asking an assistant at all needs `messages.write` (guests cannot).
//!
//! Another organization's ids always read as "not found".

use std::collections::BTreeMap;

use atrium_core::ai::{
    Assistant, Conversation, ConversationMessage, PromptTemplate, Rendered, Temperature, render,
};
use atrium_core::ids::{AssistantId, ChannelId, ConversationId, PromptTemplateId};
use atrium_core::protocol::limits::{MAX_MODEL_NAME_BYTES, MAX_SYSTEM_PROMPT_CHARS};
use atrium_persistence::store::{Page, Paged, Store, StoreError};
use serde_json::json;

use super::audit::{self, AuditEvent, actions};
use super::clock;
use super::error::OrNotFound;
use super::{Caller, ServiceError, ServiceResult};

/// Permission to manage global assistants and templates, models, providers and budgets.
pub const MANAGE: &str = "ai.manage";
/// Permission to ask assistants (and so to hold conversations).
pub const USE: &str = "messages.write";
/// Longest name of an assistant or template, and longest conversation title, in characters.
pub const NAME_MAX: usize = 80;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 500;
/// Longest icon (an emoji or an icon name), in bytes.
pub const ICON_MAX_BYTES: usize = 64;
/// Longest template body, in characters.
pub const TEMPLATE_BODY_MAX: usize = 16_000;
/// Most variables one render request may carry.
pub const MAX_RENDER_VARIABLES: usize = 100;
/// Longest variable value, in characters.
pub const VARIABLE_VALUE_MAX: usize = 16_000;
/// Conversation messages per page when the client does not say, and at most.
pub const DEFAULT_MESSAGES_LIMIT: u32 = 50;
pub const MAX_MESSAGES_LIMIT: u32 = 200;

/// A change to an optional field: absent leaves it, `null` clears it.
pub type Change<T> = Option<Option<T>>;

fn text(field: &str, value: &str, max: usize, allow_empty: bool) -> ServiceResult<String> {
    let value = value.trim();
    if value.is_empty() && !allow_empty {
        return Err(ServiceError::Invalid(format!("{field}: must not be empty")));
    }
    let len = value.chars().count();
    if len > max {
        return Err(ServiceError::Invalid(format!(
            "{field}: at most {max} characters (got {len})"
        )));
    }
    Ok(value.to_owned())
}

fn model_name(value: &str) -> ServiceResult<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_MODEL_NAME_BYTES {
        return Err(ServiceError::Invalid(format!(
            "model: 1 to {MAX_MODEL_NAME_BYTES} bytes"
        )));
    }
    Ok(value.to_owned())
}

fn temperature(value: Option<Temperature>) -> ServiceResult<Option<Temperature>> {
    value
        .map(|t| t.check_range().map_err(ServiceError::Invalid))
        .transpose()
}

fn icon(value: Option<String>) -> ServiceResult<Option<String>> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.len() > ICON_MAX_BYTES => Err(ServiceError::Invalid(format!(
            "icon: at most {ICON_MAX_BYTES} bytes"
        ))),
        other => Ok(other),
    }
}

fn opt_text(field: &str, value: Option<String>, max: usize) -> ServiceResult<Option<String>> {
    value
        .map(|v| text(field, &v, max, true))
        .transpose()
        .map(|v| v.filter(|v| !v.is_empty()))
}

/// What a new conversation starts with.
#[derive(Clone, Debug, Default)]
pub struct NewConversation {
    pub title: Option<String>,
    pub channel_id: Option<ChannelId>,
    pub assistant_id: Option<AssistantId>,
    pub model: Option<String>,
    pub temperature: Option<Temperature>,
    pub system_prompt: Option<String>,
}

/// A change to a conversation.
#[derive(Clone, Debug, Default)]
pub struct ConversationChange {
    pub title: Change<String>,
    pub assistant_id: Change<AssistantId>,
    pub model: Change<String>,
    pub temperature: Change<Temperature>,
    pub system_prompt: Change<String>,
}

/// A conversation the caller may see, or `NotFound`.
pub async fn visible_conversation(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
) -> ServiceResult<Conversation> {
    let c = store
        .get_conversation(caller.org(), id)
        .await
        .or_not_found("conversation")?;
    let visible = match c.channel_id {
        None => c.user_id == caller.id(),
        Some(channel) => match store.get_member(channel, caller.id()).await {
            Ok(_) => true,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        },
    };
    if visible {
        Ok(c)
    } else {
        Err(ServiceError::NotFound("conversation not found".into()))
    }
}

async fn usable_assistant(
    store: &dyn Store,
    caller: &Caller,
    id: AssistantId,
) -> ServiceResult<Assistant> {
    let a = store
        .get_assistant(caller.org(), id)
        .await
        .or_not_found("assistant")?;
    match a.owner_id {
        Some(owner) if owner != caller.id() => {
            Err(ServiceError::NotFound("assistant not found".into()))
        }
        _ => Ok(a),
    }
}

pub async fn create_conversation(
    store: &dyn Store,
    caller: &Caller,
    input: NewConversation,
) -> ServiceResult<Conversation> {
    caller.require(USE)?;
    if let Some(channel) = input.channel_id {
        store
            .get_channel(caller.org(), channel)
            .await
            .or_not_found("channel")?;
        match store.get_member(channel, caller.id()).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ServiceError::Forbidden(
                    "you are not a member of that channel".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(assistant) = input.assistant_id {
        usable_assistant(store, caller, assistant).await?;
    }
    let now = clock::now();
    let conversation = Conversation {
        id: ConversationId::new(),
        org_id: caller.org(),
        user_id: caller.id(),
        channel_id: input.channel_id,
        assistant_id: input.assistant_id,
        title: opt_text("title", input.title, NAME_MAX)?,
        model: input.model.as_deref().map(model_name).transpose()?,
        temperature: temperature(input.temperature)?,
        system_prompt: opt_text(
            "system_prompt",
            input.system_prompt,
            MAX_SYSTEM_PROMPT_CHARS,
        )?,
        created_at: now,
        updated_at: now,
    };
    store.create_conversation(&conversation).await?;
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action: actions::AI_CONVERSATION_CREATE,
            target: Some(conversation.id.to_string()),
            detail: json!({
                "channel_id": conversation.channel_id,
                "assistant_id": conversation.assistant_id,
                "model": conversation.model,
            }),
        },
    )
    .await;
    Ok(conversation)
}

pub async fn list_conversations(
    store: &dyn Store,
    caller: &Caller,
    page: Page,
) -> ServiceResult<Paged<Conversation>> {
    Ok(store
        .list_conversations(caller.org(), caller.id(), page)
        .await?)
}

pub async fn update_conversation(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
    change: ConversationChange,
) -> ServiceResult<Conversation> {
    let mut c = visible_conversation(store, caller, id).await?;
    if c.user_id != caller.id() {
        return Err(ServiceError::Forbidden(
            "only the conversation's owner may change it".into(),
        ));
    }
    if let Some(title) = change.title {
        c.title = opt_text("title", title, NAME_MAX)?;
    }
    if let Some(assistant) = change.assistant_id {
        if let Some(a) = assistant {
            usable_assistant(store, caller, a).await?;
        }
        c.assistant_id = assistant;
    }
    if let Some(model) = change.model {
        c.model = model.as_deref().map(model_name).transpose()?;
    }
    if let Some(t) = change.temperature {
        c.temperature = temperature(t)?;
    }
    if let Some(prompt) = change.system_prompt {
        c.system_prompt = opt_text("system_prompt", prompt, MAX_SYSTEM_PROMPT_CHARS)?;
    }
    c.updated_at = clock::now();
    Ok(store.update_conversation(&c).await?)
}

pub async fn delete_conversation(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
) -> ServiceResult<()> {
    let c = visible_conversation(store, caller, id).await?;
    if c.user_id != caller.id() && !caller.can(MANAGE) {
        return Err(ServiceError::Forbidden(
            "only the conversation's owner may delete it".into(),
        ));
    }
    store.delete_conversation(caller.org(), id).await?;
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action: actions::AI_CONVERSATION_DELETE,
            target: Some(id.to_string()),
            detail: json!({ "owner": c.user_id, "channel_id": c.channel_id }),
        },
    )
    .await;
    Ok(())
}

pub async fn list_messages(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
    before_seq: Option<i64>,
    limit: Option<u32>,
) -> ServiceResult<Vec<ConversationMessage>> {
    visible_conversation(store, caller, id).await?;
    let limit = limit.unwrap_or(DEFAULT_MESSAGES_LIMIT);
    if !(1..=MAX_MESSAGES_LIMIT).contains(&limit) {
        return Err(ServiceError::Invalid(format!(
            "limit: must be between 1 and {MAX_MESSAGES_LIMIT}"
        )));
    }
    if before_seq.is_some_and(|s| s < 0) {
        return Err(ServiceError::Invalid(
            "before_seq: must not be negative".into(),
        ));
    }
    Ok(store
        .list_conversation_messages(id, before_seq, limit)
        .await?)
}

/// An assistant's editable fields.
#[derive(Clone, Debug, Default)]
pub struct AssistantFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub icon: Change<String>,
    pub system_prompt: Option<String>,
    pub model: Change<String>,
    pub temperature: Change<Temperature>,
}

/// Global records need `ai.manage`; personal ones belong to the caller.
fn may_manage(caller: &Caller, owner: Option<atrium_core::ids::UserId>) -> ServiceResult<()> {
    match owner {
        None => caller.require(MANAGE),
        Some(owner) if owner == caller.id() => Ok(()),
        Some(_) => Err(ServiceError::NotFound("not found".into())),
    }
}

fn apply_assistant(a: &mut Assistant, f: AssistantFields) -> ServiceResult<()> {
    if let Some(name) = f.name {
        a.name = text("name", &name, NAME_MAX, false)?;
    }
    if let Some(d) = f.description {
        a.description = text("description", &d, DESCRIPTION_MAX, true)?;
    }
    if let Some(i) = f.icon {
        a.icon = icon(i)?;
    }
    if let Some(p) = f.system_prompt {
        a.system_prompt = text("system_prompt", &p, MAX_SYSTEM_PROMPT_CHARS, true)?;
    }
    if let Some(m) = f.model {
        a.model = m.as_deref().map(model_name).transpose()?;
    }
    if let Some(t) = f.temperature {
        a.temperature = temperature(t)?;
    }
    Ok(())
}

pub async fn create_assistant(
    store: &dyn Store,
    caller: &Caller,
    global: bool,
    fields: AssistantFields,
) -> ServiceResult<Assistant> {
    caller.require(USE)?;
    let owner = (!global).then(|| caller.id());
    may_manage(caller, owner)?;
    let now = clock::now();
    let mut a = Assistant {
        id: AssistantId::new(),
        org_id: caller.org(),
        owner_id: owner,
        name: String::new(),
        description: String::new(),
        icon: None,
        system_prompt: String::new(),
        model: None,
        temperature: None,
        created_at: now,
        updated_at: now,
    };
    if fields.name.is_none() {
        return Err(ServiceError::Invalid("name: required".into()));
    }
    apply_assistant(&mut a, fields)?;
    store.create_assistant(&a).await?;
    audit_record(
        store,
        caller,
        actions::AI_ASSISTANT_CREATE,
        a.id.to_string(),
        owner,
    )
    .await;
    Ok(a)
}

pub async fn get_assistant(
    store: &dyn Store,
    caller: &Caller,
    id: AssistantId,
) -> ServiceResult<Assistant> {
    usable_assistant(store, caller, id).await
}

pub async fn list_assistants(store: &dyn Store, caller: &Caller) -> ServiceResult<Vec<Assistant>> {
    Ok(store.list_assistants(caller.org(), caller.id()).await?)
}

pub async fn update_assistant(
    store: &dyn Store,
    caller: &Caller,
    id: AssistantId,
    fields: AssistantFields,
) -> ServiceResult<Assistant> {
    let mut a = usable_assistant(store, caller, id).await?;
    may_manage(caller, a.owner_id)?;
    apply_assistant(&mut a, fields)?;
    a.updated_at = clock::now();
    let a = store.update_assistant(&a).await?;
    audit_record(
        store,
        caller,
        actions::AI_ASSISTANT_UPDATE,
        a.id.to_string(),
        a.owner_id,
    )
    .await;
    Ok(a)
}

pub async fn delete_assistant(
    store: &dyn Store,
    caller: &Caller,
    id: AssistantId,
) -> ServiceResult<()> {
    let a = usable_assistant(store, caller, id).await?;
    may_manage(caller, a.owner_id)?;
    store.delete_assistant(caller.org(), id).await?;
    audit_record(
        store,
        caller,
        actions::AI_ASSISTANT_DELETE,
        id.to_string(),
        a.owner_id,
    )
    .await;
    Ok(())
}

/// A template's editable fields.
#[derive(Clone, Debug, Default)]
pub struct TemplateFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
}

fn apply_template(t: &mut PromptTemplate, f: TemplateFields) -> ServiceResult<()> {
    if let Some(name) = f.name {
        t.name = text("name", &name, NAME_MAX, false)?;
    }
    if let Some(d) = f.description {
        t.description = text("description", &d, DESCRIPTION_MAX, true)?;
    }
    if let Some(b) = f.body {
        if b.trim().is_empty() {
            return Err(ServiceError::Invalid("body: must not be empty".into()));
        }
        let len = b.chars().count();
        if len > TEMPLATE_BODY_MAX {
            return Err(ServiceError::Invalid(format!(
                "body: at most {TEMPLATE_BODY_MAX} characters (got {len})"
            )));
        }
        t.body = b;
    }
    Ok(())
}

async fn visible_template(
    store: &dyn Store,
    caller: &Caller,
    id: PromptTemplateId,
) -> ServiceResult<PromptTemplate> {
    let t = store
        .get_template(caller.org(), id)
        .await
        .or_not_found("template")?;
    match t.owner_id {
        Some(owner) if owner != caller.id() => {
            Err(ServiceError::NotFound("template not found".into()))
        }
        _ => Ok(t),
    }
}

pub async fn create_template(
    store: &dyn Store,
    caller: &Caller,
    global: bool,
    fields: TemplateFields,
) -> ServiceResult<PromptTemplate> {
    caller.require(USE)?;
    let owner = (!global).then(|| caller.id());
    may_manage(caller, owner)?;
    if fields.name.is_none() || fields.body.is_none() {
        return Err(ServiceError::Invalid("name and body: required".into()));
    }
    let now = clock::now();
    let mut t = PromptTemplate {
        id: PromptTemplateId::new(),
        org_id: caller.org(),
        owner_id: owner,
        name: String::new(),
        description: String::new(),
        body: String::new(),
        created_at: now,
        updated_at: now,
    };
    apply_template(&mut t, fields)?;
    store.create_template(&t).await?;
    audit_record(
        store,
        caller,
        actions::AI_TEMPLATE_CREATE,
        t.id.to_string(),
        owner,
    )
    .await;
    Ok(t)
}

pub async fn get_template(
    store: &dyn Store,
    caller: &Caller,
    id: PromptTemplateId,
) -> ServiceResult<PromptTemplate> {
    visible_template(store, caller, id).await
}

pub async fn list_templates(
    store: &dyn Store,
    caller: &Caller,
) -> ServiceResult<Vec<PromptTemplate>> {
    Ok(store.list_templates(caller.org(), caller.id()).await?)
}

pub async fn update_template(
    store: &dyn Store,
    caller: &Caller,
    id: PromptTemplateId,
    fields: TemplateFields,
) -> ServiceResult<PromptTemplate> {
    let mut t = visible_template(store, caller, id).await?;
    may_manage(caller, t.owner_id)?;
    apply_template(&mut t, fields)?;
    t.updated_at = clock::now();
    let t = store.update_template(&t).await?;
    audit_record(
        store,
        caller,
        actions::AI_TEMPLATE_UPDATE,
        t.id.to_string(),
        t.owner_id,
    )
    .await;
    Ok(t)
}

pub async fn delete_template(
    store: &dyn Store,
    caller: &Caller,
    id: PromptTemplateId,
) -> ServiceResult<()> {
    let t = visible_template(store, caller, id).await?;
    may_manage(caller, t.owner_id)?;
    store.delete_template(caller.org(), id).await?;
    audit_record(
        store,
        caller,
        actions::AI_TEMPLATE_DELETE,
        id.to_string(),
        t.owner_id,
    )
    .await;
    Ok(())
}

/// Checks render variables: at most [`MAX_RENDER_VARIABLES`], values of bounded length.
pub fn check_variables(values: &BTreeMap<String, String>) -> ServiceResult<()> {
    if values.len() > MAX_RENDER_VARIABLES {
        return Err(ServiceError::Invalid(format!(
            "variables: at most {MAX_RENDER_VARIABLES}"
        )));
    }
    if let Some((name, _)) = values
        .iter()
        .find(|(_, v)| v.chars().count() > VARIABLE_VALUE_MAX)
    {
        return Err(ServiceError::Invalid(format!(
            "variables.{name}: at most {VARIABLE_VALUE_MAX} characters"
        )));
    }
    Ok(())
}

/// Renders a stored template.
pub async fn render_template(
    store: &dyn Store,
    caller: &Caller,
    id: PromptTemplateId,
    values: &BTreeMap<String, String>,
) -> ServiceResult<Rendered> {
    check_variables(values)?;
    let t = visible_template(store, caller, id).await?;
    Ok(render(&t.body, values))
}

async fn audit_record(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: String,
    owner: Option<atrium_core::ids::UserId>,
) {
    audit::record(
        store,
        AuditEvent {
            org: caller.org(),
            actor: Some(caller.id()),
            action,
            target: Some(target),
            detail: json!({ "global": owner.is_none() }),
        },
    )
    .await;
}
