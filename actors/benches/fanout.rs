//! Fan-out inside the engine: one channel, 1,000 in-memory subscribers, frames delivered per
//! second.
//!
//! - `fanout/publish_1000_subscribers`: the hot loop alone. One pre-encoded 100-byte-body `msg`
//!   frame pushed to 1,000 session outboxes, which are then drained as a writer would.
//! - `fanout/channel_actor_1000_subscribers`: the whole path through the actors. A publisher
//!   session sends `msg.send` requests (pipelined); the channel actor commits them (through an
//!   in-memory committer, so the database is not what is measured), orders them by seq, encodes
//!   each once and pushes it to 1,000 subscribed sessions, each drained by its own writer task.
//!
//! `cargo bench -p atrium-actors --bench fanout`

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::OffsetDateTime;

use atrium_actors::channel::subscribers::Subscribers;
use atrium_actors::{
    Delivery, MessageCommitter, Next, OutboxLimits, Realtime, RealtimeConfig, SessionAuth,
    SessionOutbox, SessionStart, wire,
};
use atrium_core::ids::{ChannelId, MessageId, OrgId, SessionId, UserId};
use atrium_core::model::{Channel, ChannelKind, Message, NewMessage, Organization, User};
use atrium_core::protocol::ClientFrame;
use atrium_core::rbac::Role;
use atrium_persistence::open_store;
use atrium_persistence::store::{Committed, StoreResult};

const SUBSCRIBERS: usize = 1_000;
const BODY: &str = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789";

fn sample_message(seq: i64) -> Message {
    Message {
        id: MessageId::new(),
        channel_id: ChannelId::new(),
        seq,
        sender_id: UserId::new(),
        body: BODY.to_owned(),
        reply_to: None,
        mentions: Vec::new(),
        nonce: None,
        created_at: OffsetDateTime::now_utc(),
        edited_at: None,
        deleted: false,
    }
}

fn publish_only(c: &mut Criterion) {
    const BATCH: u64 = 64;
    let outboxes: Vec<Arc<SessionOutbox>> = (0..SUBSCRIBERS)
        .map(|_| Arc::new(SessionOutbox::new(OutboxLimits::default())))
        .collect();
    let mut subscribers = Subscribers::new(0);
    for outbox in &outboxes {
        subscribers.add_live(SessionId::new(), UserId::new(), outbox.clone());
    }
    let frame = wire::encode(&wire::msg_push(&sample_message(1))).expect("encode");
    let mut drained = Vec::with_capacity(BATCH as usize);
    let mut group = c.benchmark_group("fanout");
    group.throughput(Throughput::Elements(BATCH * SUBSCRIBERS as u64));
    group.bench_function("publish_1000_subscribers", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                subscribers.publish(&frame, Delivery::Reliable, None);
            }
            for outbox in &outboxes {
                outbox.take_ready(&mut drained, usize::MAX);
                drained.clear();
            }
        })
    });
    group.finish();
}

/// Assigns seqs in memory: the database is not part of this measurement.
#[derive(Default)]
struct MemoryCommitter {
    seqs: Mutex<HashMap<ChannelId, i64>>,
}

#[async_trait]
impl MessageCommitter for MemoryCommitter {
    async fn commit(&self, message: NewMessage) -> StoreResult<Committed> {
        let seq = {
            let mut seqs = self.seqs.lock().expect("seqs");
            let seq = seqs.entry(message.channel_id).or_insert(0);
            *seq += 1;
            *seq
        };
        Ok(Committed::New(Message {
            id: message.id,
            channel_id: message.channel_id,
            seq,
            sender_id: message.sender_id,
            body: message.body,
            reply_to: message.reply_to,
            mentions: message.mentions,
            nonce: message.nonce,
            created_at: message.created_at,
            edited_at: None,
            deleted: false,
        }))
    }
}

struct ActorBench {
    realtime: Realtime,
    publisher: atrium_actors::SessionHandle,
    channel: ChannelId,
    delivered: Arc<AtomicU64>,
    _subscribers: Vec<atrium_actors::SessionHandle>,
    _dir: tempfile::TempDir,
}

async fn set_up_actor_bench() -> ActorBench {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_store(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .expect("store");
    store.migrate().await.expect("migrate");
    let org = Organization {
        id: OrgId::new(),
        slug: "bench".into(),
        name: "bench".into(),
        created_at: OffsetDateTime::now_utc(),
    };
    store.create_org(&org).await.expect("org");
    let user = User {
        id: UserId::new(),
        org_id: org.id,
        username: "bench".into(),
        email: "bench@example.org".into(),
        password_hash: "x".into(),
        role: Role::User,
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    store.create_user(&user).await.expect("user");
    let channel = Channel {
        id: ChannelId::new(),
        org_id: org.id,
        name: "bench".into(),
        kind: ChannelKind::Group,
        created_by: user.id,
        created_at: OffsetDateTime::now_utc(),
        last_seq: 0,
    };
    store.create_channel(&channel).await.expect("channel");
    let config = RealtimeConfig {
        outbox: OutboxLimits {
            max_frames: 1 << 16,
            max_bytes: 1 << 30,
        },
        ..RealtimeConfig::default()
    };
    let realtime = Realtime::start(store, Arc::new(MemoryCommitter::default()), config)
        .await
        .expect("realtime");
    let open = |realtime: &Realtime| {
        realtime
            .open_session(SessionStart {
                auth: SessionAuth {
                    user: user.id,
                    org: org.id,
                    role: Role::User,
                    expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
                },
                hello_rid: 0,
                resume: Default::default(),
                client: None,
                heartbeat_ms: 0,
            })
            .expect("session")
    };
    let delivered = Arc::new(AtomicU64::new(0));
    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let session = open(&realtime);
        session
            .request(ClientFrame::Sub {
                rid: 1,
                ch: channel.id,
            })
            .expect("sub");
        // The session's writer: drains its outbox and counts `msg` pushes.
        let outbox = session.outbox().clone();
        let delivered = delivered.clone();
        tokio::spawn(async move {
            let mut batch: Vec<Bytes> = Vec::new();
            while let Next::Frames = outbox.next_batch(&mut batch, 256).await {
                let msgs = batch.iter().filter(|f| f.len() > 100).count() as u64;
                delivered.fetch_add(msgs, Ordering::Relaxed);
                batch.clear();
            }
        });
        subscribers.push(session);
    }
    let publisher = open(&realtime);
    // Drain the publisher's own replies.
    let replies = publisher.outbox().clone();
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while let Next::Frames = replies.next_batch(&mut batch, 256).await {
            batch.clear();
        }
    });
    ActorBench {
        realtime,
        publisher,
        channel: channel.id,
        delivered,
        _subscribers: subscribers,
        _dir: dir,
    }
}

fn through_the_actor(c: &mut Criterion) {
    const MESSAGES: u64 = 200;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let bench = runtime.block_on(set_up_actor_bench());
    let mut group = c.benchmark_group("fanout");
    group.throughput(Throughput::Elements(MESSAGES * SUBSCRIBERS as u64));
    group.sample_size(20);
    group.bench_function("channel_actor_1000_subscribers", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                let target =
                    bench.delivered.load(Ordering::Relaxed) + iters * MESSAGES * SUBSCRIBERS as u64;
                for i in 0..iters * MESSAGES {
                    bench
                        .publisher
                        .request(ClientFrame::MsgSend {
                            rid: u32::try_from(i % u64::from(u32::MAX)).unwrap_or(0),
                            ch: bench.channel,
                            body: BODY.to_owned(),
                            reply_to: None,
                            nonce: None,
                        })
                        .expect("send");
                }
                while bench.delivered.load(Ordering::Relaxed) < target {
                    tokio::task::yield_now().await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    runtime.block_on(bench.realtime.shutdown());
}

criterion_group!(benches, publish_only, through_the_actor);
criterion_main!(benches);
