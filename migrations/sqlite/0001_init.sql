-- Atrium schema, SQLite flavour.
--
-- Conventions: ids are 16-byte UUID blobs, times are unix milliseconds (INTEGER), booleans are
-- 0/1. `*_key` columns hold the lower-cased form of a case-insensitive unique value; the store
-- fills them (Rust's Unicode lower-casing) so SQLite and PostgreSQL agree on what clashes.

CREATE TABLE organizations (
    id         BLOB    NOT NULL PRIMARY KEY,
    slug       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE users (
    id            BLOB    NOT NULL PRIMARY KEY,
    org_id        BLOB    NOT NULL REFERENCES organizations (id),
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'moderator', 'user', 'guest')),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);
CREATE UNIQUE INDEX users_email_key ON users (email_key);
-- list_users (org, oldest first) and find_users_by_usernames (org, username_key)
CREATE INDEX users_org_created ON users (org_id, created_at, id);
CREATE INDEX users_org_username ON users (org_id, username_key);

CREATE TABLE refresh_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE channels (
    id         BLOB    NOT NULL PRIMARY KEY,
    org_id     BLOB    NOT NULL REFERENCES organizations (id),
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('group', 'project', 'org', 'direct')),
    created_by BLOB    NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    -- highest committed seq; the group-commit writer advances it in the same transaction
    last_seq   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channels_org_kind ON channels (org_id, kind);

CREATE TABLE channel_members (
    channel_id    BLOB    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id       BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    joined_at     INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
-- "my channels", search and direct-channel lookup go from the user to the channel
CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);

CREATE TABLE messages (
    -- stable integer key for the external-content FTS table (an alias of rowid, so VACUUM keeps it)
    pk         INTEGER NOT NULL PRIMARY KEY,
    id         BLOB    NOT NULL,
    channel_id BLOB    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sender_id  BLOB    NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    reply_to   BLOB,
    -- concatenated 16-byte user ids
    mentions   BLOB    NOT NULL DEFAULT x'',
    nonce      TEXT,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_id_key ON messages (id);
CREATE UNIQUE INDEX messages_channel_seq_key ON messages (channel_id, seq);
CREATE UNIQUE INDEX messages_sender_nonce_key ON messages (sender_id, nonce) WHERE nonce IS NOT NULL;

CREATE TABLE message_edits (
    id            INTEGER NOT NULL PRIMARY KEY,
    message_id    BLOB    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    editor_id     BLOB    NOT NULL,
    previous_body TEXT    NOT NULL,
    edited_at     INTEGER NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

CREATE TABLE reactions (
    message_id BLOB    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    org_id   BLOB    NOT NULL REFERENCES organizations (id),
    actor_id BLOB,
    action   TEXT    NOT NULL,
    target   TEXT,
    detail   TEXT    NOT NULL DEFAULT '{}',
    at       INTEGER NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at DESC, id DESC);
CREATE INDEX audit_log_org_actor_at ON audit_log (org_id, actor_id, at DESC, id DESC);

-- Full-text search over message bodies. External content: the text lives once, in `messages`;
-- the triggers keep the index in step with every insert, edit and (soft or hard) delete.
-- No diacritic folding, so results match PostgreSQL's 'simple' configuration.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.pk, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.pk, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.pk, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.pk, old.body);
END;
