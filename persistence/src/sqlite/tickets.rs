//! Tickets, comments, activity, SLA breaches, surveys, ticket settings and notifications on
//! SQLite.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

use atrium_core::ids::{OrgId, TicketId, UserId};
use atrium_core::notification::Notification;
use atrium_core::rbac::Role;
use atrium_core::ticket::records::{
    ActivityAction, NewActivity, SlaBreach, SlaTarget, TicketActivity, TicketComment,
    TicketSettings, TicketSlaState, TicketSurvey,
};
use atrium_core::ticket::{Priority, Rating, Ticket, TicketNumber, TicketStatus, TicketType};

use super::SqliteStore;
use crate::sql_error::corrupt;
use crate::store::{Page, Paged, StoreError, StoreResult};
use crate::ticket_store::{
    ArmedDeadline, BreachRecord, NewTicket, StoredTicket, TicketChange, TicketFilter, TicketStore,
    priority_rank,
};
use crate::{millis, sql_error};

macro_rules! ticket_columns {
    () => {
        "t.id, t.org_id, t.number, t.type, t.priority, t.status, t.subject, t.description, \
         t.reporter_id, t.assignee_id, t.tags, t.metadata, t.created_at, t.updated_at, \
         t.first_response_at, t.resolved_at, t.closed_at, t.sla_next_deadline, t.sla_breached"
    };
}

/// The list filter, shared by the page query and the count; each filter is off when NULL.
macro_rules! ticket_where {
    () => {
        " FROM tickets t WHERE t.org_id = ?1 \
          AND (?2 IS NULL OR t.status = ?2) \
          AND (?3 IS NULL OR t.priority = ?3) \
          AND (?4 IS NULL OR t.type = ?4) \
          AND (?5 = 0 OR (?6 IS NULL AND t.assignee_id IS NULL) OR t.assignee_id = ?6) \
          AND (?7 IS NULL OR t.reporter_id = ?7) \
          AND (?8 IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = ?8)) \
          AND (?9 IS NULL OR t.sla_breached = ?9)"
    };
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

fn time(row: &SqliteRow, column: &str) -> StoreResult<OffsetDateTime> {
    millis::from_millis(get(row, column)?)
}

fn opt_time(row: &SqliteRow, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    get::<Option<i64>>(row, column)?
        .map(millis::from_millis)
        .transpose()
}

fn json<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| corrupt(column, e))
}

fn to_json(value: &impl serde::Serialize, what: &str) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(format!("{what}: {e}")))
}

fn opt_ms(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(millis::to_millis)
}

fn ticket_row(row: &SqliteRow) -> StoreResult<StoredTicket> {
    let number: i64 = get(row, "number")?;
    let kind: String = get(row, "type")?;
    let priority: String = get(row, "priority")?;
    let status: String = get(row, "status")?;
    let ticket = Ticket {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        number: u32::try_from(number)
            .ok()
            .and_then(TicketNumber::new)
            .ok_or_else(|| corrupt("number", number))?,
        ticket_type: TicketType::parse(&kind).ok_or_else(|| corrupt("type", &kind))?,
        priority: Priority::parse(&priority).ok_or_else(|| corrupt("priority", &priority))?,
        status: TicketStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        subject: get(row, "subject")?,
        description: get(row, "description")?,
        reporter_id: get::<Uuid>(row, "reporter_id")?.into(),
        assignee_id: get::<Option<Uuid>>(row, "assignee_id")?.map(Into::into),
        tags: json(row, "tags")?,
        metadata: json(row, "metadata")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        first_response_at: opt_time(row, "first_response_at")?,
        resolved_at: opt_time(row, "resolved_at")?,
        closed_at: opt_time(row, "closed_at")?,
    };
    Ok(StoredTicket {
        ticket,
        sla: TicketSlaState {
            next_deadline: opt_time(row, "sla_next_deadline")?,
            breached: get(row, "sla_breached")?,
        },
    })
}

fn comment_row(row: &SqliteRow) -> StoreResult<TicketComment> {
    Ok(TicketComment {
        id: get::<Uuid>(row, "id")?.into(),
        ticket_id: get::<Uuid>(row, "ticket_id")?.into(),
        author_id: get::<Option<Uuid>>(row, "author_id")?.map(Into::into),
        body: get(row, "body")?,
        internal: get(row, "internal")?,
        created_at: time(row, "created_at")?,
    })
}

fn activity_row(row: &SqliteRow) -> StoreResult<TicketActivity> {
    let action: String = get(row, "action")?;
    Ok(TicketActivity {
        id: get(row, "id")?,
        ticket_id: get::<Uuid>(row, "ticket_id")?.into(),
        actor_id: get::<Option<Uuid>>(row, "actor_id")?.map(Into::into),
        action: ActivityAction::parse(&action).ok_or_else(|| corrupt("action", &action))?,
        before: json(row, "before")?,
        after: json(row, "after")?,
        at: time(row, "at")?,
    })
}

fn notification_row(row: &SqliteRow) -> StoreResult<Notification> {
    Ok(Notification {
        id: get::<Uuid>(row, "id")?.into(),
        org_id: get::<Uuid>(row, "org_id")?.into(),
        user_id: get::<Uuid>(row, "user_id")?.into(),
        kind: get(row, "kind")?,
        payload: json(row, "payload")?,
        created_at: time(row, "created_at")?,
        read_at: opt_time(row, "read_at")?,
    })
}

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

async fn insert_activity(
    tx: &mut Tx,
    org: OrgId,
    ticket: TicketId,
    entries: &[NewActivity],
) -> StoreResult<()> {
    for entry in entries {
        sqlx::query(
            "INSERT INTO ticket_activity (ticket_id, org_id, actor_id, action, before, after, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(ticket.as_uuid())
        .bind(org.as_uuid())
        .bind(entry.actor_id.map(|a| a.as_uuid()))
        .bind(entry.action.as_str())
        .bind(to_json(&entry.before, "activity before")?)
        .bind(to_json(&entry.after, "activity after")?)
        .bind(millis::to_millis(entry.at))
        .execute(&mut **tx)
        .await
        .map_err(|e| sql_error::write(e, "ticket activity", &[]))?;
    }
    Ok(())
}

async fn replace_tags(tx: &mut Tx, ticket: &Ticket) -> StoreResult<()> {
    sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = ?")
        .bind(ticket.id.as_uuid())
        .execute(&mut **tx)
        .await
        .map_err(sql_error::db)?;
    for tag in &ticket.tags {
        sqlx::query("INSERT INTO ticket_tags (ticket_id, tag) VALUES (?, ?)")
            .bind(ticket.id.as_uuid())
            .bind(tag)
            .execute(&mut **tx)
            .await
            .map_err(|e| sql_error::write(e, "tag", &[]))?;
    }
    Ok(())
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn create_ticket(&self, new: NewTicket<'_>) -> StoreResult<Ticket> {
        let t = new.ticket;
        let mut tx = self.begin_write().await?;
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_counters (org_id, last_number) VALUES (?, 1) \
             ON CONFLICT (org_id) DO UPDATE SET last_number = ticket_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(t.org_id.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "ticket number", &[]))?;
        let number = u32::try_from(number)
            .ok()
            .and_then(TicketNumber::new)
            .ok_or_else(|| StoreError::Conflict("ticket number".into()))?;
        if let Some(agent) = new.auto_assignee {
            sqlx::query("UPDATE ticket_counters SET last_auto_assignee = ? WHERE org_id = ?")
                .bind(agent.as_uuid())
                .bind(t.org_id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(sql_error::db)?;
        }
        let stored = Ticket {
            number,
            created_at: millis::truncate(t.created_at),
            updated_at: millis::truncate(t.updated_at),
            ..t.clone()
        };
        sqlx::query(
            "INSERT INTO tickets (id, org_id, number, type, priority, priority_rank, status, \
             subject, description, reporter_id, assignee_id, tags, metadata, created_at, \
             updated_at, first_response_at, resolved_at, closed_at, sla_next_deadline, \
             sla_breached) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(stored.id.as_uuid())
        .bind(stored.org_id.as_uuid())
        .bind(i64::from(number.get()))
        .bind(stored.ticket_type.as_str())
        .bind(stored.priority.as_str())
        .bind(priority_rank(stored.priority))
        .bind(stored.status.as_str())
        .bind(&stored.subject)
        .bind(&stored.description)
        .bind(stored.reporter_id.as_uuid())
        .bind(stored.assignee_id.map(|a| a.as_uuid()))
        .bind(to_json(&stored.tags, "tags")?)
        .bind(to_json(&stored.metadata, "metadata")?)
        .bind(millis::to_millis(stored.created_at))
        .bind(millis::to_millis(stored.updated_at))
        .bind(opt_ms(stored.first_response_at))
        .bind(opt_ms(stored.resolved_at))
        .bind(opt_ms(stored.closed_at))
        .bind(opt_ms(new.sla.next_deadline))
        .bind(new.sla.breached)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "ticket", &[("number", "ticket number")]))?;
        replace_tags(&mut tx, &stored).await?;
        insert_activity(&mut tx, stored.org_id, stored.id, new.activity).await?;
        tx.commit().await.map_err(sql_error::db)?;
        Ok(stored)
    }

    async fn get_ticket(&self, org: OrgId, id: TicketId) -> StoreResult<StoredTicket> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets t WHERE t.org_id = ? AND t.id = ?"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        ticket_row(&row)
    }

    async fn get_ticket_by_number(
        &self,
        org: OrgId,
        number: TicketNumber,
    ) -> StoreResult<StoredTicket> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets t WHERE t.org_id = ? AND t.number = ?"
        ))
        .bind(org.as_uuid())
        .bind(i64::from(number.get()))
        .fetch_one(&self.reader)
        .await
        .map_err(sql_error::db)?;
        ticket_row(&row)
    }

    async fn list_tickets(
        &self,
        org: OrgId,
        filter: &TicketFilter,
        page: Page,
    ) -> StoreResult<Paged<StoredTicket>> {
        let status = filter.status.map(TicketStatus::as_str);
        let priority = filter.priority.map(Priority::as_str);
        let kind = filter.ticket_type.map(TicketType::as_str);
        let by_assignee = filter.assignee.is_some();
        let assignee = filter.assignee.flatten().map(|a| a.as_uuid());
        let reporter = filter.reporter.map(|r| r.as_uuid());
        let tag = filter.tag.as_deref();
        let rows = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            ticket_where!(),
            " ORDER BY t.priority_rank DESC, t.created_at ASC, t.id ASC LIMIT ?10 OFFSET ?11"
        ))
        .bind(org.as_uuid())
        .bind(status)
        .bind(priority)
        .bind(kind)
        .bind(by_assignee)
        .bind(assignee)
        .bind(reporter)
        .bind(tag)
        .bind(filter.breached)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", ticket_where!()))
            .bind(org.as_uuid())
            .bind(status)
            .bind(priority)
            .bind(kind)
            .bind(by_assignee)
            .bind(assignee)
            .bind(reporter)
            .bind(tag)
            .bind(filter.breached)
            .fetch_one(&self.reader)
            .await
            .map_err(sql_error::db)?;
        Ok(Paged {
            items: rows.iter().map(ticket_row).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn update_ticket(&self, change: TicketChange<'_>) -> StoreResult<()> {
        let t = change.ticket;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE tickets SET type = ?, priority = ?, priority_rank = ?, status = ?, \
             subject = ?, description = ?, assignee_id = ?, tags = ?, metadata = ?, \
             updated_at = ?, first_response_at = ?, resolved_at = ?, closed_at = ?, \
             sla_next_deadline = ?, sla_breached = ? WHERE id = ? AND org_id = ?",
        )
        .bind(t.ticket_type.as_str())
        .bind(t.priority.as_str())
        .bind(priority_rank(t.priority))
        .bind(t.status.as_str())
        .bind(&t.subject)
        .bind(&t.description)
        .bind(t.assignee_id.map(|a| a.as_uuid()))
        .bind(to_json(&t.tags, "tags")?)
        .bind(to_json(&t.metadata, "metadata")?)
        .bind(millis::to_millis(t.updated_at))
        .bind(opt_ms(t.first_response_at))
        .bind(opt_ms(t.resolved_at))
        .bind(opt_ms(t.closed_at))
        .bind(opt_ms(change.sla.next_deadline))
        .bind(change.sla.breached)
        .bind(t.id.as_uuid())
        .bind(t.org_id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "ticket", &[]))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        replace_tags(&mut tx, t).await?;
        if let Some(c) = change.comment {
            sqlx::query(
                "INSERT INTO ticket_comments (id, ticket_id, author_id, body, internal, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(c.id.as_uuid())
            .bind(c.ticket_id.as_uuid())
            .bind(c.author_id.map(|a| a.as_uuid()))
            .bind(&c.body)
            .bind(c.internal)
            .bind(millis::to_millis(c.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error::write(e, "comment", &[]))?;
        }
        insert_activity(&mut tx, t.org_id, t.id, change.activity).await?;
        tx.commit().await.map_err(sql_error::db)
    }

    async fn set_ticket_sla(&self, id: TicketId, sla: TicketSlaState) -> StoreResult<()> {
        sqlx::query("UPDATE tickets SET sla_next_deadline = ?, sla_breached = ? WHERE id = ?")
            .bind(opt_ms(sla.next_deadline))
            .bind(sla.breached)
            .bind(id.as_uuid())
            .execute(&self.writer)
            .await
            .map_err(sql_error::db)?;
        Ok(())
    }

    async fn list_ticket_comments(
        &self,
        ticket: TicketId,
        include_internal: bool,
    ) -> StoreResult<Vec<TicketComment>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, author_id, body, internal, created_at FROM ticket_comments \
             WHERE ticket_id = ? AND (? OR internal = 0) ORDER BY created_at, id",
        )
        .bind(ticket.as_uuid())
        .bind(include_internal)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(comment_row).collect()
    }

    async fn list_ticket_activity(
        &self,
        ticket: TicketId,
        page: Page,
    ) -> StoreResult<Paged<TicketActivity>> {
        let limit = page.limit.min(crate::ticket_store::MAX_ACTIVITY_PAGE);
        let rows = sqlx::query(
            "SELECT id, ticket_id, actor_id, action, before, after, at FROM ticket_activity \
             WHERE ticket_id = ? ORDER BY id LIMIT ? OFFSET ?",
        )
        .bind(ticket.as_uuid())
        .bind(limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM ticket_activity WHERE ticket_id = ?")
                .bind(ticket.as_uuid())
                .fetch_one(&self.reader)
                .await
                .map_err(sql_error::db)?;
        Ok(Paged {
            items: rows.iter().map(activity_row).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn ticket_history(&self, ticket: TicketId) -> StoreResult<Vec<TicketActivity>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, actor_id, action, before, after, at FROM ticket_activity \
             WHERE ticket_id = ? ORDER BY id",
        )
        .bind(ticket.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(activity_row).collect()
    }

    async fn record_sla_breach(&self, record: BreachRecord<'_>) -> StoreResult<bool> {
        let b = record.breach;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO ticket_sla_breaches (ticket_id, target, org_id, deadline, recorded_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (ticket_id, target) DO NOTHING",
        )
        .bind(b.ticket_id.as_uuid())
        .bind(b.target.as_str())
        .bind(b.org_id.as_uuid())
        .bind(millis::to_millis(b.deadline))
        .bind(millis::to_millis(b.recorded_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "breach", &[]))?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE tickets SET sla_breached = 1 WHERE id = ?")
            .bind(b.ticket_id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(sql_error::db)?;
        insert_activity(
            &mut tx,
            b.org_id,
            b.ticket_id,
            std::slice::from_ref(record.activity),
        )
        .await?;
        for n in record.notifications {
            sqlx::query(
                "INSERT INTO notifications (id, org_id, user_id, kind, payload, created_at, read_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(n.id.as_uuid())
            .bind(n.org_id.as_uuid())
            .bind(n.user_id.as_uuid())
            .bind(&n.kind)
            .bind(to_json(&n.payload, "notification payload")?)
            .bind(millis::to_millis(n.created_at))
            .bind(opt_ms(n.read_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error::write(e, "notification", &[]))?;
        }
        tx.commit().await.map_err(sql_error::db)?;
        Ok(true)
    }

    async fn list_sla_breaches(&self, ticket: TicketId) -> StoreResult<Vec<SlaBreach>> {
        let rows = sqlx::query(
            "SELECT ticket_id, target, org_id, deadline, recorded_at FROM ticket_sla_breaches \
             WHERE ticket_id = ? ORDER BY deadline, target",
        )
        .bind(ticket.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter()
            .map(|row| {
                let target: String = get(row, "target")?;
                Ok(SlaBreach {
                    ticket_id: get::<Uuid>(row, "ticket_id")?.into(),
                    target: SlaTarget::parse(&target).ok_or_else(|| corrupt("target", &target))?,
                    org_id: get::<Uuid>(row, "org_id")?.into(),
                    deadline: time(row, "deadline")?,
                    recorded_at: time(row, "recorded_at")?,
                })
            })
            .collect()
    }

    async fn armed_sla_deadlines(&self) -> StoreResult<Vec<ArmedDeadline>> {
        let rows = sqlx::query(
            "SELECT org_id, id, sla_next_deadline FROM tickets \
             WHERE sla_next_deadline IS NOT NULL ORDER BY sla_next_deadline",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter()
            .map(|row| {
                Ok(ArmedDeadline {
                    org: get::<Uuid>(row, "org_id")?.into(),
                    ticket: get::<Uuid>(row, "id")?.into(),
                    deadline: time(row, "sla_next_deadline")?,
                })
            })
            .collect()
    }

    async fn unfinished_tickets(&self, org: OrgId) -> StoreResult<Vec<TicketId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE org_id = ? AND status NOT IN ('resolved', 'closed')",
        )
        .bind(org.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        Ok(ids.into_iter().map(Into::into).collect())
    }

    async fn users_with_roles(&self, org: OrgId, roles: &[Role]) -> StoreResult<Vec<UserId>> {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let list = serde_json::to_string(&names)
            .map_err(|e| StoreError::Database(format!("roles: {e}")))?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM users WHERE org_id = ? AND active = 1 \
             AND role IN (SELECT value FROM json_each(?)) ORDER BY id",
        )
        .bind(org.as_uuid())
        .bind(list)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        Ok(ids.into_iter().map(Into::into).collect())
    }

    async fn assigned_unfinished_counts(&self, org: OrgId) -> StoreResult<Vec<(UserId, u32)>> {
        let rows = sqlx::query(
            "SELECT assignee_id, COUNT(*) AS n FROM tickets WHERE org_id = ? \
             AND assignee_id IS NOT NULL AND status NOT IN ('resolved', 'closed') \
             GROUP BY assignee_id",
        )
        .bind(org.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter()
            .map(|row| {
                let n: i64 = get(row, "n")?;
                Ok((
                    get::<Uuid>(row, "assignee_id")?.into(),
                    u32::try_from(n).unwrap_or(u32::MAX),
                ))
            })
            .collect()
    }

    async fn last_auto_assignee(&self, org: OrgId) -> StoreResult<Option<UserId>> {
        let last: Option<Option<Uuid>> =
            sqlx::query_scalar("SELECT last_auto_assignee FROM ticket_counters WHERE org_id = ?")
                .bind(org.as_uuid())
                .fetch_optional(&self.reader)
                .await
                .map_err(sql_error::db)?;
        Ok(last.flatten().map(Into::into))
    }

    async fn insert_ticket_survey(
        &self,
        org: OrgId,
        survey: &TicketSurvey,
        activity: &NewActivity,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO ticket_surveys (ticket_id, reporter_id, rating, comment, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(survey.ticket_id.as_uuid())
        .bind(survey.reporter_id.as_uuid())
        .bind(i64::from(survey.rating.get()))
        .bind(survey.comment.as_deref())
        .bind(millis::to_millis(survey.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error::write(e, "survey", &[]))?;
        insert_activity(
            &mut tx,
            org,
            survey.ticket_id,
            std::slice::from_ref(activity),
        )
        .await?;
        tx.commit().await.map_err(sql_error::db)
    }

    async fn get_ticket_survey(&self, ticket: TicketId) -> StoreResult<Option<TicketSurvey>> {
        let row = sqlx::query(
            "SELECT ticket_id, reporter_id, rating, comment, created_at FROM ticket_surveys \
             WHERE ticket_id = ?",
        )
        .bind(ticket.as_uuid())
        .fetch_optional(&self.reader)
        .await
        .map_err(sql_error::db)?;
        row.map(|row| {
            let rating: i64 = get(&row, "rating")?;
            Ok(TicketSurvey {
                ticket_id: get::<Uuid>(&row, "ticket_id")?.into(),
                reporter_id: get::<Uuid>(&row, "reporter_id")?.into(),
                rating: Rating::new(rating).map_err(|e| corrupt("rating", e))?,
                comment: get(&row, "comment")?,
                created_at: time(&row, "created_at")?,
            })
        })
        .transpose()
    }

    async fn get_ticket_settings(&self, org: OrgId) -> StoreResult<Option<TicketSettings>> {
        let row = sqlx::query("SELECT settings FROM ticket_settings WHERE org_id = ?")
            .bind(org.as_uuid())
            .fetch_optional(&self.reader)
            .await
            .map_err(sql_error::db)?;
        row.map(|row| json(&row, "settings")).transpose()
    }

    async fn put_ticket_settings(
        &self,
        org: OrgId,
        settings: &TicketSettings,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ticket_settings (org_id, settings, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings, \
             updated_at = excluded.updated_at",
        )
        .bind(org.as_uuid())
        .bind(to_json(settings, "ticket settings")?)
        .bind(millis::to_millis(at))
        .execute(&self.writer)
        .await
        .map_err(|e| sql_error::write(e, "ticket settings", &[]))?;
        Ok(())
    }

    async fn list_notifications(&self, user: UserId, page: Page) -> StoreResult<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, org_id, user_id, kind, payload, created_at, read_at FROM notifications \
             WHERE user_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
        )
        .bind(user.as_uuid())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;
        rows.iter().map(notification_row).collect()
    }
}
