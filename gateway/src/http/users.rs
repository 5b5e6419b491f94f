//! `/api/v1/users/*`: user administration (admins only).

use atrium_core::ids::UserId;
use atrium_core::rbac::Role;
use axum::routing::{get, patch, post};
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::views::{Pagination, RoleName, UserView};
use crate::AppState;
use crate::service::users;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}/activate", post(activate_user))
        .route("/api/v1/users/{id}/deactivate", post(deactivate_user))
        .route("/api/v1/users/{id}/role", patch(change_role))
}

#[derive(OpenApi)]
#[openapi(paths(list_users, activate_user, deactivate_user, change_role))]
pub struct UsersApi;

/// A page of users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// All users of the organization.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A new role.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    #[schema(value_type = RoleName)]
    pub role: Role,
}

/// List the organization's users.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    params(Pagination),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<Pagination>,
) -> Result<Json<UserPage>, ApiError> {
    let page = q.page()?;
    let found = users::list(state.store.as_ref(), &caller, page).await?;
    Ok(Json(UserPage {
        items: found.items.into_iter().map(UserView::from).collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// Let a user log in again.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/activate", tag = "users",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in your organization", body = ErrorBody),
    )
)]
pub async fn activate_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<UserId>,
) -> Result<Json<UserView>, ApiError> {
    let user = users::set_active(state.store.as_ref(), &caller, id, true).await?;
    Ok(Json(user.into()))
}

/// Stop a user from logging in or using the API (effective immediately). Admins cannot deactivate
/// themselves.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/deactivate", tag = "users",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 403, description = "Not an admin, or your own account", body = ErrorBody),
        (status = 404, description = "No such user in your organization", body = ErrorBody),
    )
)]
pub async fn deactivate_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<UserId>,
) -> Result<Json<UserView>, ApiError> {
    let user = users::set_active(state.store.as_ref(), &caller, id, false).await?;
    Ok(Json(user.into()))
}

/// Change a user's role. Admins cannot change their own role.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}/role", tag = "users",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = RoleChange,
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 403, description = "Not an admin, or your own account", body = ErrorBody),
        (status = 404, description = "No such user in your organization", body = ErrorBody),
        (status = 422, description = "Unknown role", body = ErrorBody),
    )
)]
pub async fn change_role(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(id): PathParams<UserId>,
    JsonBody(req): JsonBody<RoleChange>,
) -> Result<Json<UserView>, ApiError> {
    let user = users::set_role(state.store.as_ref(), &caller, id, req.role).await?;
    Ok(Json(user.into()))
}
