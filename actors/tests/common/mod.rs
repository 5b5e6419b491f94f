//! A realtime core over a fresh SQLite file, and sessions driven without any transport: requests
//! go in through the `SessionHandle`, frames come out of its outbox and are decoded here.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use atrium_actors::{Next, Realtime, RealtimeConfig, SessionAuth, SessionHandle, SessionStart};
use atrium_core::ids::{ChannelId, OrgId, UserId};
use atrium_core::model::{Channel, ChannelKind, MemberRole, Organization, User};
use atrium_core::protocol::{ClientFrame, FrameCodec, ServerFrame};
use atrium_core::rbac::Role;
use atrium_persistence::open_store;
use atrium_persistence::store::Store;
use atrium_persistence::writer::{MessageWriter, WriterConfig};

/// How long a test waits for any one expected event.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Node {
    pub store: Arc<dyn Store>,
    pub writer: MessageWriter,
    pub realtime: Realtime,
    _dir: tempfile::TempDir,
}

impl Node {
    pub async fn start(config: RealtimeConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("atrium.db").display());
        let store = open_store(&url).await.expect("open store");
        store.migrate().await.expect("migrate");
        let writer = MessageWriter::spawn(store.clone(), WriterConfig::default());
        let realtime = Realtime::start(store.clone(), Arc::new(writer.clone()), config)
            .await
            .expect("start realtime");
        Self {
            store,
            writer,
            realtime,
            _dir: dir,
        }
    }

    pub async fn org(&self, slug: &str) -> Organization {
        let org = Organization {
            id: OrgId::new(),
            slug: slug.to_owned(),
            name: slug.to_owned(),
            created_at: OffsetDateTime::now_utc(),
        };
        self.store.create_org(&org).await.expect("create org");
        org
    }

    pub async fn user(&self, org: OrgId, username: &str) -> User {
        let user = User {
            id: UserId::new(),
            org_id: org,
            username: username.to_owned(),
            email: format!("{username}@example.org"),
            password_hash: String::from("x"),
            role: Role::User,
            active: true,
            created_at: OffsetDateTime::now_utc(),
        };
        self.store.create_user(&user).await.expect("create user");
        user
    }

    /// A group channel created by `owner`, with `members` added as plain members.
    pub async fn channel(&self, org: OrgId, owner: UserId, members: &[UserId]) -> Channel {
        let channel = Channel {
            id: ChannelId::new(),
            org_id: org,
            name: format!("c-{}", ChannelId::new()),
            kind: ChannelKind::Group,
            created_by: owner,
            created_at: OffsetDateTime::now_utc(),
            last_seq: 0,
        };
        self.store
            .create_channel(&channel)
            .await
            .expect("create channel");
        for member in members {
            self.store
                .add_member(channel.id, *member, MemberRole::Member)
                .await
                .expect("add member");
        }
        channel
    }

    /// The usual cast: organization `acme`, users `ann` and `bob`, and a channel of Ann's that
    /// Bob is a member of.
    pub async fn duo(&self) -> Duo {
        let org = self.org("acme").await;
        let ann = self.user(org.id, "ann").await;
        let bob = self.user(org.id, "bob").await;
        let ch = self.channel(org.id, ann.id, &[bob.id]).await;
        Duo { org, ann, bob, ch }
    }

    pub fn connect(&self, user: &User) -> Client {
        self.connect_resuming(user, BTreeMap::new())
    }

    pub fn connect_resuming(&self, user: &User, resume: BTreeMap<ChannelId, i64>) -> Client {
        let handle = self
            .realtime
            .open_session(SessionStart {
                auth: SessionAuth {
                    user: user.id,
                    org: user.org_id,
                    role: user.role,
                    expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
                },
                hello_rid: 0,
                resume,
                client: Some("test".into()),
                heartbeat_ms: 20_000,
            })
            .expect("open session");
        Client {
            handle,
            inbox: VecDeque::new(),
            next_rid: 1,
        }
    }
}

pub struct Duo {
    pub org: Organization,
    pub ann: User,
    pub bob: User,
    pub ch: Channel,
}

/// One session seen from the client side.
pub struct Client {
    pub handle: SessionHandle,
    inbox: VecDeque<ServerFrame>,
    next_rid: u32,
}

impl Client {
    /// Sends a request built from a fresh rid; returns the rid.
    pub fn send(&mut self, build: impl FnOnce(u32) -> ClientFrame) -> u32 {
        let rid = self.next_rid;
        self.next_rid += 1;
        self.handle.request(build(rid)).expect("session open");
        rid
    }

    /// The next frame, waiting up to [`WAIT`].
    pub async fn next(&mut self) -> ServerFrame {
        self.try_next(WAIT)
            .await
            .expect("timed out waiting for a frame")
    }

    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        if let Some(frame) = self.inbox.pop_front() {
            return Some(frame);
        }
        let mut batch = Vec::new();
        let next = tokio::time::timeout(wait, self.handle.outbox().next_batch(&mut batch, 64))
            .await
            .ok()?;
        match next {
            Next::Frames => {
                let codec = FrameCodec::default();
                for bytes in batch {
                    self.inbox
                        .push_back(codec.decode_server(&bytes).expect("server frame decodes"));
                }
                self.inbox.pop_front()
            }
            Next::Close { bye, .. } => {
                let bye = bye?;
                Some(FrameCodec::default().decode_server(&bye).expect("bye"))
            }
        }
    }

    /// Waits for the first frame matching `want`, skipping others.
    pub async fn expect<T>(&mut self, mut want: impl FnMut(&ServerFrame) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self
                .try_next(left)
                .await
                .expect("timed out waiting for the expected frame");
            if let Some(found) = want(&frame) {
                return found;
            }
        }
    }

    /// Waits for the reply to `rid`.
    pub async fn reply(&mut self, rid: u32) -> ServerFrame {
        self.expect(|f| (f.rid() == Some(rid)).then(|| f.clone()))
            .await
    }

    pub async fn welcome(&mut self) {
        self.expect(|f| matches!(f, ServerFrame::Welcome { .. }).then_some(()))
            .await
    }

    /// Subscribes; returns the channel's last seq.
    pub async fn sub(&mut self, ch: ChannelId) -> i64 {
        let rid = self.send(|rid| ClientFrame::Sub { rid, ch });
        match self.reply(rid).await {
            ServerFrame::Ok {
                result: atrium_core::protocol::OkResult::Subscribed(ok),
                ..
            } => ok.last_seq,
            other => panic!("sub failed: {other:?}"),
        }
    }

    /// Sends a message and waits for its `{id, seq}`.
    pub async fn post(&mut self, ch: ChannelId, body: &str) -> (atrium_core::ids::MessageId, i64) {
        let rid = self.send(|rid| ClientFrame::MsgSend {
            rid,
            ch,
            body: body.into(),
            reply_to: None,
            nonce: None,
        });
        match self.reply(rid).await {
            ServerFrame::Ok {
                result: atrium_core::protocol::OkResult::Sent(sent),
                ..
            } => (sent.id, sent.seq),
            other => panic!("send failed: {other:?}"),
        }
    }

    /// Waits for the `msg` push with `seq` in `ch`; returns its body.
    pub async fn msg(&mut self, ch: ChannelId, seq: i64) -> String {
        self.expect(|f| match f {
            ServerFrame::Msg {
                ch: c,
                seq: s,
                body,
                ..
            } if *c == ch && *s == seq => Some(body.clone()),
            _ => None,
        })
        .await
    }

    /// Frames already delivered to the outbox, without waiting.
    pub async fn drain_now(&mut self) -> Vec<ServerFrame> {
        let mut out = Vec::new();
        while let Some(frame) = self.try_next(Duration::ZERO).await {
            out.push(frame);
        }
        out
    }
}
