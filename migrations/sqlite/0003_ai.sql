-- The AI hub, SQLite flavour: conversations and their messages, assistants, prompt templates,
-- model configurations, provider accounts with encrypted keys, usage records and budgets.
--
-- Same conventions as 0001: ids are 16-byte UUID blobs, times unix milliseconds, booleans 0/1.
-- Prices and costs are integers in micro-units of the currency (prices per million tokens).

CREATE TABLE ai_assistants (
    id            BLOB    NOT NULL PRIMARY KEY,
    org_id        BLOB    NOT NULL REFERENCES organizations (id),
    -- NULL: a global assistant of the organization (managed by admins)
    owner_id      BLOB    REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    icon          TEXT,
    system_prompt TEXT    NOT NULL DEFAULT '',
    model         TEXT,
    temperature   REAL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX ai_assistants_org_owner ON ai_assistants (org_id, owner_id, name);

CREATE TABLE ai_conversations (
    id            BLOB    NOT NULL PRIMARY KEY,
    org_id        BLOB    NOT NULL REFERENCES organizations (id),
    user_id       BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id    BLOB    REFERENCES channels (id) ON DELETE CASCADE,
    assistant_id  BLOB    REFERENCES ai_assistants (id) ON DELETE SET NULL,
    title         TEXT,
    model         TEXT,
    temperature   REAL,
    system_prompt TEXT,
    -- highest message seq; advanced in the same transaction as each insert
    last_seq      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX ai_conversations_user ON ai_conversations (org_id, user_id, updated_at DESC, id);
CREATE INDEX ai_conversations_channel ON ai_conversations (channel_id) WHERE channel_id IS NOT NULL;

CREATE TABLE ai_messages (
    id              BLOB    NOT NULL PRIMARY KEY,
    conversation_id BLOB    NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT    NOT NULL,
    author_id       BLOB,
    model           TEXT,
    stream_id       BLOB,
    status          TEXT    NOT NULL CHECK (status IN ('complete', 'partial')),
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX ai_messages_conversation_seq ON ai_messages (conversation_id, seq);

CREATE TABLE ai_prompt_templates (
    id          BLOB    NOT NULL PRIMARY KEY,
    org_id      BLOB    NOT NULL REFERENCES organizations (id),
    owner_id    BLOB    REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX ai_prompt_templates_org_owner ON ai_prompt_templates (org_id, owner_id, name);

-- Provider accounts of the node. The key is AES-256-GCM ciphertext (nonce first); key_hint is
-- its last four characters, for a masked listing. Plaintext keys are never stored.
CREATE TABLE ai_providers (
    name        TEXT    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    base_url    TEXT,
    api_version TEXT,
    key_cipher  BLOB,
    key_hint    TEXT,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE ai_models (
    id                         BLOB    NOT NULL PRIMARY KEY,
    name                       TEXT    NOT NULL,
    display_name               TEXT    NOT NULL,
    provider                   TEXT    NOT NULL,
    model_id                   TEXT    NOT NULL,
    deployment                 TEXT,
    enabled                    INTEGER NOT NULL DEFAULT 1,
    is_default                 INTEGER NOT NULL DEFAULT 0,
    supports_temperature       INTEGER NOT NULL DEFAULT 1,
    uses_max_completion_tokens INTEGER NOT NULL DEFAULT 0,
    max_tokens                 INTEGER,
    -- JSON array of model names
    fallback                   TEXT    NOT NULL DEFAULT '[]',
    input_price                INTEGER NOT NULL DEFAULT 0,
    output_price               INTEGER NOT NULL DEFAULT 0,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE UNIQUE INDEX ai_models_name_key ON ai_models (name);
-- at most one default model
CREATE UNIQUE INDEX ai_models_one_default ON ai_models (is_default) WHERE is_default = 1;

CREATE TABLE ai_usage (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    org_id          BLOB    NOT NULL REFERENCES organizations (id),
    user_id         BLOB    NOT NULL,
    conversation_id BLOB,
    stream_id       BLOB,
    model           TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    purpose         TEXT    NOT NULL CHECK (purpose IN ('chat', 'title', 'test')),
    outcome         TEXT    NOT NULL CHECK (outcome IN ('completed', 'cancelled', 'failed')),
    streamed        INTEGER NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost_micros     INTEGER NOT NULL,
    error_code      TEXT,
    at              INTEGER NOT NULL
);
CREATE INDEX ai_usage_org_at ON ai_usage (org_id, at);
CREATE INDEX ai_usage_user_at ON ai_usage (user_id, at);

CREATE TABLE ai_budgets (
    id         BLOB    NOT NULL PRIMARY KEY,
    org_id     BLOB    NOT NULL REFERENCES organizations (id),
    -- NULL: the organization's budget
    user_id    BLOB    REFERENCES users (id) ON DELETE CASCADE,
    -- the user id, or the organization id for an organization budget (NULLs are never equal)
    subject    BLOB    NOT NULL,
    metric     TEXT    NOT NULL CHECK (metric IN ('tokens', 'cost')),
    limit_value INTEGER NOT NULL CHECK (limit_value >= 0),
    period     TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ai_budgets_subject_metric ON ai_budgets (org_id, subject, metric);
