-- 0004: the register (`crisiscomm inbox`): media queries, questions, appeals and posts.
-- An item keeps its own hash chain, computed as an incident's (crisiscomm/store/chain.py),
-- in `inbox_events`, append-only like `events` (whose rows must name an incident); its
-- deadline and reminder timers are `inbox_timers`, claimed exactly once like `timers`.
-- Personal data (a citizen's name and contacts) lives apart in `inbox_people`: the log
-- holds its reference and a hash keyed by the row's own key, so erasing the row leaves the
-- chain whole and the hash unlinkable.

CREATE TABLE inbox_items (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    channel       TEXT NOT NULL,
    source        TEXT NOT NULL,
    language      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    text          TEXT NOT NULL,
    assignee      TEXT,
    answer        TEXT,
    external_id   TEXT UNIQUE,
    due_at        TEXT,
    extended      INTEGER NOT NULL,
    reach         INTEGER,
    closed_at     TEXT,
    data          TEXT NOT NULL,
    generation    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    event_count   INTEGER NOT NULL,
    last_hash     TEXT NOT NULL
);
CREATE INDEX inbox_items_received ON inbox_items (received_at, id);
CREATE INDEX inbox_items_due ON inbox_items (due_at) WHERE closed_at IS NULL;

CREATE TABLE inbox_links (
    item_id      TEXT NOT NULL REFERENCES inbox_items (id),
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (item_id, incident_id)
) {clustered};
CREATE INDEX inbox_links_incident ON inbox_links (incident_id);

CREATE TABLE inbox_people (
    ref          TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL REFERENCES inbox_items (id),
    name         TEXT,
    contact      TEXT,
    hash_key     TEXT,
    erased_at    TEXT
);
CREATE INDEX inbox_people_item ON inbox_people (item_id);

CREATE TABLE inbox_events (
    item_id      TEXT NOT NULL REFERENCES inbox_items (id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    type         TEXT NOT NULL,
    data         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (item_id, seq)
) {clustered};

CREATE TABLE inbox_timers (
    id               {serial_primary_key},
    item_id          TEXT NOT NULL REFERENCES inbox_items (id),
    kind             TEXT NOT NULL,
    key              TEXT NOT NULL,
    due_at           TEXT NOT NULL,
    generation       INTEGER NOT NULL,
    fired_at         TEXT,
    retired_at       TEXT,
    late_by_seconds  DOUBLE PRECISION,
    data             TEXT NOT NULL,
    UNIQUE (item_id, generation, key)
);
CREATE INDEX inbox_timers_due ON inbox_timers (due_at) WHERE fired_at IS NULL AND retired_at IS NULL;

-- only sqlite
CREATE TRIGGER inbox_events_append_only_update BEFORE UPDATE ON inbox_events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE of inbox_events is refused'); END;
CREATE TRIGGER inbox_events_append_only_delete BEFORE DELETE ON inbox_events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE of inbox_events is refused'); END;
-- end only

-- only postgresql
CREATE TRIGGER inbox_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON inbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION crisiscomm_events_append_only();
-- end only
