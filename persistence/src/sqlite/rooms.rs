//! Virtual rooms on SQLite.

use async_trait::async_trait;

use atrium_core::ids::{OrgId, RoomId};
use atrium_core::model::Room;

use super::{SqliteStore, rows};
use crate::columns::room_columns;
use crate::room_store::{RoomStore, RoomUpdate, apply_room_update};
use crate::store::{Page, Paged, StoreError, StoreResult};
use crate::{keys, millis, sql_error};

/// Unique rules a room write can break, for [`sql_error::write`].
const ROOM_UNIQUES: &[(&str, &str)] = &[("name_key", "name")];

fn template_text(room: &Room) -> StoreResult<Option<String>> {
    room.template_data
        .as_ref()
        .map(|data| {
            serde_json::to_string(data)
                .map_err(|e| StoreError::Database(format!("room template data: {e}")))
        })
        .transpose()
}

#[async_trait]
impl RoomStore for SqliteStore {
    async fn create_room(&self, room: &Room) -> StoreResult<()> {
        // The creator (and the linked channel, if any) must belong to the room's organization,
        // or nothing is inserted.
        let inserted = sqlx::query(
            "INSERT INTO rooms (id, org_id, name, name_key, template, template_data, channel_id, \
                 capacity, created_by, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 FROM users \
             WHERE id = ?9 AND org_id = ?2 \
               AND (?7 IS NULL OR EXISTS (SELECT 1 FROM channels WHERE id = ?7 AND org_id = ?2))",
        )
        .bind(room.id.as_uuid())
        .bind(room.org_id.as_uuid())
        .bind(&room.name)
        .bind(keys::fold(&room.name))
        .bind(&room.template)
        .bind(template_text(room)?)
        .bind(room.channel_id.map(|c| c.as_uuid()))
        .bind(i64::from(room.capacity))
        .bind(room.created_by.as_uuid())
        .bind(millis::to_millis(room.created_at))
        .bind(millis::to_millis(room.updated_at))
        .execute(&self.writer)
        .await
        .map_err(|e| sql_error::write(e, "room", ROOM_UNIQUES))?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_room(&self, org: OrgId, id: RoomId) -> StoreResult<Room> {
        let row = sqlx::query(concat!(
            "SELECT ",
            room_columns!(),
            " FROM rooms WHERE id = ? AND org_id = ?"
        ))
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows::room(&row)
    }

    async fn list_rooms(&self, org: OrgId, page: Page) -> StoreResult<Paged<Room>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            room_columns!(),
            " FROM rooms WHERE org_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
        ))
        .bind(org.as_uuid())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE org_id = ?")
            .bind(org.as_uuid())
            .fetch_one(&self.reader)
            .await
            .map_err(sql_error::db)?;
        Ok(Paged {
            items: rows.iter().map(rows::room).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn update_room(&self, org: OrgId, id: RoomId, update: &RoomUpdate) -> StoreResult<Room> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            room_columns!(),
            " FROM rooms WHERE id = ? AND org_id = ?"
        ))
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(sql_error::db)?;
        let mut room = rows::room(&row)?;
        apply_room_update(&mut room, update);
        let updated = sqlx::query(
            "UPDATE rooms SET name = ?1, name_key = ?2, template = ?3, template_data = ?4, \
                 channel_id = ?5, capacity = ?6, updated_at = ?7 \
             WHERE id = ?8 AND org_id = ?9 \
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM channels WHERE id = ?5 AND org_id = ?9))",
        )
        .bind(&room.name)
        .bind(keys::fold(&room.name))
        .bind(&room.template)
        .bind(template_text(&room)?)
        .bind(room.channel_id.map(|c| c.as_uuid()))
        .bind(i64::from(room.capacity))
        .bind(millis::to_millis(room.updated_at))
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "room", ROOM_UNIQUES))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(sql_error::db)?;
        Ok(room)
    }

    async fn delete_room(&self, org: OrgId, id: RoomId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM rooms WHERE id = ? AND org_id = ?")
            .bind(id.as_uuid())
            .bind(org.as_uuid())
            .execute(&self.writer)
            .await
            .map_err(sql_error::db)?;
        Ok(done.rows_affected() > 0)
    }
}
