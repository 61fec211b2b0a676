-- 0009: a closed incident's storage cut to what its record needs.
-- Timers retired (their state was left, or the incident closed, before they fell due) are
-- deleted instead of kept with `retired_at` set: the event log records the change that
-- retired them, and nothing reads them. A claim of a deleted timer finds no row, as a
-- claim of a retired one found `retired_at` set: it still fires nothing (invariant 4).
-- Fired timers stay: `show` and `status` list the escalations that fired.
-- On SQLite the table is rebuilt with AUTOINCREMENT, so that the id of a deleted timer is
-- never given to a new one (a `serve` that saw the old id would take the new timer for it);
-- PostgreSQL's identity column never reuses one. The lines between `-- only sqlite` /
-- `-- only postgresql` and `-- end only` are for that database alone
-- (crisiscomm/store/dialect.py).
-- On SQLite a closed incident's record (incidents.data, incident_statements.data,
-- statement_versions.data) is also kept compressed from now on: by the commit that closes
-- it, and for the incidents closed before, as migration 0010 is applied, which runs after
-- this one in the same transaction and compresses them against its dictionaries
-- (crisiscomm/store/packing.py, IncidentTables._after_migration). PostgreSQL compresses
-- such values itself (TOAST).

-- only sqlite
CREATE TABLE timers_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id      TEXT NOT NULL REFERENCES incidents (id),
    kind             TEXT NOT NULL,
    key              TEXT NOT NULL,
    due_at           TEXT NOT NULL,
    generation       INTEGER NOT NULL,
    fired_at         TEXT,
    retired_at       TEXT,
    late_by_seconds  DOUBLE PRECISION,
    data             TEXT NOT NULL,
    failures         INTEGER NOT NULL DEFAULT 0,
    next_try_at      TEXT,
    UNIQUE (incident_id, generation, key)
);
-- every row first, so the sequence starts after the highest id ever given, retired or not
INSERT INTO timers_new (id, incident_id, kind, key, due_at, generation, fired_at, retired_at,
                        late_by_seconds, data, failures, next_try_at)
    SELECT id, incident_id, kind, key, due_at, generation, fired_at, retired_at,
           late_by_seconds, data, failures, next_try_at
    FROM timers;
DROP TABLE timers;
ALTER TABLE timers_new RENAME TO timers;
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL AND retired_at IS NULL;
-- end only

DELETE FROM timers WHERE retired_at IS NOT NULL;
