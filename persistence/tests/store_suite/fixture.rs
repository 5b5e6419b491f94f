//! A fresh database per test: a SQLite file in a temporary directory, or a PostgreSQL schema of
//! its own (created, migrated, and dropped afterwards) when ATRIUM_TEST_DATABASE_URL is set.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use sqlx::Connection;

use atrium_persistence::open_store;
use atrium_persistence::store::Store;

/// How long one case may run before it is reported as hung.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a case gets: a migrated store, and the means to open a second one on the same database
/// (a second "node").
#[derive(Clone)]
pub struct Db {
    pub store: Arc<dyn Store>,
    url: String,
}

impl Db {
    pub async fn open_another(&self) -> Arc<dyn Store> {
        open_store(&self.url).await.expect("open a second store")
    }
}

pub async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("nested/atrium.db").display());
    let outcome = run_on(&url, case).await;
    drop(dir);
    finish(outcome);
}

pub async fn run_postgres<F, Fut>(case: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(base) = std::env::var("ATRIUM_TEST_DATABASE_URL") else {
        println!("skipped: ATRIUM_TEST_DATABASE_URL not set");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .expect("create test schema");

    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let outcome = run_on(&url, case).await;

    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .expect("drop test schema");
    finish(outcome);
}

type Outcome = Result<(), Box<dyn std::any::Any + Send>>;

/// Opens and migrates the store at `url`, runs the case, closes the store. Any failure, opening
/// included, comes back as the outcome, so the caller always gets to clean up.
async fn run_on<F, Fut>(url: &str, case: F) -> Outcome
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let body = async {
        let store = open_store(url).await.expect("open store");
        store.migrate().await.expect("migrate");
        let db = Db {
            store: store.clone(),
            url: url.to_owned(),
        };
        let guarded = tokio::time::timeout(CASE_TIMEOUT, case(db));
        let outcome = AssertUnwindSafe(guarded).catch_unwind().await;
        store.close().await;
        outcome
    };
    match AssertUnwindSafe(body).catch_unwind().await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(_))) => Err(Box::new(format!("case timed out after {CASE_TIMEOUT:?}"))),
        Ok(Err(panic)) | Err(panic) => Err(panic),
    }
}

/// Re-raises a case's failure after the database was cleaned up.
fn finish(outcome: Outcome) {
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
