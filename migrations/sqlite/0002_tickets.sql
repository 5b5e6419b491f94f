-- Support tickets (issue #6), SQLite flavour. Same conventions as 0001: 16-byte UUID blobs,
-- unix-millisecond INTEGER times, 0/1 booleans, JSON as TEXT.

CREATE TABLE tickets (
    id                BLOB    NOT NULL PRIMARY KEY,
    org_id            BLOB    NOT NULL REFERENCES organizations (id),
    -- per organization, from 1, never reused (see ticket_counters)
    number            INTEGER NOT NULL CHECK (number >= 1),
    type              TEXT    NOT NULL CHECK (type IN ('support', 'bug', 'feature_request', 'question', 'feedback')),
    priority          TEXT    NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    -- 0 = low … 3 = urgent, so queues sort by priority then age with an index
    priority_rank     INTEGER NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),
    status            TEXT    NOT NULL CHECK (status IN ('new', 'open', 'in_progress', 'waiting_for_user', 'resolved', 'closed')),
    subject           TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    reporter_id       BLOB    NOT NULL REFERENCES users (id),
    assignee_id       BLOB    REFERENCES users (id),
    -- JSON array of tags (ticket_tags holds the same set, for filtering)
    tags              TEXT    NOT NULL DEFAULT '[]',
    metadata          TEXT    NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at       INTEGER,
    closed_at         INTEGER,
    -- what the ticket's SLA timer is armed for; NULL when nothing can breach without an event
    sla_next_deadline INTEGER,
    sla_breached      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tickets_org_number_key ON tickets (org_id, number);
CREATE INDEX tickets_org_queue ON tickets (org_id, priority_rank DESC, created_at, id);
CREATE INDEX tickets_org_reporter ON tickets (org_id, reporter_id);
CREATE INDEX tickets_org_assignee_status ON tickets (org_id, assignee_id, status);
CREATE INDEX tickets_sla_next_deadline ON tickets (sla_next_deadline) WHERE sla_next_deadline IS NOT NULL;

CREATE TABLE ticket_tags (
    ticket_id BLOB NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id);

-- The last number handed out per organization, and who got the last auto-assigned ticket (the
-- round-robin point). Numbers come from an atomic upsert on this row, so two concurrent creates
-- never share one, and rows are never deleted, so a number is never handed out twice.
CREATE TABLE ticket_counters (
    org_id             BLOB    NOT NULL PRIMARY KEY REFERENCES organizations (id),
    last_number        INTEGER NOT NULL,
    last_auto_assignee BLOB
);

CREATE TABLE ticket_comments (
    id         BLOB    NOT NULL PRIMARY KEY,
    ticket_id  BLOB    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  BLOB    REFERENCES users (id),
    body       TEXT    NOT NULL,
    internal   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at, id);

CREATE TABLE ticket_activity (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    ticket_id BLOB    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    org_id    BLOB    NOT NULL REFERENCES organizations (id),
    actor_id  BLOB,
    action    TEXT    NOT NULL,
    before    TEXT    NOT NULL DEFAULT 'null',
    after     TEXT    NOT NULL DEFAULT 'null',
    at        INTEGER NOT NULL
);
CREATE INDEX ticket_activity_ticket ON ticket_activity (ticket_id, id);

CREATE TABLE ticket_sla_breaches (
    ticket_id   BLOB    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    target      TEXT    NOT NULL CHECK (target IN ('response', 'resolution')),
    org_id      BLOB    NOT NULL REFERENCES organizations (id),
    deadline    INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, target)
) WITHOUT ROWID;

CREATE TABLE ticket_surveys (
    ticket_id   BLOB    NOT NULL PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    reporter_id BLOB    NOT NULL REFERENCES users (id),
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE ticket_settings (
    org_id     BLOB    NOT NULL PRIMARY KEY REFERENCES organizations (id),
    -- TicketSettings as JSON: {"sla": {...}, "tag_rules": [...]}
    settings   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Stored notifications (SLA breaches now; delivered by the notifications subsystem later).
CREATE TABLE notifications (
    id         BLOB    NOT NULL PRIMARY KEY,
    org_id     BLOB    NOT NULL REFERENCES organizations (id),
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX notifications_user_created ON notifications (user_id, created_at DESC, id);
