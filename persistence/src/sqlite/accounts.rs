//! Organizations, users, refresh tokens and settings on SQLite.

use async_trait::async_trait;
use time::OffsetDateTime;

use atrium_core::ids::{OrgId, TokenFamilyId, UserId};
use atrium_core::model::{Organization, RefreshToken, User};
use atrium_core::rbac::Role;

use super::{SqliteStore, rows};
use crate::columns::{org_columns, token_columns, user_columns};
use crate::store::{
    OrgStore, Page, Paged, SettingStore, StoreError, StoreResult, TokenStore, UserStore,
};
use crate::{keys, millis, sql_error};

const USER_UNIQUES: &[(&str, &str)] = &[("username", "username"), ("email", "email")];

#[async_trait]
impl OrgStore for SqliteStore {
    async fn create_org(&self, org: &Organization) -> StoreResult<()> {
        sqlx::query("INSERT INTO organizations (id, slug, name, created_at) VALUES (?, ?, ?, ?)")
            .bind(org.id.as_uuid())
            .bind(&org.slug)
            .bind(&org.name)
            .bind(millis::to_millis(org.created_at))
            .execute(&self.writer)
            .await
            .map_err(|e| sql_error::write(e, "organization", &[("slug", "slug")]))?;
        Ok(())
    }

    async fn get_org(&self, id: OrgId) -> StoreResult<Organization> {
        let row = sqlx::query(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE id = ?"
        ))
        .bind(id.as_uuid())
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::org(&row)
    }

    async fn get_org_by_slug(&self, slug: &str) -> StoreResult<Organization> {
        let row = sqlx::query(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE slug = ?"
        ))
        .bind(slug)
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::org(&row)
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, org_id, username, username_key, email, email_key, \
             password_hash, role, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(user.id.as_uuid())
        .bind(user.org_id.as_uuid())
        .bind(&user.username)
        .bind(keys::fold(&user.username))
        .bind(&user.email)
        .bind(keys::fold(&user.email))
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(user.active)
        .bind(millis::to_millis(user.created_at))
        .execute(&self.writer)
        .await
        .map_err(|e| sql_error::write(e, "user", USER_UNIQUES))?;
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = ?"
        ))
        .bind(id.as_uuid())
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::user(&row)
    }

    async fn find_user_by_login(&self, login: &str) -> StoreResult<User> {
        // A username match wins over an e-mail match, should one user's name be another's address.
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username_key = ?1 OR email_key = ?1 \
             ORDER BY username_key = ?1 DESC LIMIT 1"
        ))
        .bind(keys::fold(login))
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::user(&row)
    }

    async fn find_users_by_usernames(
        &self,
        org: OrgId,
        usernames: &[String],
    ) -> StoreResult<Vec<User>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let folded: Vec<String> = usernames.iter().map(|u| keys::fold(u)).collect();
        let list =
            serde_json::to_string(&folded).map_err(|e| StoreError::Database(e.to_string()))?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE org_id = ? \
             AND username_key IN (SELECT value FROM json_each(?)) ORDER BY username_key"
        ))
        .bind(org.as_uuid())
        .bind(list)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(rows::user).collect()
    }

    async fn list_users(&self, org: OrgId, page: Page) -> StoreResult<Paged<User>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE org_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
        ))
        .bind(org.as_uuid())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = ?")
            .bind(org.as_uuid())
            .fetch_one(&self.reader)
            .await
            .map_err(sql_error::db)?;
        Ok(Paged {
            items: rows.iter().map(rows::user).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(sql_error::db)?;
        Ok(u64::try_from(total).unwrap_or(0))
    }

    async fn set_user_active(&self, org: OrgId, id: UserId, active: bool) -> StoreResult<User> {
        let row = sqlx::query(concat!(
            "UPDATE users SET active = ? WHERE id = ? AND org_id = ? RETURNING ",
            user_columns!()
        ))
        .bind(active)
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .fetch_one(&self.writer)
        .await
        .map_err(sql_error::db)?;
        rows::user(&row)
    }

    async fn set_user_role(&self, org: OrgId, id: UserId, role: Role) -> StoreResult<User> {
        let row = sqlx::query(concat!(
            "UPDATE users SET role = ? WHERE id = ? AND org_id = ? RETURNING ",
            user_columns!()
        ))
        .bind(role.as_str())
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .fetch_one(&self.writer)
        .await
        .map_err(sql_error::db)?;
        rows::user(&row)
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO refresh_tokens (",
            token_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&token.token_hash)
        .bind(token.user_id.as_uuid())
        .bind(token.family_id.as_uuid())
        .bind(millis::to_millis(token.expires_at))
        .bind(token.rotated_at.map(millis::to_millis))
        .bind(token.revoked)
        .bind(millis::to_millis(token.created_at))
        .execute(&self.writer)
        .await
        .map_err(|e| sql_error::write(e, "refresh token", &[]))?;
        Ok(())
    }

    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<RefreshToken> {
        // A family with any revoked member is dead as a whole: a successor inserted while a
        // concurrent revocation was running (which could not see it) reads as revoked too.
        let row = sqlx::query(
            "SELECT t.token_hash, t.user_id, t.family_id, t.expires_at, t.rotated_at, \
             (t.revoked OR EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = t.family_id AND f.revoked = 1)) AS revoked, t.created_at \
             FROM refresh_tokens t WHERE t.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::token(&row)
    }

    async fn mark_refresh_rotated(
        &self,
        token_hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // The conditional UPDATE is the arbiter: of two concurrent refreshes, one changes the row.
        let done = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = ? \
             WHERE token_hash = ? AND rotated_at IS NULL AND revoked = 0 \
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens f \
                             WHERE f.family_id = refresh_tokens.family_id AND f.revoked = 1)",
        )
        .bind(millis::to_millis(at))
        .bind(token_hash)
        .execute(&self.writer)
        .await
        .map_err(sql_error::db)?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM refresh_tokens WHERE token_hash = ?")
                .bind(token_hash)
                .fetch_optional(&self.writer)
                .await
                .map_err(sql_error::db)?;
        match exists {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }

    async fn revoke_token_family(&self, family: TokenFamilyId) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ? AND revoked = 0",
        )
        .bind(family.as_uuid())
        .execute(&self.writer)
        .await
        .map_err(sql_error::db)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SettingStore for SqliteStore {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(sql_error::db)
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        // One statement on the single writer connection: insert-or-keep, then read the winner.
        let stored: String = sqlx::query_scalar(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = settings.value RETURNING value",
        )
        .bind(key)
        .bind(value)
        .fetch_one(&self.writer)
        .await
        .map_err(sql_error::db)?;
        Ok(stored)
    }
}
