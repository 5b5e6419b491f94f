-- Support tickets (issue #6), PostgreSQL flavour. Same tables and rules as migrations/sqlite,
-- native types (uuid, timestamptz, boolean, jsonb).

CREATE TABLE tickets (
    id                uuid        NOT NULL PRIMARY KEY,
    org_id            uuid        NOT NULL REFERENCES organizations (id),
    number            bigint      NOT NULL CHECK (number >= 1),
    type              text        NOT NULL CHECK (type IN ('support', 'bug', 'feature_request', 'question', 'feedback')),
    priority          text        NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    priority_rank     smallint    NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),
    status            text        NOT NULL CHECK (status IN ('new', 'open', 'in_progress', 'waiting_for_user', 'resolved', 'closed')),
    subject           text        NOT NULL,
    description       text        NOT NULL,
    reporter_id       uuid        NOT NULL REFERENCES users (id),
    assignee_id       uuid        REFERENCES users (id),
    tags              jsonb       NOT NULL DEFAULT '[]',
    metadata          jsonb       NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    first_response_at timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    sla_next_deadline timestamptz,
    sla_breached      boolean     NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX tickets_org_number_key ON tickets (org_id, number);
CREATE INDEX tickets_org_queue ON tickets (org_id, priority_rank DESC, created_at, id);
CREATE INDEX tickets_org_reporter ON tickets (org_id, reporter_id);
CREATE INDEX tickets_org_assignee_status ON tickets (org_id, assignee_id, status);
CREATE INDEX tickets_sla_next_deadline ON tickets (sla_next_deadline) WHERE sla_next_deadline IS NOT NULL;

CREATE TABLE ticket_tags (
    ticket_id uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    tag       text NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id);

CREATE TABLE ticket_counters (
    org_id             uuid   NOT NULL PRIMARY KEY REFERENCES organizations (id),
    last_number        bigint NOT NULL,
    last_auto_assignee uuid
);

CREATE TABLE ticket_comments (
    id         uuid        NOT NULL PRIMARY KEY,
    ticket_id  uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  uuid        REFERENCES users (id),
    body       text        NOT NULL,
    internal   boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at, id);

CREATE TABLE ticket_activity (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    org_id    uuid        NOT NULL REFERENCES organizations (id),
    actor_id  uuid,
    action    text        NOT NULL,
    before    jsonb       NOT NULL DEFAULT 'null',
    after     jsonb       NOT NULL DEFAULT 'null',
    at        timestamptz NOT NULL
);
CREATE INDEX ticket_activity_ticket ON ticket_activity (ticket_id, id);

CREATE TABLE ticket_sla_breaches (
    ticket_id   uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    target      text        NOT NULL CHECK (target IN ('response', 'resolution')),
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    deadline    timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, target)
);

CREATE TABLE ticket_surveys (
    ticket_id   uuid        NOT NULL PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    reporter_id uuid        NOT NULL REFERENCES users (id),
    rating      smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     text,
    created_at  timestamptz NOT NULL
);

CREATE TABLE ticket_settings (
    org_id     uuid        NOT NULL PRIMARY KEY REFERENCES organizations (id),
    settings   jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE notifications (
    id         uuid        NOT NULL PRIMARY KEY,
    org_id     uuid        NOT NULL REFERENCES organizations (id),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    payload    jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX notifications_user_created ON notifications (user_id, created_at DESC, id);
