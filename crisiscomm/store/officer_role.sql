-- The PostgreSQL group role crisiscomm_officer: exactly what an officer's commands (and
-- `serve`) need on crisiscomm's tables, and no more. `crisiscomm db grant LOGIN` runs it as
-- the tables' owner, on the schema crisiscomm uses (the first of the search_path), after
-- bringing the schema up to date; running it again resets the role's rights (after an
-- upgrade: a new table). {login} is filled in by crisiscomm/cli/db.py, quoted.
--
-- The event log stays append-only: no UPDATE, DELETE or TRUNCATE on events, and an officer
-- does not own the tables, so cannot drop or disable their triggers (migration 0003).
-- Nothing here touches other programs' tables in a shared schema.

DO $$
BEGIN
    CREATE ROLE crisiscomm_officer NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
    NULL;
END
$$;

REVOKE ALL ON schema_version, playbooks, counters, incidents, incident_statements, events,
    timers, outbox FROM crisiscomm_officer;
GRANT SELECT ON schema_version, playbooks, counters, incidents, incident_statements, events,
    timers, outbox TO crisiscomm_officer;
GRANT INSERT ON playbooks, counters, incidents, incident_statements, events, timers, outbox
    TO crisiscomm_officer;
-- counters: the next incident number; the rest: an incident's state, statements, timers and
-- notifications change as it runs (and SELECT ... FOR UPDATE needs UPDATE)
GRANT UPDATE ON counters, incidents, incident_statements, timers, outbox TO crisiscomm_officer;
-- a statement's versions (migration 0008): added, and marked as a correction before release
REVOKE ALL ON statement_versions FROM crisiscomm_officer;
GRANT SELECT, INSERT, UPDATE ON statement_versions TO crisiscomm_officer;
-- the register (migration 0004): its events are append-only like the incidents'; personal
-- data may be erased (UPDATE of inbox_people)
REVOKE ALL ON inbox_items, inbox_links, inbox_people, inbox_events, inbox_timers
    FROM crisiscomm_officer;
GRANT SELECT, INSERT ON inbox_items, inbox_links, inbox_people, inbox_events, inbox_timers
    TO crisiscomm_officer;
GRANT UPDATE ON inbox_items, inbox_people, inbox_timers TO crisiscomm_officer;
-- the register's search index (migration 0005): rewritten with its item
REVOKE ALL ON inbox_search FROM crisiscomm_officer;
GRANT SELECT, INSERT, UPDATE ON inbox_search TO crisiscomm_officer;

DO $$
BEGIN
    EXECUTE 'GRANT USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' TO crisiscomm_officer';
    EXECUTE 'GRANT USAGE ON SEQUENCE ' || pg_get_serial_sequence('timers', 'id')
        || ', ' || pg_get_serial_sequence('outbox', 'id')
        || ', ' || pg_get_serial_sequence('inbox_timers', 'id') || ' TO crisiscomm_officer';
END
$$;

GRANT crisiscomm_officer TO {login};
