-- 0011: the event log keeps its hashes as their 32 bytes, not as 64 hexadecimal characters.
-- An event's hash and the hash it is chained to were 128 of the ~260 bytes of its row: a
-- closed incident's 66 events kept 8.4 KB of hexadecimal. The chain is defined as before
-- (crisiscomm/store/chain.py hashes the hexadecimal text of the previous hash); the store
-- turns them into bytes as it writes an event and back as it reads one (events.py). The
-- incident's `last_hash` and the register's log keep their text.
-- On SQLite, whose columns cannot change type, the table is rebuilt (in this migration's one
-- transaction) with its append-only triggers (0003); `crisiscomm_unhex` is the store's own
-- SQL function for the bytes of a hexadecimal text (SQLite's `unhex` came in 3.41). The
-- lines between `-- only sqlite` / `-- only postgresql` and `-- end only` are for that
-- database alone (crisiscomm/store/dialect.py). A database whose schema_version was set back
-- runs it again harmlessly: hashes already bytes are kept as they are.

-- only sqlite
CREATE TABLE events_new (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    type         TEXT NOT NULL,
    data         TEXT NOT NULL,
    prev_hash    BLOB NOT NULL,
    hash         BLOB NOT NULL,
    PRIMARY KEY (incident_id, seq)
) WITHOUT ROWID;
INSERT INTO events_new (incident_id, seq, at, actor, type, data, prev_hash, hash)
    SELECT incident_id, seq, at, actor, type, data,
           CASE typeof(prev_hash) WHEN 'blob' THEN prev_hash ELSE crisiscomm_unhex(prev_hash) END,
           CASE typeof(hash) WHEN 'blob' THEN hash ELSE crisiscomm_unhex(hash) END
    FROM events ORDER BY incident_id, seq;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE of events is refused'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE of events is refused'); END;
-- end only

-- only postgresql
DO $$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'events'
          AND column_name = 'hash') = 'text' THEN
        ALTER TABLE events
            ALTER COLUMN prev_hash TYPE bytea USING decode(prev_hash, 'hex'),
            ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex');
    END IF;
END
$$;
-- end only
