//! The audit log: newest first, filters, pagination, organizations apart.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use atrium_core::ids::{OrgId, UserId};
use atrium_core::model::AuditEntry;
use atrium_persistence::store::{AuditFilter, Page};

use crate::data::{self, ms};
use crate::fixture::Db;

fn entry(org: OrgId, actor: Option<UserId>, action: &str, at: OffsetDateTime) -> AuditEntry {
    AuditEntry {
        id: 0,
        org_id: org,
        actor_id: actor,
        action: action.into(),
        target: Some(format!("target-of-{action}")),
        detail: json!({"reason": "test", "n": 1}),
        at,
    }
}

pub async fn audit_log(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;

    let t0 = data::now() - Duration::from_secs(3600);
    let at = |minutes: u64| t0 + Duration::from_secs(60 * minutes);
    let actions = [
        (Some(anna.id), "auth.login", at(0)),
        (Some(ben.id), "auth.login", at(1)),
        (Some(anna.id), "channel.create", at(2)),
        (Some(anna.id), "auth.logout", at(3)),
        (None, "system.start", at(4)),
        (Some(ben.id), "authx.weird", at(5)),
    ];
    let mut ids = Vec::new();
    for (actor, action, when) in actions {
        ids.push(
            s.append_audit(&entry(org.id, actor, action, when))
                .await
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    s.append_audit(&entry(other.id, None, "auth.login", at(6)))
        .await
        .unwrap();

    // Everything of the organization, newest first, intact.
    let all = s
        .list_audit(org.id, &AuditFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    let listed: Vec<&str> = all.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        listed,
        vec![
            "authx.weird",
            "system.start",
            "auth.logout",
            "channel.create",
            "auth.login",
            "auth.login"
        ]
    );
    let first = all.items.last().unwrap();
    assert_eq!(first.id, ids[0]);
    assert_eq!(first.actor_id, Some(anna.id));
    assert_eq!(first.target.as_deref(), Some("target-of-auth.login"));
    assert_eq!(first.detail, json!({"reason": "test", "n": 1}));
    assert_eq!(first.at, ms(at(0)));
    assert_eq!(all.items[1].actor_id, None);

    // Filters: actor, exact action, dotted prefix, time range, and combinations.
    let by_anna = AuditFilter {
        actor_id: Some(anna.id),
        ..AuditFilter::default()
    };
    assert_eq!(
        s.list_audit(org.id, &by_anna, Page::default())
            .await
            .unwrap()
            .total,
        3
    );
    let logins = AuditFilter {
        action: Some("auth.login".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        s.list_audit(org.id, &logins, Page::default())
            .await
            .unwrap()
            .total,
        2
    );
    let auth = AuditFilter {
        action: Some("auth.*".into()),
        ..AuditFilter::default()
    };
    let auth_page = s.list_audit(org.id, &auth, Page::default()).await.unwrap();
    assert_eq!(auth_page.total, 3, "auth.* does not match authx.*");
    let window = AuditFilter {
        since: Some(at(1)),
        until: Some(at(4)),
        ..AuditFilter::default()
    };
    let in_window = s
        .list_audit(org.id, &window, Page::default())
        .await
        .unwrap();
    let listed: Vec<&str> = in_window.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        listed,
        vec!["auth.logout", "channel.create", "auth.login"],
        "since inclusive, until exclusive"
    );
    let combined = AuditFilter {
        actor_id: Some(anna.id),
        action: Some("auth.*".into()),
        since: Some(at(1)),
        until: None,
    };
    let only = s
        .list_audit(org.id, &combined, Page::default())
        .await
        .unwrap();
    assert_eq!(
        only.items
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        vec!["auth.logout"]
    );

    // Pagination keeps the total and walks the same order.
    let p1 = s
        .list_audit(org.id, &AuditFilter::default(), Page::new(4, 0))
        .await
        .unwrap();
    let p2 = s
        .list_audit(org.id, &AuditFilter::default(), Page::new(4, 4))
        .await
        .unwrap();
    assert_eq!(
        (p1.items.len(), p2.items.len(), p1.total, p2.total),
        (4, 2, 6, 6)
    );
    let walked: Vec<i64> = p1.items.iter().chain(&p2.items).map(|e| e.id).collect();
    assert_eq!(walked, all.items.iter().map(|e| e.id).collect::<Vec<_>>());
    let past_end = s
        .list_audit(org.id, &AuditFilter::default(), Page::new(4, 40))
        .await
        .unwrap();
    assert!(past_end.items.is_empty());
    assert_eq!(past_end.total, 6);

    // The other organization sees only its own entry.
    let theirs = s
        .list_audit(other.id, &AuditFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(theirs.total, 1);
    assert_eq!(theirs.items[0].org_id, other.id);
    let by_anna_elsewhere = s
        .list_audit(other.id, &by_anna, Page::default())
        .await
        .unwrap();
    assert_eq!(by_anna_elsewhere.total, 0);
}
