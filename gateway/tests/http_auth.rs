//! Accounts and sessions over HTTP: register, login, me, refresh rotation and reuse, logout, and
//! every way an access token can be bad.

mod http_support;

use atrium_core::auth::AccessClaims;
use atrium_core::ids::{OrgId, UserId};
use atrium_core::rbac::Role;
use atrium_gateway::AppState;
use http_support::{PASSWORD, Session, TestNode, test_config};
use serde_json::json;
use time::OffsetDateTime;

on_both_backends!(
    first_user_is_admin_and_others_are_users,
    racing_first_registrations_make_exactly_one_admin,
    login_by_username_or_email_and_me,
    refresh_rotates_and_reuse_revokes_the_family,
    concurrent_refreshes_with_one_token_count_as_reuse,
    logout_revokes_the_family,
    bad_credentials_are_refused_alike,
    registration_rules,
    bad_access_tokens,
    jwt_secret_survives_a_restart,
);

async fn first_user_is_admin_and_others_are_users(node: &TestNode) {
    let first = node.register("alice").await;
    assert_eq!(first.role, "admin");
    let second = node.register("bob").await;
    assert_eq!(second.role, "user");

    let me = node.get("/api/v1/auth/me", second.token()).await;
    let body = me.assert_status(200);
    assert_eq!(body["username"], "bob");
    assert_eq!(body["email"], "bob@example.com");
    assert_eq!(body["role"], "user");
    assert_eq!(body["organization_id"], node.state.default_org.to_string());
    assert!(body.get("password_hash").is_none(), "{body}");
}

async fn racing_first_registrations_make_exactly_one_admin(node: &TestNode) {
    let names = ["racer0", "racer1", "racer2", "racer3", "racer4", "racer5"];
    let sessions =
        futures_util::future::join_all(names.iter().map(|name| node.register(name))).await;
    let admins = sessions.iter().filter(|s| s.role == "admin").count();
    assert_eq!(
        admins, 1,
        "exactly one of the racing first accounts is admin"
    );
}

async fn login_by_username_or_email_and_me(node: &TestNode) {
    let reg = node.register("carol").await;
    for login in ["carol", "carol@example.com", "CAROL@EXAMPLE.COM"] {
        let reply = node.login(login).await;
        let body = reply.assert_status(200);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 1800);
        assert_eq!(body["user"]["id"], reg.user_id.as_str());
        let s = Session::from_reply(&reply);
        let me = node.get("/api/v1/auth/me", s.token()).await;
        assert_eq!(me.assert_status(200)["id"], reg.user_id.as_str());
    }
}

async fn refresh_rotates_and_reuse_revokes_the_family(node: &TestNode) {
    node.register("dave").await;
    let login = Session::from_reply(&node.login("dave").await);

    // First refresh: a new, different pair; the new access token works.
    let r1 = node
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": login.refresh }),
        )
        .await;
    r1.assert_status(200);
    let s1 = Session::from_reply(&r1);
    assert_ne!(s1.refresh, login.refresh);
    assert_ne!(s1.access, login.access);
    node.get("/api/v1/auth/me", s1.token())
        .await
        .assert_status(200);

    // Second refresh with the new token works too.
    let r2 = node
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": s1.refresh }),
        )
        .await;
    let s2 = Session::from_reply(&r2);
    r2.assert_status(200);

    // Presenting the first (rotated) token again is reuse: refused, and the whole family dies,
    // including the newest token that was never reused.
    let reuse = node
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": login.refresh }),
        )
        .await;
    let msg = reuse.assert_error(401, "unauthorized");
    assert!(msg.contains("already used"), "{msg}");
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": s2.refresh }),
    )
    .await
    .assert_error(401, "unauthorized");

    // Another login (another family) is unaffected.
    let other = Session::from_reply(&node.login("dave").await);
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": other.refresh }),
    )
    .await
    .assert_status(200);

    // Unknown tokens are refused.
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": "nope" }),
    )
    .await
    .assert_error(401, "unauthorized");
}

async fn concurrent_refreshes_with_one_token_count_as_reuse(node: &TestNode) {
    node.register("dora").await;
    let login = Session::from_reply(&node.login("dora").await);
    let body = json!({ "refresh_token": login.refresh });
    let (a, b) = tokio::join!(
        node.post("/api/v1/auth/refresh", None, body.clone()),
        node.post("/api/v1/auth/refresh", None, body.clone()),
    );
    // Whatever the interleaving, at least one is refused as reuse, and the family is revoked:
    // a pair handed out to the other one (if it finished first) is dead too.
    assert!(
        a.status == 401 || b.status == 401,
        "{} / {}",
        a.text,
        b.text
    );
    for reply in [&a, &b] {
        if reply.status == 200 {
            let successor = Session::from_reply(reply);
            node.post(
                "/api/v1/auth/refresh",
                None,
                json!({ "refresh_token": successor.refresh }),
            )
            .await
            .assert_error(401, "unauthorized");
        } else {
            reply.assert_error(401, "unauthorized");
        }
    }
}

async fn logout_revokes_the_family(node: &TestNode) {
    node.register("erin").await;
    let login = Session::from_reply(&node.login("erin").await);
    let rotated = Session::from_reply(
        &node
            .post(
                "/api/v1/auth/refresh",
                None,
                json!({ "refresh_token": login.refresh }),
            )
            .await,
    );
    let out = node
        .post(
            "/api/v1/auth/logout",
            None,
            json!({ "refresh_token": rotated.refresh }),
        )
        .await;
    assert_eq!(out.status, 204, "{}", out.text);
    node.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": rotated.refresh }),
    )
    .await
    .assert_error(401, "unauthorized");
    node.post(
        "/api/v1/auth/logout",
        None,
        json!({ "refresh_token": "not-a-token" }),
    )
    .await
    .assert_error(401, "unauthorized");
}

async fn bad_credentials_are_refused_alike(node: &TestNode) {
    node.register("frank").await;
    let wrong_pw = node
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "username": "frank", "password": "wrong-password" }),
        )
        .await;
    let unknown = node
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "username": "nobody", "password": PASSWORD }),
        )
        .await;
    let m1 = wrong_pw.assert_error(401, "unauthorized");
    let m2 = unknown.assert_error(401, "unauthorized");
    assert_eq!(m1, m2, "unknown user and wrong password must look the same");
    assert_eq!(
        wrong_pw
            .headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    node.post(
        "/api/v1/auth/login",
        None,
        json!({ "username": "", "password": "" }),
    )
    .await
    .assert_error(400, "invalid");
}

async fn registration_rules(node: &TestNode) {
    node.register("grace").await;
    let reg = |username: &str, email: &str, password: &str| json!({ "username": username, "email": email, "password": password });
    let cases = [
        (reg("gr", "g@example.com", PASSWORD), "username"),
        (reg(&"g".repeat(33), "g@example.com", PASSWORD), "username"),
        (reg("Grace2", "g@example.com", PASSWORD), "lowercase"),
        (reg("grace2", "not-an-email", PASSWORD), "email"),
        (reg("grace2", "g@example.com", "short"), "password"),
    ];
    for (body, needle) in cases {
        let reply = node.post("/api/v1/auth/register", None, body.clone()).await;
        let msg = reply.assert_error(400, "invalid");
        assert!(msg.contains(needle), "{body} -> {msg}");
    }
    // Duplicates, case-insensitively.
    node.post(
        "/api/v1/auth/register",
        None,
        reg("grace", "other@example.com", PASSWORD),
    )
    .await
    .assert_error(409, "conflict");
    let dup_email = node
        .post(
            "/api/v1/auth/register",
            None,
            reg("grace3", "GRACE@example.com", PASSWORD),
        )
        .await;
    assert!(dup_email.assert_error(409, "conflict").contains("email"));
    // Organizations other than the default cannot be joined without an invitation.
    let mut body = reg("grace4", "g4@example.com", PASSWORD);
    body["organization"] = json!("acme");
    let msg = node
        .post("/api/v1/auth/register", None, body)
        .await
        .assert_error(400, "invalid");
    assert!(msg.contains("invitation"), "{msg}");
    let mut body = reg("grace5", "g5@example.com", PASSWORD);
    body["organization"] = json!("default");
    node.post("/api/v1/auth/register", None, body)
        .await
        .assert_status(201);
}

async fn bad_access_tokens(node: &TestNode) {
    let s = node.register("heidi").await;
    // Missing.
    let r = node.get("/api/v1/auth/me", None).await;
    r.assert_error(401, "unauthorized");
    // Wrong scheme.
    let r = node
        .http
        .get(node.url("/api/v1/auth/me"))
        .header("authorization", format!("Basic {}", s.access))
        .send()
        .await
        .unwrap();
    http_support::Reply::from(r)
        .await
        .assert_error(401, "unauthorized");
    // Garbage.
    node.get("/api/v1/auth/me", Some("garbage"))
        .await
        .assert_error(401, "unauthorized");
    // Forged: signed with another secret.
    let forger = atrium_core::auth::AccessTokens::new(
        b"a-completely-different-secret-of-enough-length",
        time::Duration::minutes(30),
    )
    .unwrap();
    let user: UserId = s.user_id.parse().unwrap();
    let forged = forger
        .issue(
            user,
            node.state.default_org,
            Role::Admin,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    node.get("/api/v1/auth/me", Some(&forged.token))
        .await
        .assert_error(401, "unauthorized");
    // Expired: a genuine signature, but past its lifetime.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let expired = node
        .state
        .tokens
        .sign(&AccessClaims {
            sub: user,
            org: node.state.default_org,
            role: Role::User,
            iat: now - 7200,
            exp: now - 3600,
            jti: None,
        })
        .unwrap();
    let r = node.get("/api/v1/auth/me", Some(&expired)).await;
    r.assert_error(401, "token_expired");
    let challenge = r.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // A genuine token naming a user that does not exist, or another organization.
    let ghost = node
        .state
        .tokens
        .issue(
            UserId::new(),
            node.state.default_org,
            Role::Admin,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    node.get("/api/v1/auth/me", Some(&ghost.token))
        .await
        .assert_error(401, "unauthorized");
    let wrong_org = node
        .state
        .tokens
        .issue(user, OrgId::new(), Role::User, OffsetDateTime::now_utc())
        .unwrap();
    node.get("/api/v1/auth/me", Some(&wrong_org.token))
        .await
        .assert_error(401, "unauthorized");
}

async fn jwt_secret_survives_a_restart(node: &TestNode) {
    let s = node.register("ivan").await;
    // A second state over the same store (a restart, or another node) accepts the token.
    let again = AppState::new(node.state.store.clone(), test_config())
        .await
        .unwrap();
    let claims = again
        .tokens
        .verify(&s.access, OffsetDateTime::now_utc())
        .expect("token from before the restart verifies");
    assert_eq!(claims.sub.to_string(), s.user_id);
    // A configured secret takes precedence over the stored one.
    let configured = AppState::new(
        node.state.store.clone(),
        atrium_gateway::HttpConfig {
            jwt_secret: Some("configured-secret-configured-secret-1234".into()),
            ..test_config()
        },
    )
    .await
    .unwrap();
    assert!(
        configured
            .tokens
            .verify(&s.access, OffsetDateTime::now_utc())
            .is_err()
    );
    // And a short configured secret is refused at start.
    assert!(
        AppState::new(
            node.state.store.clone(),
            atrium_gateway::HttpConfig {
                jwt_secret: Some("short".into()),
                ..test_config()
            },
        )
        .await
        .is_err()
    );
}
