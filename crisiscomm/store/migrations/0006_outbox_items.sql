-- 0006: outbox rows of the register. A row now belongs to an incident (its channel from the
-- playbook the incident pinned) or to a register item (its channel from the office's
-- `channels`), never both; the rows incidents queued stay as they were.

-- only sqlite
CREATE TABLE outbox_new (
    id               {serial_primary_key},
    incident_id      TEXT REFERENCES incidents (id),
    idempotency_key  TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    last_error       TEXT,
    item_id          TEXT REFERENCES inbox_items (id),
    CHECK ((incident_id IS NULL) <> (item_id IS NULL))
);
INSERT INTO outbox_new (id, incident_id, idempotency_key, channel, recipient, payload, status,
                        attempts, next_attempt_at, created_at, sent_at, last_error)
    SELECT id, incident_id, idempotency_key, channel, recipient, payload, status,
           attempts, next_attempt_at, created_at, sent_at, last_error
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_incident ON outbox (incident_id);
-- end only

-- only postgresql
ALTER TABLE outbox ALTER COLUMN incident_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN item_id TEXT REFERENCES inbox_items (id);
ALTER TABLE outbox ADD CONSTRAINT outbox_one_owner
    CHECK ((incident_id IS NULL) <> (item_id IS NULL));
-- end only

CREATE INDEX outbox_item ON outbox (item_id) WHERE item_id IS NOT NULL;
