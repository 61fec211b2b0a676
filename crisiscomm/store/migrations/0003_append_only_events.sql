-- 0003: the event log is append-only in the database itself. crisiscomm only ever inserts
-- events; an UPDATE or DELETE of the events table (and on PostgreSQL a TRUNCATE) is refused
-- by a trigger, whoever runs it. The owner of the tables can still drop or disable the
-- triggers: officers' PostgreSQL logins get crisiscomm_officer, which does not own them
-- (`crisiscomm db grant`, crisiscomm/store/officer_role.sql), and `audit verify` names an
-- event changed by whoever could.
-- The lines between `-- only sqlite` / `-- only postgresql` and `-- end only` are for that
-- database alone (crisiscomm/store/dialect.py).

-- only sqlite
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE of events is refused'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE of events is refused'); END;
-- end only

-- only postgresql
CREATE FUNCTION crisiscomm_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'the event log is append-only: ' || TG_OP || ' of events is refused';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION crisiscomm_events_append_only();
-- end only
