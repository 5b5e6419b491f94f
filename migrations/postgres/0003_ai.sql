-- The AI hub, PostgreSQL flavour. Same tables and rules as migrations/sqlite/0003_ai.sql,
-- native types. Prices and costs are integers in micro-units of the currency (prices per
-- million tokens).

CREATE TABLE ai_assistants (
    id            uuid        NOT NULL PRIMARY KEY,
    org_id        uuid        NOT NULL REFERENCES organizations (id),
    owner_id      uuid        REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    icon          text,
    system_prompt text        NOT NULL DEFAULT '',
    model         text,
    temperature   real,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX ai_assistants_org_owner ON ai_assistants (org_id, owner_id, name);

CREATE TABLE ai_conversations (
    id            uuid        NOT NULL PRIMARY KEY,
    org_id        uuid        NOT NULL REFERENCES organizations (id),
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id    uuid        REFERENCES channels (id) ON DELETE CASCADE,
    assistant_id  uuid        REFERENCES ai_assistants (id) ON DELETE SET NULL,
    title         text,
    model         text,
    temperature   real,
    system_prompt text,
    last_seq      bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX ai_conversations_user ON ai_conversations (org_id, user_id, updated_at DESC, id);
CREATE INDEX ai_conversations_channel ON ai_conversations (channel_id) WHERE channel_id IS NOT NULL;

CREATE TABLE ai_messages (
    id              uuid        NOT NULL PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
    seq             bigint      NOT NULL,
    role            text        NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         text        NOT NULL,
    author_id       uuid,
    model           text,
    stream_id       uuid,
    status          text        NOT NULL CHECK (status IN ('complete', 'partial')),
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX ai_messages_conversation_seq ON ai_messages (conversation_id, seq);

CREATE TABLE ai_prompt_templates (
    id          uuid        NOT NULL PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    owner_id    uuid        REFERENCES users (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX ai_prompt_templates_org_owner ON ai_prompt_templates (org_id, owner_id, name);

CREATE TABLE ai_providers (
    name        text        NOT NULL PRIMARY KEY,
    kind        text        NOT NULL,
    base_url    text,
    api_version text,
    key_cipher  bytea,
    key_hint    text,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE ai_models (
    id                         uuid        NOT NULL PRIMARY KEY,
    name                       text        NOT NULL,
    display_name               text        NOT NULL,
    provider                   text        NOT NULL,
    model_id                   text        NOT NULL,
    deployment                 text,
    enabled                    boolean     NOT NULL DEFAULT true,
    is_default                 boolean     NOT NULL DEFAULT false,
    supports_temperature       boolean     NOT NULL DEFAULT true,
    uses_max_completion_tokens boolean     NOT NULL DEFAULT false,
    max_tokens                 bigint,
    -- JSON array of model names
    fallback                   text        NOT NULL DEFAULT '[]',
    input_price                bigint      NOT NULL DEFAULT 0,
    output_price               bigint      NOT NULL DEFAULT 0,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);
CREATE UNIQUE INDEX ai_models_name_key ON ai_models (name);
CREATE UNIQUE INDEX ai_models_one_default ON ai_models (is_default) WHERE is_default;

CREATE TABLE ai_usage (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organizations (id),
    user_id         uuid        NOT NULL,
    conversation_id uuid,
    stream_id       uuid,
    model           text        NOT NULL,
    provider        text        NOT NULL,
    purpose         text        NOT NULL CHECK (purpose IN ('chat', 'title', 'test')),
    outcome         text        NOT NULL CHECK (outcome IN ('completed', 'cancelled', 'failed')),
    streamed        boolean     NOT NULL,
    input_tokens    bigint      NOT NULL,
    output_tokens   bigint      NOT NULL,
    cost_micros     bigint      NOT NULL,
    error_code      text,
    at              timestamptz NOT NULL
);
CREATE INDEX ai_usage_org_at ON ai_usage (org_id, at);
CREATE INDEX ai_usage_user_at ON ai_usage (user_id, at);

CREATE TABLE ai_budgets (
    id          uuid        NOT NULL PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    user_id     uuid        REFERENCES users (id) ON DELETE CASCADE,
    subject     uuid        NOT NULL,
    metric      text        NOT NULL CHECK (metric IN ('tokens', 'cost')),
    limit_value bigint      NOT NULL CHECK (limit_value >= 0),
    period      text        NOT NULL CHECK (period IN ('day', 'week', 'month')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX ai_budgets_subject_metric ON ai_budgets (org_id, subject, metric);
