//! Committed messages per second through the group-commit writer.
//!
//! Many submitters (as many concurrent `msg.send`s as a busy node has) each commit messages one
//! after another through one `MessageWriter`, spread over several channels. Every message carries
//! a nonce, as client sends do, so the idempotency lookup is part of the cost. A message counts
//! once its commit has returned, i.e. once it is durable. Runs on SQLite (a temporary file) and, when
//! ATRIUM_TEST_DATABASE_URL is set, on PostgreSQL (a temporary schema, dropped afterwards).
//!
//! After each back end the bench prints the CPU time this process spent per committed message,
//! in total and on SQLite's connection worker threads (the single writer's thread is where a
//! SQLite commit runs, so its cost per message bounds the commit rate). Unlike the wall-clock
//! throughput, these hardly change when other jobs compete for the machine. PostgreSQL's own CPU
//! is spent in its server processes and is not included.
//!
//! `cargo bench -p atrium-persistence --bench commit`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlx::Connection;
use time::OffsetDateTime;
use tokio::runtime::Runtime;

use atrium_core::ids::{ChannelId, MessageId, OrgId, UserId};
use atrium_core::model::{Channel, ChannelKind, NewMessage, Organization, User};
use atrium_core::rbac::Role;
use atrium_persistence::store::Store;
use atrium_persistence::{MessageWriter, WriterConfig, open_store};

/// Concurrent submitters, each waiting for its commit before sending the next message.
const SUBMITTERS: usize = 1024;
/// Messages committed per measured iteration.
const MESSAGES_PER_ITER: usize = 32 * 1024;
/// Channels the messages are spread over.
const CHANNELS: usize = 32;
/// A typical chat line.
const BODY: &str =
    "Short status update: the deploy finished, dashboards look green, next one at 3.";

struct Target {
    store: Arc<dyn Store>,
    writer: MessageWriter,
    sender: UserId,
    channels: Vec<ChannelId>,
}

async fn prepare(url: &str) -> Target {
    let store = open_store(url).await.expect("open store");
    store.migrate().await.expect("migrate");
    let now = OffsetDateTime::now_utc();
    let org = Organization {
        id: OrgId::new(),
        slug: "bench".into(),
        name: "Bench".into(),
        created_at: now,
    };
    store.create_org(&org).await.expect("org");
    let user = User {
        id: UserId::new(),
        org_id: org.id,
        username: "bench".into(),
        email: "bench@example.org".into(),
        password_hash: String::new(),
        role: Role::User,
        active: true,
        created_at: now,
    };
    store.create_user(&user).await.expect("user");
    let mut channels = Vec::with_capacity(CHANNELS);
    for i in 0..CHANNELS {
        let channel = Channel {
            id: ChannelId::new(),
            org_id: org.id,
            name: format!("bench-{i}"),
            kind: ChannelKind::Group,
            created_by: user.id,
            created_at: now,
            last_seq: 0,
        };
        store.create_channel(&channel).await.expect("channel");
        channels.push(channel.id);
    }
    let writer = MessageWriter::spawn(store.clone(), WriterConfig::default());
    Target {
        store,
        writer,
        sender: user.id,
        channels,
    }
}

/// Commits `MESSAGES_PER_ITER` messages with `SUBMITTERS` concurrent senders; returns the time.
async fn commit_round(target: &Target) -> Duration {
    let per_submitter = MESSAGES_PER_ITER / SUBMITTERS;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(SUBMITTERS);
    for s in 0..SUBMITTERS {
        let writer = target.writer.clone();
        let sender = target.sender;
        let channel = target.channels[s % target.channels.len()];
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_submitter {
                let id = MessageId::new();
                let msg = NewMessage {
                    id,
                    channel_id: channel,
                    sender_id: sender,
                    body: BODY.to_owned(),
                    reply_to: None,
                    mentions: Vec::new(),
                    nonce: Some(id.to_string()),
                    created_at: OffsetDateTime::now_utc(),
                };
                writer.commit(msg).await.expect("commit");
            }
        }));
    }
    for task in tasks {
        task.await.expect("submitter");
    }
    started.elapsed()
}

/// CPU seconds used so far by this process's threads, all of them and SQLite's workers alone
/// (from /proc, in clock ticks of 1/100 s, the fixed unit of its per-thread `stat` files).
fn cpu_seconds() -> (f64, f64) {
    const TICKS_PER_SECOND: f64 = 100.0;
    let mut all = 0u64;
    let mut sqlite = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0.0, 0.0);
    };
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&f| fields.get(f)?.parse::<u64>().ok())
            .sum();
        all += ticks;
        if comm.starts_with("sqlx-sqlite") {
            sqlite += ticks;
        }
    }
    (
        all as f64 / TICKS_PER_SECOND,
        sqlite as f64 / TICKS_PER_SECOND,
    )
}

fn measure(c: &mut Criterion, rt: &Runtime, name: &str, url: &str) {
    let target = rt.block_on(prepare(url));
    let committed = std::cell::Cell::new(0u64);
    let (cpu_before, sqlite_before) = cpu_seconds();
    let mut group = c.benchmark_group("commit");
    group.throughput(Throughput::Elements(MESSAGES_PER_ITER as u64));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += commit_round(&target).await;
                    committed.set(committed.get() + MESSAGES_PER_ITER as u64);
                }
                total
            })
        })
    });
    group.finish();
    let (cpu_after, sqlite_after) = cpu_seconds();
    let per_message = |seconds: f64| seconds * 1e6 / committed.get().max(1) as f64;
    println!(
        "{name}: {} messages committed; CPU per message: {:.1} µs in this process, {:.1} µs on \
         SQLite's connection threads",
        committed.get(),
        per_message(cpu_after - cpu_before),
        per_message(sqlite_after - sqlite_before),
    );
    rt.block_on(async {
        target.writer.shutdown().await;
        target.store.close().await;
    });
}

fn commit_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    measure(c, &rt, "sqlite", &url);

    match std::env::var("ATRIUM_TEST_DATABASE_URL") {
        Ok(base) => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let run_sql = |sql: String| {
                rt.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&base).await.expect("connect");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await
                        .expect("schema");
                })
            };
            run_sql(format!("CREATE SCHEMA {schema}"));
            let separator = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
            measure(c, &rt, "postgres", &url);
            run_sql(format!("DROP SCHEMA {schema} CASCADE"));
        }
        Err(_) => println!("postgres skipped: ATRIUM_TEST_DATABASE_URL not set"),
    }
}

criterion_group!(benches, commit_throughput);
criterion_main!(benches);
