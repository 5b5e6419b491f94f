//! The AI store's SQL, written once and expanded for each back end.
//!
//! The AI tables were designed so one statement serves both databases: `$N` parameters (which
//! sqlx also accepts on SQLite), `ON CONFLICT … DO …`, `RETURNING`, and `CAST(… AS BIGINT)` for
//! aggregates. What differs is supplied by the back end at the expansion site: the pools
//! (`ai_read`, `ai_write`), a write transaction (`ai_tx`), and how a time is bound (`db_time`:
//! unix milliseconds on SQLite, a truncated `timestamptz` on PostgreSQL).

macro_rules! impl_ai_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::ai_store::AiHubStore for $store {
            async fn create_conversation(
                &self,
                c: &atrium_core::ai::Conversation,
            ) -> $crate::store::StoreResult<()> {
                // Inserted only when the user (and channel, assistant) belong to the org.
                let inserted = sqlx::query(concat!(
                    "INSERT INTO ai_conversations (",
                    $crate::ai_rows::conversation_columns!(),
                    ", last_seq) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0 \
                     FROM users WHERE id = $3 AND org_id = $2 \
                     AND ($4 IS NULL OR EXISTS (SELECT 1 FROM channels WHERE id = $4 AND org_id = $2)) \
                     AND ($5 IS NULL OR EXISTS (SELECT 1 FROM ai_assistants WHERE id = $5 AND org_id = $2))"
                ))
                .bind(c.id.as_uuid())
                .bind(c.org_id.as_uuid())
                .bind(c.user_id.as_uuid())
                .bind(c.channel_id.map(|x| x.as_uuid()))
                .bind(c.assistant_id.map(|x| x.as_uuid()))
                .bind(c.title.as_deref())
                .bind(c.model.as_deref())
                .bind(c.temperature.map(|t| t.get()))
                .bind(c.system_prompt.as_deref())
                .bind(db_time(c.created_at))
                .bind(db_time(c.updated_at))
                .execute(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "conversation", &[]))?;
                if inserted.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_conversation(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::ConversationId,
            ) -> $crate::store::StoreResult<atrium_core::ai::Conversation> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::conversation_columns!(),
                    " FROM ai_conversations WHERE id = $1 AND org_id = $2"
                ))
                .bind(id.as_uuid())
                .bind(org.as_uuid())
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::conversation(&row)
            }

            async fn list_conversations(
                &self,
                org: atrium_core::ids::OrgId,
                user: atrium_core::ids::UserId,
                page: $crate::store::Page,
            ) -> $crate::store::StoreResult<$crate::store::Paged<atrium_core::ai::Conversation>> {
                macro_rules! visible {
                    () => {
                        " FROM ai_conversations WHERE org_id = $1 AND (user_id = $2 OR channel_id IN \
                         (SELECT channel_id FROM channel_members WHERE user_id = $2))"
                    };
                }
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::conversation_columns!(),
                    visible!(),
                    " ORDER BY updated_at DESC, id DESC LIMIT $3 OFFSET $4"
                ))
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .bind(i64::from(page.limit))
                .bind(i64::from(page.offset))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", visible!()))
                    .bind(org.as_uuid())
                    .bind(user.as_uuid())
                    .fetch_one(self.ai_read())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok($crate::store::Paged {
                    items: rows
                        .iter()
                        .map($crate::ai_rows::conversation)
                        .collect::<$crate::store::StoreResult<_>>()?,
                    total: u64::try_from(total).unwrap_or(0),
                })
            }

            async fn list_channel_conversations(
                &self,
                org: atrium_core::ids::OrgId,
                channel: atrium_core::ids::ChannelId,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::Conversation>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::conversation_columns!(),
                    " FROM ai_conversations WHERE org_id = $1 AND channel_id = $2 \
                     ORDER BY updated_at DESC, id DESC"
                ))
                .bind(org.as_uuid())
                .bind(channel.as_uuid())
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::conversation).collect()
            }

            async fn update_conversation(
                &self,
                c: &atrium_core::ai::Conversation,
            ) -> $crate::store::StoreResult<atrium_core::ai::Conversation> {
                let row = sqlx::query(concat!(
                    "UPDATE ai_conversations SET title = $3, assistant_id = $4, model = $5, \
                     temperature = $6, system_prompt = $7, updated_at = $8 \
                     WHERE id = $1 AND org_id = $2 \
                     AND ($4 IS NULL OR EXISTS (SELECT 1 FROM ai_assistants WHERE id = $4 AND org_id = $2)) \
                     RETURNING ",
                    $crate::ai_rows::conversation_columns!()
                ))
                .bind(c.id.as_uuid())
                .bind(c.org_id.as_uuid())
                .bind(c.title.as_deref())
                .bind(c.assistant_id.map(|x| x.as_uuid()))
                .bind(c.model.as_deref())
                .bind(c.temperature.map(|t| t.get()))
                .bind(c.system_prompt.as_deref())
                .bind(db_time(c.updated_at))
                .fetch_one(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "conversation", &[]))?;
                $crate::ai_rows::conversation(&row)
            }

            async fn set_conversation_title_if_unset(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::ConversationId,
                title: &str,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE ai_conversations SET title = $3 \
                     WHERE id = $1 AND org_id = $2 AND title IS NULL",
                )
                .bind(id.as_uuid())
                .bind(org.as_uuid())
                .bind(title)
                .execute(self.ai_write())
                .await
                .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_conversation(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::ConversationId,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM ai_conversations WHERE id = $1 AND org_id = $2")
                    .bind(id.as_uuid())
                    .bind(org.as_uuid())
                    .execute(self.ai_write())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn append_conversation_message(
                &self,
                org: atrium_core::ids::OrgId,
                m: &atrium_core::ai::ConversationMessage,
            ) -> $crate::store::StoreResult<atrium_core::ai::ConversationMessage> {
                let mut tx = self.ai_tx().await?;
                let seq: i64 = sqlx::query_scalar(
                    "UPDATE ai_conversations SET last_seq = last_seq + 1, updated_at = $3 \
                     WHERE id = $1 AND org_id = $2 RETURNING last_seq",
                )
                .bind(m.conversation_id.as_uuid())
                .bind(org.as_uuid())
                .bind(db_time(m.created_at))
                .fetch_one(&mut *tx)
                .await
                .map_err($crate::sql_error::db)?;
                let row = sqlx::query(concat!(
                    "INSERT INTO ai_messages (",
                    $crate::ai_rows::ai_message_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
                    $crate::ai_rows::ai_message_columns!()
                ))
                .bind(m.id.as_uuid())
                .bind(m.conversation_id.as_uuid())
                .bind(seq)
                .bind(m.role.as_str())
                .bind(&m.content)
                .bind(m.author_id.map(|x| x.as_uuid()))
                .bind(m.model.as_deref())
                .bind(m.stream_id.map(|x| x.as_uuid()))
                .bind(m.status.as_str())
                .bind(db_time(m.created_at))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| $crate::sql_error::write(e, "conversation message", &[]))?;
                let stored = $crate::ai_rows::message(&row)?;
                tx.commit().await.map_err($crate::sql_error::db)?;
                Ok(stored)
            }

            async fn list_conversation_messages(
                &self,
                conversation: atrium_core::ids::ConversationId,
                before_seq: Option<i64>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::ConversationMessage>> {
                let limit = limit.clamp(1, $crate::ai_store::MAX_CONVERSATION_MESSAGES_PER_READ);
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::ai_message_columns!(),
                    " FROM ai_messages WHERE conversation_id = $1 AND ($2 IS NULL OR seq < $2) \
                     ORDER BY seq DESC LIMIT $3"
                ))
                .bind(conversation.as_uuid())
                .bind(before_seq)
                .bind(i64::from(limit))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                let mut messages = rows
                    .iter()
                    .map($crate::ai_rows::message)
                    .collect::<$crate::store::StoreResult<Vec<_>>>()?;
                messages.reverse();
                Ok(messages)
            }

            async fn create_assistant(
                &self,
                a: &atrium_core::ai::Assistant,
            ) -> $crate::store::StoreResult<()> {
                let inserted = sqlx::query(concat!(
                    "INSERT INTO ai_assistants (",
                    $crate::ai_rows::assistant_columns!(),
                    ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
                     FROM organizations WHERE id = $2 \
                     AND ($3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $3 AND org_id = $2))"
                ))
                .bind(a.id.as_uuid())
                .bind(a.org_id.as_uuid())
                .bind(a.owner_id.map(|x| x.as_uuid()))
                .bind(&a.name)
                .bind(&a.description)
                .bind(a.icon.as_deref())
                .bind(&a.system_prompt)
                .bind(a.model.as_deref())
                .bind(a.temperature.map(|t| t.get()))
                .bind(db_time(a.created_at))
                .bind(db_time(a.updated_at))
                .execute(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "assistant", &[]))?;
                if inserted.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_assistant(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::AssistantId,
            ) -> $crate::store::StoreResult<atrium_core::ai::Assistant> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::assistant_columns!(),
                    " FROM ai_assistants WHERE id = $1 AND org_id = $2"
                ))
                .bind(id.as_uuid())
                .bind(org.as_uuid())
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::assistant(&row)
            }

            async fn list_assistants(
                &self,
                org: atrium_core::ids::OrgId,
                user: atrium_core::ids::UserId,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::Assistant>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::assistant_columns!(),
                    " FROM ai_assistants WHERE org_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
                     ORDER BY name, id"
                ))
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::assistant).collect()
            }

            async fn update_assistant(
                &self,
                a: &atrium_core::ai::Assistant,
            ) -> $crate::store::StoreResult<atrium_core::ai::Assistant> {
                let row = sqlx::query(concat!(
                    "UPDATE ai_assistants SET name = $3, description = $4, icon = $5, \
                     system_prompt = $6, model = $7, temperature = $8, updated_at = $9 \
                     WHERE id = $1 AND org_id = $2 RETURNING ",
                    $crate::ai_rows::assistant_columns!()
                ))
                .bind(a.id.as_uuid())
                .bind(a.org_id.as_uuid())
                .bind(&a.name)
                .bind(&a.description)
                .bind(a.icon.as_deref())
                .bind(&a.system_prompt)
                .bind(a.model.as_deref())
                .bind(a.temperature.map(|t| t.get()))
                .bind(db_time(a.updated_at))
                .fetch_one(self.ai_write())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::assistant(&row)
            }

            async fn delete_assistant(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::AssistantId,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM ai_assistants WHERE id = $1 AND org_id = $2")
                    .bind(id.as_uuid())
                    .bind(org.as_uuid())
                    .execute(self.ai_write())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_template(
                &self,
                t: &atrium_core::ai::PromptTemplate,
            ) -> $crate::store::StoreResult<()> {
                let inserted = sqlx::query(concat!(
                    "INSERT INTO ai_prompt_templates (",
                    $crate::ai_rows::template_columns!(),
                    ") SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM organizations WHERE id = $2 \
                     AND ($3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $3 AND org_id = $2))"
                ))
                .bind(t.id.as_uuid())
                .bind(t.org_id.as_uuid())
                .bind(t.owner_id.map(|x| x.as_uuid()))
                .bind(&t.name)
                .bind(&t.description)
                .bind(&t.body)
                .bind(db_time(t.created_at))
                .bind(db_time(t.updated_at))
                .execute(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "template", &[]))?;
                if inserted.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_template(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::PromptTemplateId,
            ) -> $crate::store::StoreResult<atrium_core::ai::PromptTemplate> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::template_columns!(),
                    " FROM ai_prompt_templates WHERE id = $1 AND org_id = $2"
                ))
                .bind(id.as_uuid())
                .bind(org.as_uuid())
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::template(&row)
            }

            async fn list_templates(
                &self,
                org: atrium_core::ids::OrgId,
                user: atrium_core::ids::UserId,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::PromptTemplate>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::template_columns!(),
                    " FROM ai_prompt_templates WHERE org_id = $1 \
                     AND (owner_id IS NULL OR owner_id = $2) ORDER BY name, id"
                ))
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::template).collect()
            }

            async fn update_template(
                &self,
                t: &atrium_core::ai::PromptTemplate,
            ) -> $crate::store::StoreResult<atrium_core::ai::PromptTemplate> {
                let row = sqlx::query(concat!(
                    "UPDATE ai_prompt_templates SET name = $3, description = $4, body = $5, \
                     updated_at = $6 WHERE id = $1 AND org_id = $2 RETURNING ",
                    $crate::ai_rows::template_columns!()
                ))
                .bind(t.id.as_uuid())
                .bind(t.org_id.as_uuid())
                .bind(&t.name)
                .bind(&t.description)
                .bind(&t.body)
                .bind(db_time(t.updated_at))
                .fetch_one(self.ai_write())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::template(&row)
            }

            async fn delete_template(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::PromptTemplateId,
            ) -> $crate::store::StoreResult<bool> {
                let done =
                    sqlx::query("DELETE FROM ai_prompt_templates WHERE id = $1 AND org_id = $2")
                        .bind(id.as_uuid())
                        .bind(org.as_uuid())
                        .execute(self.ai_write())
                        .await
                        .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn org_stats(
                &self,
                org: atrium_core::ids::OrgId,
            ) -> $crate::store::StoreResult<$crate::ai_store::OrgStats> {
                let row = sqlx::query(
                    "SELECT \
                     (SELECT COUNT(*) FROM users WHERE org_id = $1) AS users, \
                     (SELECT COUNT(*) FROM users WHERE org_id = $1 AND active = $2) AS active_users, \
                     (SELECT COUNT(*) FROM channels WHERE org_id = $1) AS channels, \
                     (SELECT COUNT(*) FROM messages m JOIN channels c ON c.id = m.channel_id \
                        WHERE c.org_id = $1) AS messages, \
                     (SELECT COUNT(*) FROM ai_conversations WHERE org_id = $1) AS conversations, \
                     (SELECT COUNT(*) FROM ai_messages m JOIN ai_conversations c \
                        ON c.id = m.conversation_id WHERE c.org_id = $1) AS conversation_messages, \
                     (SELECT COUNT(*) FROM ai_assistants WHERE org_id = $1) AS assistants, \
                     (SELECT COUNT(*) FROM ai_prompt_templates WHERE org_id = $1) AS templates, \
                     (SELECT COUNT(*) FROM tickets WHERE org_id = $1) AS tickets",
                )
                .bind(org.as_uuid())
                .bind(true)
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                let count = |c: &str| -> $crate::store::StoreResult<u64> {
                    let n: i64 = sqlx::Row::try_get(&row, c)
                        .map_err(|e| $crate::sql_error::corrupt(c, e))?;
                    Ok(u64::try_from(n).unwrap_or(0))
                };
                Ok($crate::ai_store::OrgStats {
                    users: count("users")?,
                    active_users: count("active_users")?,
                    channels: count("channels")?,
                    messages: count("messages")?,
                    conversations: count("conversations")?,
                    conversation_messages: count("conversation_messages")?,
                    assistants: count("assistants")?,
                    templates: count("templates")?,
                    tickets: count("tickets")?,
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::ai_store::AiAdminStore for $store {
            async fn put_provider(
                &self,
                p: &atrium_core::ai::AiProvider,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO ai_providers (",
                    $crate::ai_rows::provider_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET \
                     kind = excluded.kind, base_url = excluded.base_url, \
                     api_version = excluded.api_version, key_cipher = excluded.key_cipher, \
                     key_hint = excluded.key_hint, updated_at = excluded.updated_at"
                ))
                .bind(&p.name)
                .bind(&p.kind)
                .bind(p.base_url.as_deref())
                .bind(p.api_version.as_deref())
                .bind(p.key.as_ref().map(|k| k.ciphertext.clone()))
                .bind(p.key.as_ref().map(|k| k.hint.clone()))
                .bind(db_time(p.updated_at))
                .execute(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "provider", &[]))?;
                Ok(())
            }

            async fn insert_provider_if_absent(
                &self,
                p: &atrium_core::ai::AiProvider,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(concat!(
                    "INSERT INTO ai_providers (",
                    $crate::ai_rows::provider_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING"
                ))
                .bind(&p.name)
                .bind(&p.kind)
                .bind(p.base_url.as_deref())
                .bind(p.api_version.as_deref())
                .bind(p.key.as_ref().map(|k| k.ciphertext.clone()))
                .bind(p.key.as_ref().map(|k| k.hint.clone()))
                .bind(db_time(p.updated_at))
                .execute(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "provider", &[]))?;
                Ok(done.rows_affected() > 0)
            }

            async fn get_provider(
                &self,
                name: &str,
            ) -> $crate::store::StoreResult<atrium_core::ai::AiProvider> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::provider_columns!(),
                    " FROM ai_providers WHERE name = $1"
                ))
                .bind(name)
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::provider(&row)
            }

            async fn list_providers(
                &self,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::AiProvider>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::provider_columns!(),
                    " FROM ai_providers ORDER BY name"
                ))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::provider).collect()
            }

            async fn delete_provider(&self, name: &str) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM ai_providers WHERE name = $1")
                    .bind(name)
                    .execute(self.ai_write())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_model(
                &self,
                m: &atrium_core::ai::AiModel,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.ai_tx().await?;
                if m.is_default {
                    sqlx::query("UPDATE ai_models SET is_default = $1 WHERE is_default = $2")
                        .bind(false)
                        .bind(true)
                        .execute(&mut *tx)
                        .await
                        .map_err($crate::sql_error::db)?;
                }
                insert_model(&mut *tx, m, false).await?;
                tx.commit().await.map_err($crate::sql_error::db)
            }

            async fn insert_model_if_absent(
                &self,
                m: &atrium_core::ai::AiModel,
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.ai_tx().await?;
                if m.is_default {
                    // A seeded default only applies when no model is the default yet.
                    let taken: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM ai_models WHERE is_default = $1",
                    )
                    .bind(true)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err($crate::sql_error::db)?;
                    if taken > 0 {
                        let mut m = m.clone();
                        m.is_default = false;
                        let inserted = insert_model(&mut *tx, &m, true).await?;
                        tx.commit().await.map_err($crate::sql_error::db)?;
                        return Ok(inserted);
                    }
                }
                let inserted = insert_model(&mut *tx, m, true).await?;
                tx.commit().await.map_err($crate::sql_error::db)?;
                Ok(inserted)
            }

            async fn get_model(
                &self,
                id: atrium_core::ids::AiModelId,
            ) -> $crate::store::StoreResult<atrium_core::ai::AiModel> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::model_columns!(),
                    " FROM ai_models WHERE id = $1"
                ))
                .bind(id.as_uuid())
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::model(&row)
            }

            async fn list_models(&self) -> $crate::store::StoreResult<Vec<atrium_core::ai::AiModel>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::model_columns!(),
                    " FROM ai_models ORDER BY name"
                ))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::model).collect()
            }

            async fn update_model(
                &self,
                m: &atrium_core::ai::AiModel,
            ) -> $crate::store::StoreResult<atrium_core::ai::AiModel> {
                let mut tx = self.ai_tx().await?;
                if m.is_default {
                    sqlx::query(
                        "UPDATE ai_models SET is_default = $1 WHERE is_default = $2 AND id <> $3",
                    )
                    .bind(false)
                    .bind(true)
                    .bind(m.id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::sql_error::db)?;
                }
                let row = sqlx::query(concat!(
                    "UPDATE ai_models SET name = $2, display_name = $3, provider = $4, \
                     model_id = $5, deployment = $6, enabled = $7, is_default = $8, \
                     supports_temperature = $9, uses_max_completion_tokens = $10, \
                     max_tokens = $11, fallback = $12, input_price = $13, output_price = $14, \
                     updated_at = $15 WHERE id = $1 RETURNING ",
                    $crate::ai_rows::model_columns!()
                ))
                .bind(m.id.as_uuid())
                .bind(&m.name)
                .bind(&m.display_name)
                .bind(&m.provider)
                .bind(&m.model_id)
                .bind(m.deployment.as_deref())
                .bind(m.enabled)
                .bind(m.is_default)
                .bind(m.supports_temperature)
                .bind(m.uses_max_completion_tokens)
                .bind(m.max_tokens.map(i64::from))
                .bind(fallback_json(&m.fallback)?)
                .bind(m.input_price.0)
                .bind(m.output_price.0)
                .bind(db_time(m.updated_at))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| $crate::sql_error::write(e, "model", &[("name", "name")]))?;
                let stored = $crate::ai_rows::model(&row)?;
                tx.commit().await.map_err($crate::sql_error::db)?;
                Ok(stored)
            }

            async fn delete_model(
                &self,
                id: atrium_core::ids::AiModelId,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM ai_models WHERE id = $1")
                    .bind(id.as_uuid())
                    .execute(self.ai_write())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn record_usage(
                &self,
                u: &atrium_core::ai::UsageRecord,
            ) -> $crate::store::StoreResult<i64> {
                sqlx::query_scalar(
                    "INSERT INTO ai_usage (org_id, user_id, conversation_id, stream_id, model, \
                     provider, purpose, outcome, streamed, input_tokens, output_tokens, \
                     cost_micros, error_code, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                     RETURNING id",
                )
                .bind(u.org_id.as_uuid())
                .bind(u.user_id.as_uuid())
                .bind(u.conversation_id.map(|x| x.as_uuid()))
                .bind(u.stream_id.map(|x| x.as_uuid()))
                .bind(&u.model)
                .bind(&u.provider)
                .bind(u.purpose.as_str())
                .bind(u.outcome.as_str())
                .bind(u.streamed)
                .bind(i64::try_from(u.input_tokens).unwrap_or(i64::MAX))
                .bind(i64::try_from(u.output_tokens).unwrap_or(i64::MAX))
                .bind(u.cost_micros)
                .bind(u.error_code.as_deref())
                .bind(db_time(u.at))
                .fetch_one(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "usage record", &[]))
            }

            async fn usage_totals(
                &self,
                org: atrium_core::ids::OrgId,
                user: Option<atrium_core::ids::UserId>,
                window: $crate::ai_store::UsageWindow,
            ) -> $crate::store::StoreResult<atrium_core::ai::UsageTotals> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::totals_columns!(),
                    " FROM ai_usage WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2) \
                     AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)"
                ))
                .bind(org.as_uuid())
                .bind(user.map(|u| u.as_uuid()))
                .bind(window.since.map(db_time))
                .bind(window.until.map(db_time))
                .fetch_one(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                $crate::ai_rows::totals(&row)
            }

            async fn usage_by_user(
                &self,
                org: atrium_core::ids::OrgId,
                window: $crate::ai_store::UsageWindow,
            ) -> $crate::store::StoreResult<
                Vec<(atrium_core::ids::UserId, atrium_core::ai::UsageTotals)>,
            > {
                let rows = sqlx::query(concat!(
                    "SELECT user_id, ",
                    $crate::ai_rows::totals_columns!(),
                    " FROM ai_usage WHERE org_id = $1 AND ($2 IS NULL OR at >= $2) \
                     AND ($3 IS NULL OR at < $3) GROUP BY user_id \
                     ORDER BY cost_micros DESC, SUM(input_tokens) + SUM(output_tokens) DESC, user_id"
                ))
                .bind(org.as_uuid())
                .bind(window.since.map(db_time))
                .bind(window.until.map(db_time))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter()
                    .map(|row| {
                        use $crate::ai_rows::AiRow;
                        Ok((row.uuid("user_id")?.into(), $crate::ai_rows::totals(row)?))
                    })
                    .collect()
            }

            async fn usage_by_model(
                &self,
                org: atrium_core::ids::OrgId,
                window: $crate::ai_store::UsageWindow,
            ) -> $crate::store::StoreResult<Vec<(String, atrium_core::ai::UsageTotals)>> {
                let rows = sqlx::query(concat!(
                    "SELECT model, ",
                    $crate::ai_rows::totals_columns!(),
                    " FROM ai_usage WHERE org_id = $1 AND ($2 IS NULL OR at >= $2) \
                     AND ($3 IS NULL OR at < $3) GROUP BY model \
                     ORDER BY cost_micros DESC, SUM(input_tokens) + SUM(output_tokens) DESC, model"
                ))
                .bind(org.as_uuid())
                .bind(window.since.map(db_time))
                .bind(window.until.map(db_time))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter()
                    .map(|row| {
                        use $crate::ai_rows::AiRow;
                        Ok((row.text("model")?, $crate::ai_rows::totals(row)?))
                    })
                    .collect()
            }

            async fn list_usage(
                &self,
                org: atrium_core::ids::OrgId,
                page: $crate::store::Page,
            ) -> $crate::store::StoreResult<$crate::store::Paged<atrium_core::ai::UsageRecord>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::usage_columns!(),
                    " FROM ai_usage WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3"
                ))
                .bind(org.as_uuid())
                .bind(i64::from(page.limit))
                .bind(i64::from(page.offset))
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ai_usage WHERE org_id = $1")
                    .bind(org.as_uuid())
                    .fetch_one(self.ai_read())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok($crate::store::Paged {
                    items: rows
                        .iter()
                        .map($crate::ai_rows::usage)
                        .collect::<$crate::store::StoreResult<_>>()?,
                    total: u64::try_from(total).unwrap_or(0),
                })
            }

            async fn put_budget(
                &self,
                b: &atrium_core::ai::Budget,
            ) -> $crate::store::StoreResult<atrium_core::ai::Budget> {
                let subject = b.user_id.map_or(b.org_id.as_uuid(), |u| u.as_uuid());
                let row = sqlx::query(concat!(
                    "INSERT INTO ai_budgets (id, org_id, user_id, subject, metric, limit_value, \
                     period, created_at, updated_at) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM organizations WHERE id = $2 \
                     AND ($3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $3 AND org_id = $2)) \
                     ON CONFLICT (org_id, subject, metric) DO UPDATE SET \
                     limit_value = excluded.limit_value, period = excluded.period, \
                     updated_at = excluded.updated_at RETURNING ",
                    $crate::ai_rows::budget_columns!()
                ))
                .bind(b.id.as_uuid())
                .bind(b.org_id.as_uuid())
                .bind(b.user_id.map(|u| u.as_uuid()))
                .bind(subject)
                .bind(b.metric.as_str())
                .bind(b.limit)
                .bind(b.period.as_str())
                .bind(db_time(b.created_at))
                .bind(db_time(b.updated_at))
                .fetch_one(self.ai_write())
                .await
                .map_err(|e| $crate::sql_error::write(e, "budget", &[]))?;
                $crate::ai_rows::budget(&row)
            }

            async fn list_budgets(
                &self,
                org: atrium_core::ids::OrgId,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::Budget>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::budget_columns!(),
                    " FROM ai_budgets WHERE org_id = $1 ORDER BY created_at, id"
                ))
                .bind(org.as_uuid())
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::budget).collect()
            }

            async fn budgets_for(
                &self,
                org: atrium_core::ids::OrgId,
                user: atrium_core::ids::UserId,
            ) -> $crate::store::StoreResult<Vec<atrium_core::ai::Budget>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::ai_rows::budget_columns!(),
                    " FROM ai_budgets WHERE org_id = $1 AND (user_id IS NULL OR user_id = $2) \
                     ORDER BY created_at, id"
                ))
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .fetch_all(self.ai_read())
                .await
                .map_err($crate::sql_error::db)?;
                rows.iter().map($crate::ai_rows::budget).collect()
            }

            async fn delete_budget(
                &self,
                org: atrium_core::ids::OrgId,
                id: atrium_core::ids::BudgetId,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM ai_budgets WHERE id = $1 AND org_id = $2")
                    .bind(id.as_uuid())
                    .bind(org.as_uuid())
                    .execute(self.ai_write())
                    .await
                    .map_err($crate::sql_error::db)?;
                Ok(done.rows_affected() > 0)
            }
        }

        /// Inserts a model; with `if_absent`, a taken name inserts nothing (returns `false`).
        async fn insert_model<'c, E>(
            executor: E,
            m: &atrium_core::ai::AiModel,
            if_absent: bool,
        ) -> $crate::store::StoreResult<bool>
        where
            E: sqlx::Executor<'c, Database = $db>,
        {
            let sql = if if_absent {
                concat!(
                    "INSERT INTO ai_models (",
                    $crate::ai_rows::model_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (name) DO NOTHING"
                )
            } else {
                concat!(
                    "INSERT INTO ai_models (",
                    $crate::ai_rows::model_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                )
            };
            let done = sqlx::query(sql)
                .bind(m.id.as_uuid())
                .bind(m.name.clone())
                .bind(m.display_name.clone())
                .bind(m.provider.clone())
                .bind(m.model_id.clone())
                .bind(m.deployment.clone())
                .bind(m.enabled)
                .bind(m.is_default)
                .bind(m.supports_temperature)
                .bind(m.uses_max_completion_tokens)
                .bind(m.max_tokens.map(i64::from))
                .bind(fallback_json(&m.fallback)?)
                .bind(m.input_price.0)
                .bind(m.output_price.0)
                .bind(db_time(m.created_at))
                .bind(db_time(m.updated_at))
                .execute(executor)
                .await
                .map_err(|e| $crate::sql_error::write(e, "model", &[("name", "name")]))?;
            Ok(done.rows_affected() > 0)
        }

        fn fallback_json(fallback: &[String]) -> $crate::store::StoreResult<String> {
            serde_json::to_string(fallback)
                .map_err(|e| $crate::store::StoreError::Database(format!("fallback: {e}")))
        }
    };
}

pub(crate) use impl_ai_store;
