//! Tickets: numbering (also under concurrency), reads scoped by organization, the list filters
//! and order, changes with comments and activity, SLA state and breaches, surveys, settings,
//! agents and their loads, notifications.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use serde_json::json;
use time::{Duration, OffsetDateTime};

use atrium_core::ids::{NotificationId, OrgId, TicketCommentId, TicketId, UserId};
use atrium_core::notification::{KIND_TICKET_SLA_BREACH, Notification};
use atrium_core::rbac::Role;
use atrium_core::ticket::records::{
    ActivityAction, NewActivity, SlaBreach, SlaTarget, TicketComment, TicketSettings,
    TicketSlaState, TicketSurvey,
};
use atrium_core::ticket::{
    Priority, Rating, SlaPolicy, Ticket, TicketNumber, TicketStatus, TicketType,
};
use atrium_persistence::store::{Page, Store, StoreError};
use atrium_persistence::ticket_store::{BreachRecord, NewTicket, TicketChange, TicketFilter};

use crate::data::{self, ms, now};
use crate::fixture::Db;

fn ticket_record(org: OrgId, reporter: UserId, priority: Priority, subject: &str) -> Ticket {
    let at = now();
    Ticket {
        id: TicketId::new(),
        org_id: org,
        number: TicketNumber::FIRST,
        ticket_type: TicketType::Support,
        priority,
        status: TicketStatus::New,
        subject: subject.to_owned(),
        description: "Beschreibung".to_owned(),
        reporter_id: reporter,
        assignee_id: None,
        tags: BTreeSet::new(),
        metadata: serde_json::Map::new(),
        created_at: at,
        updated_at: at,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
    }
}

fn created(t: &Ticket) -> NewActivity {
    NewActivity::new(
        Some(t.reporter_id),
        ActivityAction::Created,
        serde_json::Value::Null,
        json!({"type": t.ticket_type, "priority": t.priority, "status": t.status}),
        t.created_at,
    )
}

async fn create(store: &Arc<dyn Store>, t: &Ticket, sla: TicketSlaState) -> Ticket {
    store
        .create_ticket(NewTicket {
            ticket: t,
            sla,
            activity: &[created(t)],
            auto_assignee: None,
        })
        .await
        .expect("create ticket")
}

pub async fn numbering_and_reads(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "globex").await;
    let ada = data::user(s, org.id, "ada").await;
    let bob = data::user(s, other.id, "bob").await;

    let mut t = ticket_record(org.id, ada.id, Priority::Urgent, "Login kaputt");
    t.tags = BTreeSet::from(["account".to_owned(), "bug".to_owned()]);
    t.metadata.insert("app".into(), json!("web/1.2"));
    let first = create(s, &t, TicketSlaState::default()).await;
    assert_eq!(first.number.to_string(), "T-000001");
    assert_eq!(first.created_at, ms(t.created_at));

    let second = create(
        s,
        &ticket_record(org.id, ada.id, Priority::Low, "b"),
        TicketSlaState::default(),
    )
    .await;
    assert_eq!(second.number.get(), 2);
    // Another organization counts from 1 on its own.
    let theirs = create(
        s,
        &ticket_record(other.id, bob.id, Priority::Low, "c"),
        TicketSlaState::default(),
    )
    .await;
    assert_eq!(theirs.number.get(), 1);

    let got = s.get_ticket(org.id, first.id).await.unwrap();
    assert_eq!(got.ticket, first);
    assert_eq!(got.sla, TicketSlaState::default());
    assert_eq!(
        s.get_ticket_by_number(org.id, TicketNumber::FIRST)
            .await
            .unwrap()
            .ticket
            .id,
        first.id
    );
    // Another tenant's id is not found, from either side.
    assert!(matches!(
        s.get_ticket(other.id, first.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_ticket(org.id, theirs.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_ticket(org.id, TicketId::new()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn numbers_never_repeat_under_concurrency(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let ada = data::user(s, org.id, "ada").await;
    // Two stores on the same database (two nodes), 20 creates each, all at once.
    let second = db.open_another().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 {
            s.clone()
        } else {
            second.clone()
        };
        let t = ticket_record(org.id, ada.id, Priority::Medium, &format!("t{i}"));
        tasks.push(tokio::spawn(async move {
            create(&store, &t, TicketSlaState::default()).await.number
        }));
    }
    let mut numbers = HashSet::new();
    for task in tasks {
        assert!(
            numbers.insert(task.await.unwrap().get()),
            "a number repeated"
        );
    }
    assert_eq!(numbers, (1..=40).collect::<HashSet<u32>>());
    second.close().await;
}

pub async fn list_filters_and_order(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let ada = data::user(s, org.id, "ada").await;
    let eve = data::user(s, org.id, "eve").await;
    let agent = data::user(s, org.id, "agent").await;

    let low = create(
        s,
        &ticket_record(org.id, ada.id, Priority::Low, "low"),
        TicketSlaState::default(),
    )
    .await;
    let mut urgent_old = ticket_record(org.id, eve.id, Priority::Urgent, "urgent old");
    urgent_old.created_at -= Duration::minutes(5);
    urgent_old.tags.insert("billing".into());
    urgent_old.assignee_id = Some(agent.id);
    let urgent_old = create(
        s,
        &urgent_old,
        TicketSlaState {
            next_deadline: None,
            breached: true,
        },
    )
    .await;
    let mut urgent_new = ticket_record(org.id, ada.id, Priority::Urgent, "urgent new");
    urgent_new.ticket_type = TicketType::Bug;
    urgent_new.status = TicketStatus::Open;
    let urgent_new = create(s, &urgent_new, TicketSlaState::default()).await;

    let all = s
        .list_tickets(org.id, &TicketFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    let order: Vec<TicketId> = all.items.iter().map(|t| t.ticket.id).collect();
    assert_eq!(
        order,
        [urgent_old.id, urgent_new.id, low.id],
        "priority first, then age"
    );

    let ids = |f: TicketFilter| {
        let s = s.clone();
        async move {
            s.list_tickets(org.id, &f, Page::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|t| t.ticket.id)
                .collect::<Vec<_>>()
        }
    };
    let by = TicketFilter::default;
    assert_eq!(
        ids(TicketFilter {
            status: Some(TicketStatus::Open),
            ..by()
        })
        .await,
        [urgent_new.id]
    );
    assert_eq!(
        ids(TicketFilter {
            priority: Some(Priority::Low),
            ..by()
        })
        .await,
        [low.id]
    );
    assert_eq!(
        ids(TicketFilter {
            ticket_type: Some(TicketType::Bug),
            ..by()
        })
        .await,
        [urgent_new.id]
    );
    assert_eq!(
        ids(TicketFilter {
            assignee: Some(Some(agent.id)),
            ..by()
        })
        .await,
        [urgent_old.id]
    );
    assert_eq!(
        ids(TicketFilter {
            assignee: Some(None),
            ..by()
        })
        .await,
        [urgent_new.id, low.id]
    );
    assert_eq!(
        ids(TicketFilter {
            reporter: Some(ada.id),
            ..by()
        })
        .await,
        [urgent_new.id, low.id]
    );
    assert_eq!(
        ids(TicketFilter {
            tag: Some("billing".into()),
            ..by()
        })
        .await,
        [urgent_old.id]
    );
    assert_eq!(
        ids(TicketFilter {
            breached: Some(true),
            ..by()
        })
        .await,
        [urgent_old.id]
    );
    assert_eq!(
        ids(TicketFilter {
            breached: Some(false),
            ..by()
        })
        .await,
        [urgent_new.id, low.id]
    );
    let page = s
        .list_tickets(org.id, &TicketFilter::default(), Page::new(1, 1))
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].ticket.id, urgent_new.id);

    // Loads: unfinished tickets per assignee.
    assert_eq!(
        s.assigned_unfinished_counts(org.id).await.unwrap(),
        vec![(agent.id, 1)]
    );
    let unfinished: HashSet<TicketId> = s
        .unfinished_tickets(org.id)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(unfinished.len(), 3);
}

pub async fn changes_comments_and_activity(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let ada = data::user(s, org.id, "ada").await;
    let agent = data::user(s, org.id, "agent").await;
    let mut t = create(
        s,
        &ticket_record(org.id, ada.id, Priority::High, "a"),
        TicketSlaState::default(),
    )
    .await;

    let at = now();
    t.status = TicketStatus::InProgress;
    t.assignee_id = Some(agent.id);
    t.tags = BTreeSet::from(["vip".to_owned()]);
    t.updated_at = ms(at);
    t.first_response_at = Some(ms(at));
    let public = TicketComment {
        id: TicketCommentId::new(),
        ticket_id: t.id,
        author_id: Some(agent.id),
        body: "Wir schauen es uns an.".into(),
        internal: false,
        created_at: ms(at),
    };
    let deadline = ms(at + Duration::hours(4));
    s.update_ticket(TicketChange {
        ticket: &t,
        sla: TicketSlaState {
            next_deadline: Some(deadline),
            breached: false,
        },
        comment: Some(&public),
        activity: &[
            NewActivity::new(
                Some(agent.id),
                ActivityAction::Status,
                "new",
                "in_progress",
                at,
            ),
            NewActivity::new(
                Some(agent.id),
                ActivityAction::Comment,
                (),
                json!({"comment_id": public.id, "internal": false, "author": "agent"}),
                at,
            ),
        ],
    })
    .await
    .unwrap();
    let note = TicketComment {
        id: TicketCommentId::new(),
        ticket_id: t.id,
        author_id: Some(agent.id),
        body: "intern: Kunde ist VIP".into(),
        internal: true,
        created_at: ms(at + Duration::seconds(1)),
    };
    s.update_ticket(TicketChange {
        ticket: &t,
        sla: TicketSlaState {
            next_deadline: Some(deadline),
            breached: false,
        },
        comment: Some(&note),
        activity: &[],
    })
    .await
    .unwrap();

    let got = s.get_ticket(org.id, t.id).await.unwrap();
    assert_eq!(got.ticket, t);
    assert_eq!(got.sla.next_deadline, Some(deadline));
    assert_eq!(
        s.list_tickets(
            org.id,
            &TicketFilter {
                tag: Some("vip".into()),
                ..TicketFilter::default()
            },
            Page::default()
        )
        .await
        .unwrap()
        .total,
        1,
        "tags are replaced, and filterable"
    );

    assert_eq!(
        s.list_ticket_comments(t.id, true).await.unwrap(),
        vec![public.clone(), note]
    );
    assert_eq!(
        s.list_ticket_comments(t.id, false).await.unwrap(),
        vec![public],
        "internal notes only when asked for"
    );

    let history = s.ticket_history(t.id).await.unwrap();
    let actions: Vec<ActivityAction> = history.iter().map(|a| a.action).collect();
    assert_eq!(
        actions,
        [
            ActivityAction::Created,
            ActivityAction::Status,
            ActivityAction::Comment
        ]
    );
    assert_eq!(history[1].before, json!("new"));
    assert_eq!(history[1].after, json!("in_progress"));
    assert_eq!(history[1].actor_id, Some(agent.id));
    let page = s.list_ticket_activity(t.id, Page::new(1, 1)).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].action, ActivityAction::Status);

    // A ticket of another organization cannot be written through this one.
    let foreign = Ticket {
        org_id: OrgId::new(),
        ..t.clone()
    };
    assert!(matches!(
        s.update_ticket(TicketChange {
            ticket: &foreign,
            sla: TicketSlaState::default(),
            comment: None,
            activity: &[],
        })
        .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn sla_state_and_breaches(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let ada = data::user(s, org.id, "ada").await;
    let agent = data::user(s, org.id, "agent").await;
    let deadline = ms(now() + Duration::hours(1));
    let t = create(
        s,
        &ticket_record(org.id, ada.id, Priority::Urgent, "a"),
        TicketSlaState {
            next_deadline: Some(deadline),
            breached: false,
        },
    )
    .await;
    let later = ms(now() + Duration::hours(2));
    let other = create(
        s,
        &ticket_record(org.id, ada.id, Priority::Urgent, "b"),
        TicketSlaState {
            next_deadline: Some(later),
            breached: false,
        },
    )
    .await;
    let armed = s.armed_sla_deadlines().await.unwrap();
    let armed: Vec<(TicketId, OffsetDateTime)> =
        armed.iter().map(|a| (a.ticket, a.deadline)).collect();
    assert_eq!(armed, [(t.id, deadline), (other.id, later)]);

    let breach = SlaBreach {
        ticket_id: t.id,
        org_id: org.id,
        target: SlaTarget::Response,
        deadline,
        recorded_at: deadline,
    };
    let payload = json!({"ticket_id": t.id, "target": "response"});
    let notification = Notification {
        id: NotificationId::new(),
        org_id: org.id,
        user_id: agent.id,
        kind: KIND_TICKET_SLA_BREACH.into(),
        payload: payload.clone(),
        created_at: deadline,
        read_at: None,
    };
    let activity = NewActivity::new(
        None,
        ActivityAction::SlaBreach,
        (),
        json!({"target": "response", "deadline": deadline.unix_timestamp()}),
        deadline,
    );
    let record = BreachRecord {
        breach: &breach,
        activity: &activity,
        notifications: std::slice::from_ref(&notification),
    };
    assert!(s.record_sla_breach(record.clone()).await.unwrap());
    assert!(
        !s.record_sla_breach(record).await.unwrap(),
        "a target is recorded once"
    );
    assert_eq!(s.list_sla_breaches(t.id).await.unwrap(), vec![breach]);
    assert!(s.get_ticket(org.id, t.id).await.unwrap().sla.breached);
    let notes = s
        .list_notifications(agent.id, Page::default())
        .await
        .unwrap();
    assert_eq!(notes, vec![notification], "one notification, not two");
    let history = s.ticket_history(t.id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|a| a.action == ActivityAction::SlaBreach)
            .count(),
        1
    );

    s.set_ticket_sla(
        t.id,
        TicketSlaState {
            next_deadline: None,
            breached: true,
        },
    )
    .await
    .unwrap();
    let armed = s.armed_sla_deadlines().await.unwrap();
    assert_eq!(armed.len(), 1);
    assert_eq!(armed[0].ticket, other.id);
}

pub async fn surveys_settings_and_agents(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let ada = data::user(s, org.id, "ada").await;
    let mut moderator = data::user_record(org.id, "mod");
    moderator.role = Role::Moderator;
    s.create_user(&moderator).await.unwrap();
    let mut admin = data::user_record(org.id, "root");
    admin.role = Role::Admin;
    s.create_user(&admin).await.unwrap();
    let mut gone = data::user_record(org.id, "gone");
    gone.role = Role::Moderator;
    gone.active = false;
    s.create_user(&gone).await.unwrap();

    let mut agents = s
        .users_with_roles(org.id, &[Role::Admin, Role::Moderator])
        .await
        .unwrap();
    agents.sort();
    let mut expected = vec![moderator.id, admin.id];
    expected.sort();
    assert_eq!(agents, expected, "active users with the roles, nobody else");
    assert!(
        s.users_with_roles(OrgId::new(), &[Role::Admin])
            .await
            .unwrap()
            .is_empty()
    );

    // Round-robin point.
    assert_eq!(s.last_auto_assignee(org.id).await.unwrap(), None);
    let t = ticket_record(org.id, ada.id, Priority::Low, "a");
    s.create_ticket(NewTicket {
        ticket: &t,
        sla: TicketSlaState::default(),
        activity: &[created(&t)],
        auto_assignee: Some(moderator.id),
    })
    .await
    .unwrap();
    assert_eq!(
        s.last_auto_assignee(org.id).await.unwrap(),
        Some(moderator.id)
    );

    // Surveys: once.
    assert_eq!(s.get_ticket_survey(t.id).await.unwrap(), None);
    let survey = TicketSurvey {
        ticket_id: t.id,
        reporter_id: ada.id,
        rating: Rating::new(4).unwrap(),
        comment: Some("schnell".into()),
        created_at: ms(now()),
    };
    let activity = NewActivity::new(
        Some(ada.id),
        ActivityAction::Survey,
        (),
        json!({"rating": 4}),
        now(),
    );
    s.insert_ticket_survey(org.id, &survey, &activity)
        .await
        .unwrap();
    assert!(matches!(
        s.insert_ticket_survey(org.id, &survey, &activity).await,
        Err(StoreError::Conflict(w)) if w == "survey"
    ));
    assert_eq!(s.get_ticket_survey(t.id).await.unwrap(), Some(survey));

    // Settings: absent, stored, replaced.
    assert_eq!(s.get_ticket_settings(org.id).await.unwrap(), None);
    let mut settings = TicketSettings {
        sla: serde_json::from_value::<SlaPolicy>(
            json!({"urgent": {"response_minutes": 15, "resolution_minutes": 60}}),
        )
        .unwrap(),
        ..TicketSettings::default()
    };
    s.put_ticket_settings(org.id, &settings, now())
        .await
        .unwrap();
    assert_eq!(
        s.get_ticket_settings(org.id).await.unwrap(),
        Some(settings.clone())
    );
    settings.tag_rules.truncate(1);
    s.put_ticket_settings(org.id, &settings, now())
        .await
        .unwrap();
    assert_eq!(s.get_ticket_settings(org.id).await.unwrap(), Some(settings));
}
