//! Accounts: creation (registration and the CLI) and administration.

use atrium_core::auth::PasswordHashing;
use atrium_core::auth::{validate_email, validate_password, validate_username};
use atrium_core::ids::{OrgId, UserId};
use atrium_core::model::{Organization, User};
use atrium_core::rbac::Role;
use atrium_persistence::store::{Page, Paged, Store, StoreError};
use serde_json::json;

use super::audit::{self, AuditEvent, actions};
use super::clock;
use super::error::OrNotFound;
use super::hashing::hash_password;
use super::orgs::{DEFAULT_ORG_SLUG, ensure_default_org};
use super::{Caller, ServiceError, ServiceResult};

/// What is needed to open an account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub password: String,
    /// The organization to join, by slug. `None` (or the default slug) joins the default one.
    pub organization: Option<String>,
}

/// Creates an account and records `user.create` in the audit log. This is what
/// `atrium user create [--admin]` calls. With `admin`, or when the install has no user yet, the
/// account is an admin; otherwise a plain user.
pub async fn create_user(
    store: &dyn Store,
    hashing: &PasswordHashing,
    account: NewAccount,
    admin: bool,
) -> ServiceResult<User> {
    let user = create_account(store, hashing, account, admin).await?;
    audit::record(
        store,
        AuditEvent {
            org: user.org_id,
            actor: None,
            action: actions::USER_CREATE,
            target: Some(user.id.to_string()),
            detail: json!({ "username": user.username, "role": user.role }),
        },
    )
    .await;
    Ok(user)
}

/// Validates, picks the organization and role, hashes the password and stores the user.
/// No audit entry: callers record what the creation meant (`auth.register`, `user.create`).
pub(crate) async fn create_account(
    store: &dyn Store,
    hashing: &PasswordHashing,
    account: NewAccount,
    admin: bool,
) -> ServiceResult<User> {
    let username = account.username.trim().to_owned();
    let email = account.email.trim().to_owned();
    validate_username(&username).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    validate_email(&email).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    validate_password(&account.password).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let org = organization_to_join(store, account.organization.as_deref()).await?;

    // Everything that can fail before the insert happens before the seat is claimed.
    let password_hash = hash_password(hashing, &account.password).await?;

    // The first account of an empty install administers it; there is nobody else who could.
    // Several registrations (even on several nodes) may see an empty install at once, so the
    // admin seat is claimed through one put-if-absent setting: exactly one of them wins it. (If
    // the winner's insert then fails — only possible when two of them race for the same
    // username — nobody is admin, and `atrium user create --admin` makes one.)
    let id = UserId::new();
    let first = store.count_users().await? == 0
        && store
            .put_setting_if_absent(FIRST_ADMIN_SETTING, &id.to_string())
            .await?
            == id.to_string();
    let role = if admin || first {
        Role::Admin
    } else {
        Role::User
    };

    let user = User {
        id,
        org_id: org.id,
        username,
        email,
        password_hash,
        role,
        active: true,
        created_at: clock::now(),
    };
    match store.create_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(what)) if what.contains("email") => Err(ServiceError::Conflict(
            "email: this address is already registered".into(),
        )),
        Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
            "username: {:?} is already taken",
            user.username
        ))),
        Err(e) => Err(e.into()),
    }
}

/// The setting that records which account claimed the first-admin seat of an empty install.
pub const FIRST_ADMIN_SETTING: &str = "install.first_admin";

/// Without invitations (not built yet) the only organization anyone may join by themselves is the
/// default one. Any other name is refused with the same message whether or not it exists, so
/// registration cannot be used to discover tenants.
async fn organization_to_join(
    store: &dyn Store,
    requested: Option<&str>,
) -> ServiceResult<Organization> {
    match requested.map(str::trim) {
        None | Some("") | Some(DEFAULT_ORG_SLUG) => Ok(ensure_default_org(store).await?),
        Some(other) => Err(ServiceError::Invalid(format!(
            "organization: {other:?} cannot be joined without an invitation; leave it out to join \
             the default organization"
        ))),
    }
}

/// A page of the caller's organization's users (admins only).
pub async fn list(store: &dyn Store, caller: &Caller, page: Page) -> ServiceResult<Paged<User>> {
    caller.require("users.manage")?;
    Ok(store.list_users(caller.org(), page).await?)
}

/// Activates or deactivates a user of the caller's organization. Nobody can deactivate themself:
/// an organization must never lose its last admin by accident.
pub async fn set_active(
    store: &dyn Store,
    caller: &Caller,
    id: UserId,
    active: bool,
) -> ServiceResult<User> {
    caller.require("users.manage")?;
    if id == caller.id() && !active {
        return Err(ServiceError::Forbidden(
            "you cannot deactivate your own account".into(),
        ));
    }
    let before = user_in_org(store, caller.org(), id).await?;
    let after = store
        .set_user_active(caller.org(), id, active)
        .await
        .or_not_found("user")?;
    if before.active != after.active {
        audit::record(
            store,
            AuditEvent {
                org: caller.org(),
                actor: Some(caller.id()),
                action: if active {
                    actions::USER_ACTIVATE
                } else {
                    actions::USER_DEACTIVATE
                },
                target: Some(id.to_string()),
                detail: json!({ "username": after.username }),
            },
        )
        .await;
    }
    Ok(after)
}

/// Changes a user's role. An admin cannot change their own role (the same last-admin concern).
pub async fn set_role(
    store: &dyn Store,
    caller: &Caller,
    id: UserId,
    role: Role,
) -> ServiceResult<User> {
    caller.require("users.manage")?;
    if id == caller.id() && role != caller.role() {
        return Err(ServiceError::Forbidden(
            "you cannot change your own role".into(),
        ));
    }
    let before = user_in_org(store, caller.org(), id).await?;
    let after = store
        .set_user_role(caller.org(), id, role)
        .await
        .or_not_found("user")?;
    if before.role != after.role {
        audit::record(
            store,
            AuditEvent {
                org: caller.org(),
                actor: Some(caller.id()),
                action: actions::USER_ROLE,
                target: Some(id.to_string()),
                detail: json!({ "from": before.role, "to": after.role }),
            },
        )
        .await;
    }
    Ok(after)
}

/// A user of `org`; another organization's user reads as not found.
pub(crate) async fn user_in_org(store: &dyn Store, org: OrgId, id: UserId) -> ServiceResult<User> {
    let user = store.get_user(id).await.or_not_found("user")?;
    if user.org_id != org {
        return Err(ServiceError::NotFound("user not found".into()));
    }
    Ok(user)
}
