//! The store conformance suite: every case runs against SQLite (a fresh temporary file) and
//! against PostgreSQL (a fresh schema) when ATRIUM_TEST_DATABASE_URL is set. Test names read
//! `sqlite::messages::nonce_idempotency` / `postgres::messages::nonce_idempotency`.

mod accounts;
mod ai;
mod audit;
mod channels;
mod data;
mod fixture;
mod messages;
mod rooms;
mod search;
mod tickets;
mod writer;

macro_rules! suite {
    ($($module:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::fixture::run_sqlite(crate::$module::$case).await;
                })*
            })*
        }
        mod postgres {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::fixture::run_postgres(crate::$module::$case).await;
                })*
            })*
        }
    };
}

suite! {
    accounts: [plumbing, organizations, users, refresh_tokens, settings],
    channels: [create_and_get, members, direct_channels, read_markers_and_unread],
    messages: [commit_and_read, bad_messages_fail_alone, nonce_idempotency, edits_and_deletes, reactions],
    writer: [
        seqs_are_gap_free_under_concurrency,
        concurrent_retries_store_once,
        shutdown_drains,
        batch_failure_reaches_every_caller,
    ],
    search: [search],
    audit: [audit_log],
    ai: [conversations_and_messages, assistants_and_templates, providers_and_models, usage_and_budgets, org_stats],
    tickets: [
        numbering_and_reads,
        numbers_never_repeat_under_concurrency,
        list_filters_and_order,
        changes_comments_and_activity,
        sla_state_and_breaches,
        surveys_settings_and_agents,
    ],
    rooms: [create_and_get, list_and_page, update_and_delete],
}
