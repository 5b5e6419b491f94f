-- Virtual rooms (issue #5). Conventions as in 0001_init.sql.
--
-- `template` names a catalog template (or is 'custom'); `template_data` is JSON: a merge patch
-- over the named template, or the whole custom template. `name_key` is the lower-cased name:
-- room names are unique per organization, case-insensitively.

CREATE TABLE rooms (
    id            BLOB    NOT NULL PRIMARY KEY,
    org_id        BLOB    NOT NULL REFERENCES organizations (id),
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL,
    template      TEXT    NOT NULL,
    template_data TEXT,
    -- the room's text chat; unlinked (not deleted) when the channel goes
    channel_id    BLOB    REFERENCES channels (id) ON DELETE SET NULL,
    capacity      INTEGER NOT NULL CHECK (capacity > 0),
    created_by    BLOB    NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX rooms_org_name_key ON rooms (org_id, name_key);
-- list_rooms: an organization's rooms, oldest first
CREATE INDEX rooms_org_created ON rooms (org_id, created_at, id);
