//! Organizations, users, refresh tokens, settings, and the store's own plumbing.

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;

use atrium_core::ids::{OrgId, TokenFamilyId, UserId};
use atrium_core::model::{Organization, RefreshToken};
use atrium_core::rbac::Role;
use atrium_persistence::store::{Page, StoreError};

use crate::data::{self, ms, now};
use crate::fixture::Db;

pub async fn plumbing(db: Db) {
    let s = &db.store;
    assert!(["sqlite", "postgres"].contains(&s.backend()));
    s.ping().await.unwrap();
    // Migrating an up-to-date database is a no-op.
    s.migrate().await.unwrap();
}

pub async fn organizations(db: Db) {
    let s = &db.store;
    let created_at = now();
    let org = Organization {
        id: OrgId::new(),
        slug: "acme".into(),
        name: "Acme GmbH".into(),
        created_at,
    };
    s.create_org(&org).await.unwrap();

    let got = s.get_org(org.id).await.unwrap();
    assert_eq!(got.slug, "acme");
    assert_eq!(got.name, "Acme GmbH");
    assert_eq!(
        got.created_at,
        ms(created_at),
        "time round-trips to the millisecond"
    );
    assert_eq!(s.get_org_by_slug("acme").await.unwrap().id, org.id);

    let clash = Organization {
        id: OrgId::new(),
        ..org.clone()
    };
    assert!(matches!(s.create_org(&clash).await, Err(StoreError::Conflict(w)) if w == "slug"));
    assert!(matches!(
        s.get_org(OrgId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_org_by_slug("nope").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn users(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    assert_eq!(s.count_users().await.unwrap(), 0);

    let mut jorg = data::user_record(org.id, "Jörg");
    jorg.email = "Joerg@Example.ORG".into();
    jorg.role = Role::Admin;
    s.create_user(&jorg).await.unwrap();

    let got = s.get_user(jorg.id).await.unwrap();
    assert_eq!(got.username, "Jörg", "stored as typed");
    assert_eq!(got.email, "Joerg@Example.ORG");
    assert_eq!(got.password_hash, jorg.password_hash);
    assert_eq!(got.role, Role::Admin);
    assert!(got.active);
    assert_eq!(got.created_at, ms(jorg.created_at));

    // Login by username or e-mail, case-insensitively (Unicode too).
    assert_eq!(s.find_user_by_login("JÖRG").await.unwrap().id, jorg.id);
    assert_eq!(
        s.find_user_by_login("joerg@example.org").await.unwrap().id,
        jorg.id
    );
    assert!(matches!(
        s.find_user_by_login("nobody").await,
        Err(StoreError::NotFound)
    ));

    // Username and e-mail are unique across the installation, case-insensitively.
    let mut same_name = data::user_record(other.id, "jÖRG");
    same_name.email = "fresh@example.org".into();
    assert!(
        matches!(s.create_user(&same_name).await, Err(StoreError::Conflict(w)) if w == "username")
    );
    let mut same_mail = data::user_record(other.id, "fresh");
    same_mail.email = "JOERG@example.org".into();
    assert!(
        matches!(s.create_user(&same_mail).await, Err(StoreError::Conflict(w)) if w == "email")
    );
    assert!(matches!(
        s.create_user(&jorg).await,
        Err(StoreError::Conflict(_))
    ));

    let anna = data::user(s, org.id, "anna").await;
    let _ben = data::user(s, org.id, "ben").await;
    let outsider = data::user(s, other.id, "carla").await;
    assert_eq!(s.count_users().await.unwrap(), 4);

    // Mention resolution stays inside the organization.
    let found = s
        .find_users_by_usernames(org.id, &["ANNA".into(), "carla".into(), "ghost".into()])
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![anna.id]
    );
    assert!(
        s.find_users_by_usernames(org.id, &[])
            .await
            .unwrap()
            .is_empty()
    );

    // Pagination with a total; only the organization's users.
    let first = s.list_users(org.id, Page::new(2, 0)).await.unwrap();
    assert_eq!(first.total, 3);
    assert_eq!(first.items.len(), 2);
    let second = s.list_users(org.id, Page::new(2, 2)).await.unwrap();
    assert_eq!(second.items.len(), 1);
    let all: HashSet<UserId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|u| u.id)
        .collect();
    assert_eq!(all.len(), 3);
    assert!(!all.contains(&outsider.id));

    // Activation and role changes, scoped by organization.
    let off = s.set_user_active(org.id, anna.id, false).await.unwrap();
    assert!(!off.active);
    assert!(!s.get_user(anna.id).await.unwrap().active);
    let promoted = s
        .set_user_role(org.id, anna.id, Role::Moderator)
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Moderator);
    assert!(matches!(
        s.set_user_active(other.id, anna.id, true).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_user_role(org.id, outsider.id, Role::Admin).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.get_user(outsider.id).await.unwrap().role, Role::User);
    assert!(matches!(
        s.get_user(UserId::new()).await,
        Err(StoreError::NotFound)
    ));

    // A user needs an existing organization.
    let orphan = data::user_record(OrgId::new(), "orphan");
    assert!(s.create_user(&orphan).await.is_err());
}

fn token(user: UserId, family: TokenFamilyId, hash: &str) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        user_id: user,
        family_id: family,
        expires_at: now() + Duration::from_secs(7 * 24 * 3600),
        rotated_at: None,
        revoked: false,
        created_at: now(),
    }
}

pub async fn refresh_tokens(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let u = data::user(s, org.id, "anna").await;
    let family = TokenFamilyId::new();

    let first = token(u.id, family, "hash-1");
    s.insert_refresh_token(&first).await.unwrap();
    let got = s.get_refresh_token("hash-1").await.unwrap();
    assert_eq!(got.user_id, u.id);
    assert_eq!(got.family_id, family);
    assert_eq!(got.expires_at, ms(first.expires_at));
    assert_eq!(got.rotated_at, None);
    assert!(!got.revoked);
    assert!(matches!(
        s.insert_refresh_token(&first).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.get_refresh_token("nope").await,
        Err(StoreError::NotFound)
    ));

    // Rotation succeeds exactly once; the second use is reuse.
    let at = now();
    assert!(s.mark_refresh_rotated("hash-1", at).await.unwrap());
    assert!(!s.mark_refresh_rotated("hash-1", now()).await.unwrap());
    assert_eq!(
        s.get_refresh_token("hash-1").await.unwrap().rotated_at,
        Some(ms(at))
    );
    assert!(matches!(
        s.mark_refresh_rotated("nope", now()).await,
        Err(StoreError::NotFound)
    ));

    // Racing refreshes with one token: exactly one wins, on two "nodes".
    s.insert_refresh_token(&token(u.id, family, "hash-2"))
        .await
        .unwrap();
    let second_node = db.open_another().await;
    let mut races = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 {
            s.clone()
        } else {
            second_node.clone()
        };
        races.push(tokio::spawn(async move {
            store
                .mark_refresh_rotated("hash-2", OffsetDateTime::now_utc())
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for race in races {
        if race.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    second_node.close().await;

    // Revoking a family revokes every live token of it, and revoked tokens cannot rotate.
    s.insert_refresh_token(&token(u.id, family, "hash-3"))
        .await
        .unwrap();
    let other_family = TokenFamilyId::new();
    s.insert_refresh_token(&token(u.id, other_family, "hash-x"))
        .await
        .unwrap();
    assert_eq!(s.revoke_token_family(family).await.unwrap(), 3);
    assert_eq!(
        s.revoke_token_family(family).await.unwrap(),
        0,
        "already revoked"
    );
    assert!(s.get_refresh_token("hash-3").await.unwrap().revoked);
    assert!(!s.mark_refresh_rotated("hash-3", now()).await.unwrap());
    assert!(!s.get_refresh_token("hash-x").await.unwrap().revoked);

    // A successor inserted after the revocation ran (a refresh that raced a reuse) belongs to
    // a dead family: it reads as revoked and cannot rotate.
    s.insert_refresh_token(&token(u.id, family, "hash-late"))
        .await
        .unwrap();
    assert!(s.get_refresh_token("hash-late").await.unwrap().revoked);
    assert!(!s.mark_refresh_rotated("hash-late", now()).await.unwrap());
    assert_eq!(
        s.get_refresh_token("hash-late").await.unwrap().rotated_at,
        None
    );
}

pub async fn settings(db: Db) {
    let s = &db.store;
    assert_eq!(s.get_setting("jwt_secret").await.unwrap(), None);
    assert_eq!(
        s.put_setting_if_absent("jwt_secret", "first")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        s.put_setting_if_absent("jwt_secret", "second")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        s.get_setting("jwt_secret").await.unwrap().as_deref(),
        Some("first")
    );

    // Nodes starting at once agree on one value.
    let second_node = db.open_another().await;
    let mut starts = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 {
            s.clone()
        } else {
            second_node.clone()
        };
        starts.push(tokio::spawn(async move {
            store
                .put_setting_if_absent("race", &format!("value-{i}"))
                .await
                .unwrap()
        }));
    }
    let mut seen = HashSet::new();
    for start in starts {
        seen.insert(start.await.unwrap());
    }
    assert_eq!(seen.len(), 1, "every node got the same value: {seen:?}");
    assert_eq!(
        s.get_setting("race").await.unwrap(),
        seen.into_iter().next()
    );
    second_node.close().await;
}
