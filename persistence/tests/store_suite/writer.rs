//! The group-commit writer: seqs under concurrency, idempotent retries, drain on shutdown.

use std::collections::HashMap;
use std::time::Duration;

use atrium_core::ids::ChannelId;
use atrium_persistence::store::{Committed, StoreError};
use atrium_persistence::{MessageWriter, WriterConfig};

use crate::data;
use crate::fixture::Db;

const TASKS: usize = 40;
const PER_TASK: usize = 25;

/// Many tasks on two "nodes" (two stores, two writers) send into two channels at once: each
/// channel ends up with seqs 1..=n exactly once, and every acknowledged message is stored.
pub async fn seqs_are_gap_free_under_concurrency(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let channels = [
        data::channel(s, org.id, anna.id, "one").await.id,
        data::channel(s, org.id, anna.id, "two").await.id,
    ];
    let second_node = db.open_another().await;
    let small_batches = WriterConfig {
        max_batch: 16,
        ..WriterConfig::default()
    };
    let writers = [
        MessageWriter::spawn(s.clone(), WriterConfig::default()),
        MessageWriter::spawn(second_node.clone(), small_batches),
    ];

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let writer = writers[t % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..PER_TASK {
                let ch = channels[(t + i) % 2];
                let committed = writer
                    .commit(data::new_message(ch, anna.id, &format!("t{t} m{i}")))
                    .await
                    .expect("commit");
                match committed {
                    Committed::New(m) => acked.push((m.channel_id, m.seq, m.id)),
                    Committed::Duplicate(m) => panic!("no nonce, no duplicate: {m:?}"),
                }
            }
            acked
        }));
    }
    let mut acked: HashMap<ChannelId, Vec<i64>> = HashMap::new();
    let mut total = 0;
    for task in tasks {
        for (ch, seq, id) in task.await.unwrap() {
            acked.entry(ch).or_default().push(seq);
            // Acknowledged means stored, with the acknowledged seq.
            assert_eq!(s.get_message(ch, id).await.unwrap().seq, seq);
            total += 1;
        }
    }
    assert_eq!(total, TASKS * PER_TASK);
    for ch in channels {
        let mut seqs = acked.remove(&ch).unwrap();
        seqs.sort_unstable();
        let n = seqs.len() as i64;
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "gap-free and unique");
        assert_eq!(s.get_channel(org.id, ch).await.unwrap().last_seq, n);
        let stored: Vec<i64> = s
            .messages_after(ch, 0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(stored, (1..=n).collect::<Vec<_>>());
    }
    for w in &writers {
        w.shutdown().await;
    }
    second_node.close().await;
}

/// Clients retrying with the same nonce, concurrently and through both nodes, get one message.
pub async fn concurrent_retries_store_once(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;
    let second_node = db.open_another().await;
    let writers = [
        MessageWriter::spawn(s.clone(), WriterConfig::default()),
        MessageWriter::spawn(second_node.clone(), WriterConfig::default()),
    ];

    const NONCES: usize = 20;
    const RETRIES: usize = 6;
    let mut tasks = Vec::new();
    for r in 0..RETRIES {
        for n in 0..NONCES {
            let writer = writers[(r + n) % 2].clone();
            let mut msg = data::new_message(ch.id, anna.id, &format!("nonce {n}"));
            msg.nonce = Some(format!("nonce-{n}"));
            tasks.push(tokio::spawn(async move {
                (n, writer.commit(msg).await.expect("commit"))
            }));
        }
    }
    let mut by_nonce: HashMap<usize, Vec<Committed>> = HashMap::new();
    for task in tasks {
        let (n, committed) = task.await.unwrap();
        by_nonce.entry(n).or_default().push(committed);
    }
    for (n, outcomes) in by_nonce {
        let news = outcomes
            .iter()
            .filter(|c| matches!(c, Committed::New(_)))
            .count();
        assert_eq!(news, 1, "nonce {n} stored exactly once: {outcomes:?}");
        let ids: Vec<_> = outcomes
            .iter()
            .map(|c| (c.message().id, c.message().seq))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "every retry sees the original"
        );
    }
    let stored = s.messages_after(ch.id, 0, 1000).await.unwrap();
    assert_eq!(stored.len(), NONCES);
    assert_eq!(stored.last().unwrap().seq, NONCES as i64);
    for w in &writers {
        w.shutdown().await;
    }
    second_node.close().await;
}

/// Shutdown commits what was queued, answers every caller, then refuses new messages.
pub async fn shutdown_drains(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;
    // A long window: without the drain, these would sit waiting for more company.
    let writer = MessageWriter::spawn(
        s.clone(),
        WriterConfig {
            max_batch: 1000,
            max_wait: Duration::from_secs(30),
            queue_depth: 1000,
        },
    );

    const IN_FLIGHT: usize = 200;
    let mut tasks = Vec::new();
    for i in 0..IN_FLIGHT {
        let writer = writer.clone();
        let msg = data::new_message(ch.id, anna.id, &format!("in flight {i}"));
        tasks.push(tokio::spawn(async move { writer.commit(msg).await }));
    }
    // Every caller is waiting on the writer, which sits in its 30-second window.
    tokio::time::timeout(Duration::from_secs(10), async {
        while writer.pending() < IN_FLIGHT {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("all messages reach the writer");
    writer.shutdown().await;

    for task in tasks {
        assert!(matches!(task.await.unwrap(), Ok(Committed::New(_))));
    }
    assert_eq!(writer.pending(), 0);
    let stored = s.messages_after(ch.id, 0, 1000).await.unwrap();
    assert_eq!(
        stored.len(),
        IN_FLIGHT,
        "in-flight writes finished before shutdown returned"
    );

    let late = writer
        .commit(data::new_message(ch.id, anna.id, "too late"))
        .await;
    assert!(matches!(late, Err(StoreError::Database(_))));
    // Shutting down again (from any clone) returns at once.
    writer.clone().shutdown().await;
}

/// A batch the database refuses fails for every caller in it: nothing is acknowledged.
pub async fn batch_failure_reaches_every_caller(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;
    let writer = MessageWriter::spawn(s.clone(), WriterConfig::default());
    assert!(matches!(
        writer
            .commit(data::new_message(ch.id, anna.id, "before"))
            .await,
        Ok(Committed::New(_))
    ));

    // The database goes away under the writer.
    s.close().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let writer = writer.clone();
        let msg = data::new_message(ch.id, anna.id, &format!("doomed {i}"));
        tasks.push(tokio::spawn(async move { writer.commit(msg).await }));
    }
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Err(StoreError::Database(_))));
    }
    writer.shutdown().await;
}
