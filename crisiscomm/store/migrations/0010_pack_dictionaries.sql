-- 0010: a closed incident's record compressed against dictionaries (crisiscomm/store/packing.py).
-- The incidents of one playbook say much the same: a statement version compressed alone
-- took 2.4 KB, against the same statement of the first incident of its playbook that closed
-- it takes about 0.2 KB. A dictionary is made once per scope (a part's kind and playbook:
-- "incident:flood", "statements:flood", "version:holding:flood") and never changed or
-- deleted: every record packed against it names its id. On SQLite only, where records are
-- compressed; the records of incidents closed before are packed again against their
-- dictionaries as this migration is applied (IncidentTables._after_migration).
-- The lines between `-- only sqlite` and `-- end only` are for that database alone
-- (crisiscomm/store/dialect.py). (IF NOT EXISTS: a database whose schema_version was set
-- back runs it again harmlessly.)

-- only sqlite
CREATE TABLE IF NOT EXISTS pack_dictionaries (
    id       INTEGER PRIMARY KEY,
    scope    TEXT NOT NULL UNIQUE,
    content  BLOB NOT NULL
);
-- end only
