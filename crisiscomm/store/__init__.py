"""The store: incidents, hash-chained events, timers and outbox in SQLite or PostgreSQL.

    with open_store(None) as store:          # $CRISISCOMM_DB, else default_db_path()
        incident = store.get_incident("INC-2026-0042")

Importing this package is cheap (no psycopg until a `postgresql://` target is opened).

    store.py       Store (the table families combined), its lifecycle and migrations; open_store
    connection.py  the connection, transactions and driver errors every family runs on
    incidents.py   incident rows, statements, pinned playbooks; the one write of a change
    events.py      the hash-chained event log; verify_chain
    timers.py      timers: reads, claims exactly once, TimerAlreadyFired
    outbox.py      the outbox: what an incident queued, and delivery (take, mark, re-queue)
    inbox.py       the register's items, their chains, personal data and timers
    inbox_rows.py  the register's rows (InboxItem, PersonRecord), built on first use
    search.py      the register's full-text index (FTS5 / tsvector) and its word folding
    privacy.py     the register's personal data: finding a person's records, erasing them
    reports.py     a period's incidents and their KPI events, for period reports
    chain.py       the event hash, without SQL
    dialect.py     what differs between SQLite and PostgreSQL
    rows.py        the rows read and written: frozen dataclasses
    migrations/    the numbered schema changes, applied by Store.migrate
"""

from __future__ import annotations

from crisiscomm.store.rows import (
    ChainProblem,
    EventRow,
    IncidentRow,
    NewEvent,
    NewTimer,
    OutboxMessage,
    OutboxRow,
    TimerRow,
)
from crisiscomm.store.store import Store, TimerAlreadyFired, default_db_path, open_store

__all__ = [
    "ChainProblem",
    "EventRow",
    "IncidentRow",
    "NewEvent",
    "NewTimer",
    "OutboxMessage",
    "OutboxRow",
    "Store",
    "TimerAlreadyFired",
    "TimerRow",
    "default_db_path",
    "open_store",
]
