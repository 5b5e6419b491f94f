//! Opening a store from a database URL: back-end choice, first start, in-memory databases.

use time::OffsetDateTime;

use atrium_core::ids::OrgId;
use atrium_core::model::Organization;
use atrium_persistence::open_store;
use atrium_persistence::store::{Store, StoreError};

async fn round_trip(store: &dyn Store) {
    store.migrate().await.expect("migrate");
    let org = Organization {
        id: OrgId::new(),
        slug: "first".into(),
        name: "First".into(),
        created_at: OffsetDateTime::now_utc(),
    };
    store.create_org(&org).await.expect("write");
    assert_eq!(
        store.get_org_by_slug("first").await.expect("read").id,
        org.id
    );
}

#[tokio::test]
async fn sqlite_url_creates_directory_and_file_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data/deeper/atrium.db");
    let store = open_store(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    assert_eq!(store.backend(), "sqlite");
    round_trip(store.as_ref()).await;
    store.close().await;
    assert!(file.is_file());

    // A second start finds the data where it was left.
    let again = open_store(&format!("sqlite:{}", file.display()))
        .await
        .unwrap();
    again.migrate().await.unwrap();
    assert_eq!(again.get_org_by_slug("first").await.unwrap().slug, "first");
    again.close().await;
}

#[tokio::test]
async fn bare_path_is_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain/atrium.db");
    let store = open_store(file.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    round_trip(store.as_ref()).await;
    store.close().await;
    assert!(file.is_file());
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_calls() {
    let store = open_store("sqlite::memory:").await.unwrap();
    round_trip(store.as_ref()).await;
    store.close().await;
}

#[tokio::test]
async fn unknown_schemes_are_refused() {
    for url in ["mysql://root@localhost/atrium", "redis://127.0.0.1", ""] {
        match open_store(url).await {
            Err(StoreError::Database(message)) => assert!(!message.is_empty()),
            Err(other) => panic!("{url}: unexpected error {other:?}"),
            Ok(_) => panic!("{url}: should be refused"),
        }
    }
}

#[tokio::test]
async fn postgres_url_is_postgres() {
    let Ok(url) = std::env::var("ATRIUM_TEST_DATABASE_URL") else {
        println!("skipped: ATRIUM_TEST_DATABASE_URL not set");
        return;
    };
    let store = open_store(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    store.ping().await.unwrap();
    store.close().await;
}
