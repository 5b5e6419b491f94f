-- Atrium schema, PostgreSQL flavour. Same tables and rules as migrations/sqlite, native types.
--
-- `*_key` columns hold the lower-cased form of a case-insensitive unique value; the store fills
-- them (Rust's Unicode lower-casing) so SQLite and PostgreSQL agree on what clashes. Nothing here
-- names a schema: tests run each suite in its own schema through `search_path`.

CREATE TABLE organizations (
    id         uuid        NOT NULL PRIMARY KEY,
    slug       text        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE users (
    id            uuid        NOT NULL PRIMARY KEY,
    org_id        uuid        NOT NULL REFERENCES organizations (id),
    username      text        NOT NULL,
    username_key  text        NOT NULL,
    email         text        NOT NULL,
    email_key     text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'moderator', 'user', 'guest')),
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);
CREATE UNIQUE INDEX users_email_key ON users (email_key);
CREATE INDEX users_org_created ON users (org_id, created_at, id);
CREATE INDEX users_org_username ON users (org_id, username_key);

CREATE TABLE refresh_tokens (
    token_hash text        NOT NULL PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked    boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE settings (
    key   text NOT NULL PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE channels (
    id         uuid        NOT NULL PRIMARY KEY,
    org_id     uuid        NOT NULL REFERENCES organizations (id),
    name       text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('group', 'project', 'org', 'direct')),
    created_by uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    -- highest committed seq; the group-commit writer advances it under a row lock
    last_seq   bigint      NOT NULL DEFAULT 0
);
CREATE INDEX channels_org_kind ON channels (org_id, kind);

CREATE TABLE channel_members (
    channel_id    uuid        NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          text        NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
    last_read_seq bigint      NOT NULL DEFAULT 0,
    joined_at     timestamptz NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);

CREATE TABLE messages (
    id         uuid        NOT NULL PRIMARY KEY,
    channel_id uuid        NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    sender_id  uuid        NOT NULL REFERENCES users (id),
    body       text        NOT NULL,
    reply_to   uuid,
    mentions   uuid[]      NOT NULL DEFAULT '{}',
    nonce      text,
    created_at timestamptz NOT NULL,
    edited_at  timestamptz,
    deleted    boolean     NOT NULL DEFAULT false,
    -- 'simple': no stemming and no stop words, so German and English words both match as typed
    search     tsvector    GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
);
CREATE UNIQUE INDEX messages_channel_seq_key ON messages (channel_id, seq);
CREATE UNIQUE INDEX messages_sender_nonce_key ON messages (sender_id, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX messages_search ON messages USING gin (search);

CREATE TABLE message_edits (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    editor_id     uuid        NOT NULL,
    previous_body text        NOT NULL,
    edited_at     timestamptz NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

CREATE TABLE reactions (
    message_id uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE audit_log (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id   uuid        NOT NULL REFERENCES organizations (id),
    actor_id uuid,
    action   text        NOT NULL,
    target   text,
    detail   jsonb       NOT NULL DEFAULT '{}',
    at       timestamptz NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at DESC, id DESC);
CREATE INDEX audit_log_org_actor_at ON audit_log (org_id, actor_id, at DESC, id DESC);
