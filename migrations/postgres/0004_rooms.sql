-- Virtual rooms (issue #5). Same table and rules as migrations/sqlite/0004_rooms.sql.

CREATE TABLE rooms (
    id            uuid        NOT NULL PRIMARY KEY,
    org_id        uuid        NOT NULL REFERENCES organizations (id),
    name          text        NOT NULL,
    name_key      text        NOT NULL,
    template      text        NOT NULL,
    template_data jsonb,
    channel_id    uuid        REFERENCES channels (id) ON DELETE SET NULL,
    capacity      integer     NOT NULL CHECK (capacity > 0),
    created_by    uuid        NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX rooms_org_name_key ON rooms (org_id, name_key);
CREATE INDEX rooms_org_created ON rooms (org_id, created_at, id);
