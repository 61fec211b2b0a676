-- 0008: a statement's versions, one row each. incident_statements held an incident's whole
-- statements record (every version's texts in every language, ~14 KB), rewritten by every
-- draft, approval and release; now it keeps each statement's approvals, releases and marks,
-- and a command writes only the version it adds (or marks), never the texts it left as they
-- were. A released version is never changed: the outbox refers to it (payload `texts_from`)
-- instead of copying its texts into every channel's row (crisiscomm/store/outbox.py).
-- The lines between `-- only sqlite` / `-- only postgresql` and `-- end only` are for that
-- database alone (crisiscomm/store/dialect.py).

-- (IF NOT EXISTS: a database whose schema_version was set back runs it again harmlessly)
CREATE TABLE IF NOT EXISTS statement_versions (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    statement    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (incident_id, statement, version)
);

-- only sqlite
INSERT INTO statement_versions (incident_id, statement, version, data)
    SELECT s.incident_id, r.key, json_extract(v.value, '$.version'), v.value
    FROM incident_statements AS s, json_each(s.data) AS r, json_each(r.value, '$.versions') AS v;
UPDATE incident_statements SET data = (
    SELECT coalesce(json_group_object(r.key, json_remove(r.value, '$.versions')), '{}')
    FROM json_each(incident_statements.data) AS r
);
-- end only

-- only postgresql
INSERT INTO statement_versions (incident_id, statement, version, data)
    SELECT s.incident_id, r.key, (v.value ->> 'version')::integer, v.value::text
    FROM incident_statements AS s, json_each(s.data::json) AS r,
         json_array_elements(r.value -> 'versions') AS v;
UPDATE incident_statements SET data = coalesce((
    SELECT json_object_agg(r.key, r.value::jsonb - 'versions')::text
    FROM json_each(incident_statements.data::json) AS r
), '{}');
-- end only
