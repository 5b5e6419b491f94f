//! The AI hub store: conversations and messages, assistants, templates, providers, models,
//! usage, budgets and the organization overview.

use time::Duration;

use atrium_core::ai::{
    AiModel, AiProvider, Assistant, Budget, BudgetMetric, BudgetPeriod, Conversation,
    ConversationMessage, ConversationRole, MessageStatus, Price, PromptTemplate, SealedKey,
    Temperature, UsageOutcome, UsagePurpose, UsageRecord,
};
use atrium_core::ids::{
    AiModelId, AssistantId, BudgetId, ConversationId, ConversationMessageId, OrgId,
    PromptTemplateId, StreamId, UserId,
};
use atrium_persistence::ai_store::UsageWindow;
use atrium_persistence::store::{Page, StoreError};

use crate::data::{channel, ms, now, org, send, user};
use crate::fixture::Db;

fn conversation(org: OrgId, user: UserId) -> Conversation {
    Conversation {
        id: ConversationId::new(),
        org_id: org,
        user_id: user,
        channel_id: None,
        assistant_id: None,
        title: None,
        model: Some("gpt".into()),
        temperature: Some(Temperature::new(0.5).unwrap()),
        system_prompt: None,
        created_at: ms(now()),
        updated_at: ms(now()),
    }
}

fn message(
    conversation: ConversationId,
    role: ConversationRole,
    content: &str,
) -> ConversationMessage {
    ConversationMessage {
        id: ConversationMessageId::new(),
        conversation_id: conversation,
        seq: 0,
        role,
        content: content.into(),
        author_id: None,
        model: None,
        stream_id: None,
        status: MessageStatus::Complete,
        created_at: ms(now()),
    }
}

pub async fn conversations_and_messages(db: Db) {
    let s = &db.store;
    let acme = org(s, "acme").await;
    let other = org(s, "other").await;
    let ada = user(s, acme.id, "ada").await;
    let bob = user(s, acme.id, "bob").await;
    let eve = user(s, other.id, "eve").await;

    let mine = conversation(acme.id, ada.id);
    s.create_conversation(&mine).await.unwrap();
    assert_eq!(s.get_conversation(acme.id, mine.id).await.unwrap(), mine);
    // Another tenant's id reads as missing; a user of another org cannot own one here.
    assert!(matches!(
        s.get_conversation(other.id, mine.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.create_conversation(&conversation(acme.id, eve.id)).await,
        Err(StoreError::NotFound)
    ));

    // A channel conversation is visible to the channel's members.
    let ch = channel(s, acme.id, bob.id, "team").await;
    let mut shared = conversation(acme.id, bob.id);
    shared.channel_id = Some(ch.id);
    s.create_conversation(&shared).await.unwrap();
    let seen = s
        .list_conversations(acme.id, ada.id, Page::default())
        .await
        .unwrap();
    assert_eq!(seen.total, 1, "ada is not in the channel yet");
    s.add_member(ch.id, ada.id, atrium_core::model::MemberRole::Member)
        .await
        .unwrap();
    let seen = s
        .list_conversations(acme.id, ada.id, Page::default())
        .await
        .unwrap();
    assert_eq!(seen.total, 2);
    assert_eq!(
        s.list_channel_conversations(acme.id, ch.id).await.unwrap(),
        vec![shared.clone()]
    );
    assert!(
        s.list_channel_conversations(other.id, ch.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Messages get seqs 1, 2, 3 and page like history.
    let mut stored = Vec::new();
    for (role, text) in [
        (ConversationRole::User, "hi"),
        (ConversationRole::Assistant, "hello"),
        (ConversationRole::User, "more"),
    ] {
        let mut m = message(mine.id, role, text);
        m.stream_id = (role == ConversationRole::Assistant).then(StreamId::new);
        m.status = if role == ConversationRole::Assistant {
            MessageStatus::Partial
        } else {
            MessageStatus::Complete
        };
        stored.push(s.append_conversation_message(acme.id, &m).await.unwrap());
    }
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let all = s
        .list_conversation_messages(mine.id, None, 50)
        .await
        .unwrap();
    assert_eq!(all, stored);
    assert_eq!(all[1].status, MessageStatus::Partial);
    let older = s
        .list_conversation_messages(mine.id, Some(3), 1)
        .await
        .unwrap();
    assert_eq!(older, vec![stored[1].clone()]);
    // Appending through another organization touches nothing.
    assert!(matches!(
        s.append_conversation_message(other.id, &message(mine.id, ConversationRole::User, "x"))
            .await,
        Err(StoreError::NotFound)
    ));

    // The auto-title never overwrites.
    assert!(
        s.set_conversation_title_if_unset(acme.id, mine.id, "First")
            .await
            .unwrap()
    );
    assert!(
        !s.set_conversation_title_if_unset(acme.id, mine.id, "Second")
            .await
            .unwrap()
    );
    let mut changed = s.get_conversation(acme.id, mine.id).await.unwrap();
    assert_eq!(changed.title.as_deref(), Some("First"));
    changed.title = Some("Renamed".into());
    changed.model = None;
    changed.temperature = None;
    changed.system_prompt = Some("be brief".into());
    changed.updated_at = ms(now() + Duration::seconds(1));
    assert_eq!(s.update_conversation(&changed).await.unwrap(), changed);

    assert!(!s.delete_conversation(other.id, mine.id).await.unwrap());
    assert!(s.delete_conversation(acme.id, mine.id).await.unwrap());
    assert!(
        s.list_conversation_messages(mine.id, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn assistants_and_templates(db: Db) {
    let s = &db.store;
    let acme = org(s, "acme").await;
    let other = org(s, "other").await;
    let ada = user(s, acme.id, "ada").await;
    let bob = user(s, acme.id, "bob").await;
    let t = ms(now());
    let global = Assistant {
        id: AssistantId::new(),
        org_id: acme.id,
        owner_id: None,
        name: "Helper".into(),
        description: "general".into(),
        icon: Some("🤖".into()),
        system_prompt: "You help.".into(),
        model: Some("claude".into()),
        temperature: Some(Temperature::new(0.25).unwrap()),
        created_at: t,
        updated_at: t,
    };
    let personal = Assistant {
        id: AssistantId::new(),
        owner_id: Some(ada.id),
        name: "Ada's".into(),
        icon: None,
        model: None,
        temperature: None,
        ..global.clone()
    };
    s.create_assistant(&global).await.unwrap();
    s.create_assistant(&personal).await.unwrap();
    assert_eq!(
        s.list_assistants(acme.id, ada.id).await.unwrap(),
        vec![personal.clone(), global.clone()]
    );
    assert_eq!(
        s.list_assistants(acme.id, bob.id).await.unwrap(),
        vec![global.clone()]
    );
    assert!(matches!(
        s.get_assistant(other.id, global.id).await,
        Err(StoreError::NotFound)
    ));
    let mut renamed = personal.clone();
    renamed.name = "Renamed".into();
    renamed.updated_at = ms(now() + Duration::seconds(1));
    assert_eq!(s.update_assistant(&renamed).await.unwrap(), renamed);
    let mut foreign = renamed.clone();
    foreign.org_id = other.id;
    assert!(matches!(
        s.update_assistant(&foreign).await,
        Err(StoreError::NotFound)
    ));

    // A conversation keeps working when its assistant is deleted.
    let mut c = conversation(acme.id, ada.id);
    c.assistant_id = Some(personal.id);
    s.create_conversation(&c).await.unwrap();
    assert!(s.delete_assistant(acme.id, personal.id).await.unwrap());
    assert!(!s.delete_assistant(acme.id, personal.id).await.unwrap());
    assert_eq!(
        s.get_conversation(acme.id, c.id)
            .await
            .unwrap()
            .assistant_id,
        None
    );

    let tpl = PromptTemplate {
        id: PromptTemplateId::new(),
        org_id: acme.id,
        owner_id: Some(bob.id),
        name: "Summary".into(),
        description: "".into(),
        body: "Summarise {{text}}".into(),
        created_at: t,
        updated_at: t,
    };
    s.create_template(&tpl).await.unwrap();
    assert_eq!(s.get_template(acme.id, tpl.id).await.unwrap(), tpl);
    assert!(s.list_templates(acme.id, ada.id).await.unwrap().is_empty());
    assert_eq!(
        s.list_templates(acme.id, bob.id).await.unwrap(),
        vec![tpl.clone()]
    );
    let mut edited = tpl.clone();
    edited.body = "Summarise {{text}} in {{n}} words".into();
    assert_eq!(s.update_template(&edited).await.unwrap(), edited);
    assert!(matches!(
        s.get_template(other.id, tpl.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.delete_template(acme.id, tpl.id).await.unwrap());
    // An owner from another organization is refused.
    let eve = user(s, other.id, "eve").await;
    let bad = PromptTemplate {
        id: PromptTemplateId::new(),
        owner_id: Some(eve.id),
        ..tpl
    };
    assert!(matches!(
        s.create_template(&bad).await,
        Err(StoreError::NotFound)
    ));
}

fn model(name: &str, default: bool) -> AiModel {
    let t = ms(now());
    AiModel {
        id: AiModelId::new(),
        name: name.into(),
        display_name: name.to_uppercase(),
        provider: "openai".into(),
        model_id: format!("{name}-upstream"),
        deployment: None,
        enabled: true,
        is_default: default,
        supports_temperature: true,
        uses_max_completion_tokens: false,
        max_tokens: Some(512),
        fallback: vec!["local".into()],
        input_price: Price(3_000_000),
        output_price: Price(15_000_000),
        created_at: t,
        updated_at: t,
    }
}

pub async fn providers_and_models(db: Db) {
    let s = &db.store;
    let openai = AiProvider {
        name: "openai".into(),
        kind: "openai".into(),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        api_version: None,
        key: Some(SealedKey {
            ciphertext: vec![1, 2, 3, 250],
            hint: "abcd".into(),
        }),
        updated_at: ms(now()),
    };
    s.put_provider(&openai).await.unwrap();
    assert_eq!(s.get_provider("openai").await.unwrap(), openai);
    let mut without_key = openai.clone();
    without_key.key = None;
    without_key.base_url = None;
    s.put_provider(&without_key).await.unwrap();
    assert_eq!(s.get_provider("openai").await.unwrap(), without_key);
    assert!(
        !s.insert_provider_if_absent(&openai).await.unwrap(),
        "exists: untouched"
    );
    assert_eq!(s.get_provider("openai").await.unwrap(), without_key);
    let azure = AiProvider {
        name: "azure".into(),
        kind: "azure_openai".into(),
        ..openai.clone()
    };
    assert!(s.insert_provider_if_absent(&azure).await.unwrap());
    assert_eq!(
        s.list_providers()
            .await
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["azure", "openai"]
    );
    assert!(s.delete_provider("azure").await.unwrap());
    assert!(!s.delete_provider("azure").await.unwrap());
    assert!(matches!(
        s.get_provider("azure").await,
        Err(StoreError::NotFound)
    ));

    let a = model("a", true);
    let b = model("b", false);
    s.create_model(&a).await.unwrap();
    s.create_model(&b).await.unwrap();
    assert_eq!(s.get_model(a.id).await.unwrap(), a);
    assert!(
        matches!(s.create_model(&model("a", false)).await, Err(StoreError::Conflict(n)) if n == "name")
    );
    // A new default takes the role from the old one.
    let c = model("c", true);
    s.create_model(&c).await.unwrap();
    let defaults: Vec<String> = s
        .list_models()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.is_default)
        .map(|m| m.name)
        .collect();
    assert_eq!(defaults, vec!["c"]);
    // So does an update.
    let mut b2 = b.clone();
    b2.is_default = true;
    b2.enabled = false;
    b2.fallback = vec!["a".into(), "local".into()];
    b2.max_tokens = None;
    b2.deployment = Some("prod".into());
    b2.updated_at = ms(now() + Duration::seconds(1));
    assert_eq!(s.update_model(&b2).await.unwrap(), b2);
    let defaults: Vec<String> = s
        .list_models()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.is_default)
        .map(|m| m.name)
        .collect();
    assert_eq!(defaults, vec!["b"]);
    // Renaming onto a taken name is a conflict.
    let mut clash = b2.clone();
    clash.name = "a".into();
    clash.is_default = false;
    assert!(matches!(
        s.update_model(&clash).await,
        Err(StoreError::Conflict(_))
    ));
    // Seeding skips taken names and never steals the default.
    assert!(!s.insert_model_if_absent(&model("a", false)).await.unwrap());
    assert!(s.insert_model_if_absent(&model("d", true)).await.unwrap());
    let d = s
        .list_models()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.name == "d")
        .unwrap();
    assert!(!d.is_default);
    assert!(s.delete_model(a.id).await.unwrap());
    assert!(!s.delete_model(a.id).await.unwrap());
    assert!(matches!(s.get_model(a.id).await, Err(StoreError::NotFound)));
}

fn usage(
    org: OrgId,
    user: UserId,
    model: &str,
    tokens: (u64, u64),
    cost: i64,
    at: time::OffsetDateTime,
) -> UsageRecord {
    UsageRecord {
        id: 0,
        org_id: org,
        user_id: user,
        conversation_id: None,
        stream_id: Some(StreamId::new()),
        model: model.into(),
        provider: "openai".into(),
        purpose: UsagePurpose::Chat,
        outcome: UsageOutcome::Completed,
        streamed: true,
        input_tokens: tokens.0,
        output_tokens: tokens.1,
        cost_micros: cost,
        error_code: None,
        at: ms(at),
    }
}

pub async fn usage_and_budgets(db: Db) {
    let s = &db.store;
    let acme = org(s, "acme").await;
    let other = org(s, "other").await;
    let ada = user(s, acme.id, "ada").await;
    let bob = user(s, acme.id, "bob").await;
    let t = now();
    let first = s
        .record_usage(&usage(
            acme.id,
            ada.id,
            "gpt",
            (10, 20),
            300,
            t - Duration::days(2),
        ))
        .await
        .unwrap();
    let mut failed = usage(acme.id, ada.id, "claude", (5, 0), 0, t);
    failed.outcome = UsageOutcome::Failed;
    failed.streamed = false;
    failed.error_code = Some("provider_unavailable".into());
    s.record_usage(&failed).await.unwrap();
    s.record_usage(&usage(acme.id, bob.id, "gpt", (1, 1), 1000, t))
        .await
        .unwrap();
    s.record_usage(&usage(other.id, bob.id, "gpt", (999, 999), 999, t))
        .await
        .unwrap();

    let all = s
        .usage_totals(acme.id, None, UsageWindow::default())
        .await
        .unwrap();
    assert_eq!(
        (
            all.requests,
            all.input_tokens,
            all.output_tokens,
            all.cost_micros
        ),
        (3, 16, 21, 1300)
    );
    let ada_recent = s
        .usage_totals(
            acme.id,
            Some(ada.id),
            UsageWindow {
                since: Some(t - Duration::days(1)),
                until: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            ada_recent.requests,
            ada_recent.input_tokens,
            ada_recent.cost_micros
        ),
        (1, 5, 0)
    );
    let old = s
        .usage_totals(
            acme.id,
            None,
            UsageWindow {
                since: None,
                until: Some(t - Duration::days(1)),
            },
        )
        .await
        .unwrap();
    assert_eq!(old.requests, 1);
    let by_user = s
        .usage_by_user(acme.id, UsageWindow::default())
        .await
        .unwrap();
    assert_eq!(
        by_user
            .iter()
            .map(|(u, t)| (*u, t.cost_micros))
            .collect::<Vec<_>>(),
        vec![(bob.id, 1000), (ada.id, 300)]
    );
    let by_model = s
        .usage_by_model(acme.id, UsageWindow::default())
        .await
        .unwrap();
    assert_eq!(
        by_model
            .iter()
            .map(|(m, t)| (m.as_str(), t.requests))
            .collect::<Vec<_>>(),
        vec![("gpt", 2), ("claude", 1)]
    );
    let listed = s.list_usage(acme.id, Page::new(2, 0)).await.unwrap();
    assert_eq!(listed.total, 3);
    assert_eq!(listed.items.len(), 2);
    let oldest = s.list_usage(acme.id, Page::new(2, 2)).await.unwrap();
    assert_eq!(oldest.items[0].id, first);
    assert!(listed.items.iter().any(|u| u
        == &UsageRecord {
            id: u.id,
            ..failed.clone()
        }));

    let tb = ms(now());
    let org_budget = Budget {
        id: BudgetId::new(),
        org_id: acme.id,
        user_id: None,
        metric: BudgetMetric::Cost,
        limit: 5_000_000,
        period: BudgetPeriod::Month,
        created_at: tb,
        updated_at: tb,
    };
    let ada_budget = Budget {
        id: BudgetId::new(),
        user_id: Some(ada.id),
        metric: BudgetMetric::Tokens,
        limit: 1000,
        period: BudgetPeriod::Day,
        ..org_budget.clone()
    };
    assert_eq!(s.put_budget(&org_budget).await.unwrap(), org_budget);
    assert_eq!(s.put_budget(&ada_budget).await.unwrap(), ada_budget);
    // Replacing keeps the id and creation time.
    let replaced = Budget {
        id: BudgetId::new(),
        limit: 2000,
        period: BudgetPeriod::Week,
        updated_at: ms(now() + Duration::seconds(1)),
        ..ada_budget.clone()
    };
    let stored = s.put_budget(&replaced).await.unwrap();
    assert_eq!(
        (stored.id, stored.limit, stored.period, stored.created_at),
        (
            ada_budget.id,
            2000,
            BudgetPeriod::Week,
            ada_budget.created_at
        )
    );
    assert_eq!(s.list_budgets(acme.id).await.unwrap().len(), 2);
    assert_eq!(s.budgets_for(acme.id, ada.id).await.unwrap().len(), 2);
    assert_eq!(
        s.budgets_for(acme.id, bob.id).await.unwrap(),
        vec![org_budget.clone()]
    );
    assert!(s.list_budgets(other.id).await.unwrap().is_empty());
    // A budget for another organization's user is refused.
    let eve = user(s, other.id, "eve").await;
    assert!(matches!(
        s.put_budget(&Budget {
            id: BudgetId::new(),
            user_id: Some(eve.id),
            ..org_budget.clone()
        })
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(!s.delete_budget(other.id, org_budget.id).await.unwrap());
    assert!(s.delete_budget(acme.id, org_budget.id).await.unwrap());
}

pub async fn org_stats(db: Db) {
    let s = &db.store;
    let acme = org(s, "acme").await;
    let other = org(s, "other").await;
    let ada = user(s, acme.id, "ada").await;
    user(s, other.id, "eve").await;
    let ch = channel(s, acme.id, ada.id, "c").await;
    send(s, ch.id, ada.id, "one").await;
    send(s, ch.id, ada.id, "two").await;
    let c = conversation(acme.id, ada.id);
    s.create_conversation(&c).await.unwrap();
    s.append_conversation_message(acme.id, &message(c.id, ConversationRole::User, "q"))
        .await
        .unwrap();
    let stats = s.org_stats(acme.id).await.unwrap();
    assert_eq!(
        (
            stats.users,
            stats.active_users,
            stats.channels,
            stats.messages,
            stats.conversations,
            stats.conversation_messages,
            stats.assistants,
            stats.templates,
            stats.tickets
        ),
        (1, 1, 1, 2, 1, 1, 0, 0, 0)
    );
}
