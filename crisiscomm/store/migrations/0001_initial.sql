-- 0001: the first schema.
-- Written in the SQL that SQLite and PostgreSQL share; {serial_primary_key} is filled in by
-- crisiscomm/store/dialect.py, as is {clustered} (SQLite's WITHOUT ROWID). Times are TEXT in UTC as written by clock.format_utc
-- (fixed width, so they sort as text); JSON is TEXT in canonical form.

CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
);

-- compiled playbooks pinned by incidents, by the sha256 of their canonical JSON
CREATE TABLE playbooks (
    content_hash  TEXT PRIMARY KEY,
    playbook_id   TEXT NOT NULL,
    content       TEXT NOT NULL
);

-- incident numbers, one counter per year: name 'incident:2026'
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    playbook_id       TEXT NOT NULL,
    playbook_hash     TEXT NOT NULL REFERENCES playbooks (content_hash),
    title             TEXT NOT NULL,
    severity          TEXT NOT NULL,
    state             TEXT NOT NULL,
    generation        INTEGER NOT NULL,
    state_entered_at  TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    closed_at         TEXT,
    opened_by         TEXT NOT NULL,
    data              TEXT NOT NULL,
    version           INTEGER NOT NULL,
    event_count       INTEGER NOT NULL,
    last_hash         TEXT NOT NULL
);
-- statement drafts, versions, approvals and releases of an incident (the engine's
-- data["statements"]): kept apart from the incident row, which every command rewrites,
-- because the texts in four languages are most of an incident's data
CREATE TABLE incident_statements (
    incident_id  TEXT PRIMARY KEY REFERENCES incidents (id),
    data         TEXT NOT NULL
);

-- newest first; the partial index keeps listing the open ones fast however many are closed
CREATE INDEX incidents_opened ON incidents (opened_at, id);
CREATE INDEX incidents_open ON incidents (opened_at, id) WHERE closed_at IS NULL;

-- append-only, hash-chained (crisiscomm/store/chain.py)
CREATE TABLE events (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    type         TEXT NOT NULL,
    data         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
) {clustered};

-- generation is the state entry a timer belongs to: its fencing token
CREATE TABLE timers (
    id               {serial_primary_key},
    incident_id      TEXT NOT NULL REFERENCES incidents (id),
    kind             TEXT NOT NULL,
    key              TEXT NOT NULL,
    due_at           TEXT NOT NULL,
    generation       INTEGER NOT NULL,
    fired_at         TEXT,
    retired_at       TEXT,
    late_by_seconds  DOUBLE PRECISION,
    data             TEXT NOT NULL,
    UNIQUE (incident_id, generation, key)
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL AND retired_at IS NULL;

CREATE TABLE outbox (
    id               {serial_primary_key},
    incident_id      TEXT NOT NULL REFERENCES incidents (id),
    idempotency_key  TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    last_error       TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_incident ON outbox (incident_id);
