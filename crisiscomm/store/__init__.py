"""The store: incidents, hash-chained events, timers and outbox in SQLite or PostgreSQL.

    with open_store(None) as store:          # $CRISISCOMM_DB, else default_db_path()
        incident = store.get_incident("INC-2026-0042")

Importing this package is cheap (no psycopg until a `postgresql://` target is opened).
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
