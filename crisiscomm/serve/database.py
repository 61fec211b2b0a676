"""Each `serve` thread's connection to the database, opened again after it was lost.

A connection closed by the server (a PostgreSQL restart, a failover, `pg_terminate_backend`)
stays closed: psycopg fails every later call on it. An SQLite file moved away or replaced
leaves the old connection writing to a file nobody reads. So after a failure a thread asks
`Database.failed` whether its connection is lost; if so, every thread opens a new one
(`store`), at once the first time, then after 0.1 s, 0.2 s ... up to RECONNECT_CAP while the
database stays away. A connection that cannot be opened, once the database was reached, is a
loss too: a thread's first connection (serve's threads each open theirs when they first need
it) can be the one the server closes, or the only one to meet a database already gone. The
loss is logged once and the return once, however many calls fail in between; `down_for`
tells how long it has been away, for `serve` to give up (and exit non-zero, so that its
supervisor restarts it) past its limit.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager, suppress
from typing import TYPE_CHECKING, Any

from crisiscomm.errors import CrisisCommError, StoreError
from crisiscomm.i18n import _
from crisiscomm.serve.log import log, log_failure

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = [
    "RECONNECT_CAP",
    "RECONNECT_FIRST",
    "Database",
]

RECONNECT_FIRST = 0.1  # seconds before the second attempt to reconnect; doubled after each
RECONNECT_CAP = 5.0


class Database:
    """The database `serve` serves: a connection per thread, reopened after a loss."""

    def __init__(self, target: str | None, writer_lock: AbstractContextManager[Any]) -> None:
        self.target = target
        self.writer_lock = writer_lock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._epoch = 0  # raised when a connection is found lost: every thread reopens
        self._down_since: float | None = None  # monotonic time the loss was noticed
        self._next_attempt = 0.0
        self._pause = RECONNECT_FIRST
        self._opened = False  # once opened, a vanished SQLite file is never made anew
        self.where = "" if target is None else str(target)

    def store(self) -> Store:
        """This thread's connection (SQLite connections belong to the thread that opened
        them); a new one if the last was lost. StoreError while the database is away."""
        current: Store | None = getattr(self._local, "store", None)
        if current is not None and self._local.epoch == self._epoch:
            return current
        if current is not None:
            self._local.store = None
            with suppress(Exception):
                current.close()
        return self._open()

    def _open(self) -> Store:
        from crisiscomm.store import open_store

        with self._lock:
            epoch = self._epoch
            if self._down_since is not None and time.monotonic() < self._next_attempt:
                raise StoreError(
                    _("the database {where} is unreachable; serve keeps trying").format(
                        where=self.where
                    )
                )
        try:
            store = open_store(self.target, create=not self._opened)
        except CrisisCommError as error:
            if not self._opened:
                raise  # at start: a bad --db is the user's to fix, not ours to wait for
            # lost, even if no open connection has noticed yet: said once, and its return
            self._lose(self.where)
            with self._lock:
                self._next_attempt = time.monotonic() + self._pause
                self._pause = min(self._pause * 2, RECONNECT_CAP)
            log_failure(logging.DEBUG, "reconnecting failed", error, event="database.retry")
            raise
        if store.backend == "sqlite":
            store.writer_lock = self.writer_lock
        self._local.store, self._local.epoch = store, epoch
        with self._lock:
            self._opened = True
            self.where = store.where
            if self._down_since is not None:
                away = time.monotonic() - self._down_since
                self._down_since, self._pause = None, RECONNECT_FIRST
                log(
                    logging.WARNING,
                    f"reconnected to the database {store.where} after {away:.1f} s",
                    event="database.reconnected",
                    database=store.where,
                    down_seconds=round(away, 3),
                )
        return store

    def failed(self) -> bool:
        """After this thread's call failed: whether the database is lost (its connection
        closed, its file gone) or was already, so the failure needs no line of its own."""
        current: Store | None = getattr(self._local, "store", None)
        if current is None or self._local.epoch != self._epoch:
            return self._down_since is not None
        if not current.connection_lost():
            return self._down_since is not None
        self.lost(current)
        return True

    def lost(self, store: Store) -> None:
        """The connection of `store` is lost: every thread opens a new one (logged once)."""
        self._lose(store.where)

    def _lose(self, where: str) -> None:
        """The database at `where` is lost (a connection closed, or one that could not be
        opened): every thread opens a new one; the loss is logged once until the return."""
        with self._lock:
            self._epoch += 1
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
            self._next_attempt = 0.0  # the first try at once: most losses are a blip
        log(
            logging.WARNING,
            f"lost the connection to the database {where}; reconnecting",
            event="database.lost",
            database=where,
        )

    def check(self) -> None:
        """Notice a loss no call reports (an SQLite file moved away takes writes silently)."""
        current: Store | None = getattr(self._local, "store", None)
        if current is not None and current.backend == "sqlite" and current.connection_lost():
            self.lost(current)

    def down_for(self) -> float:
        """Seconds since the database was found lost (0 while it is reachable)."""
        down_since = self._down_since
        return 0.0 if down_since is None else time.monotonic() - down_since

    def close(self) -> None:
        """Close this thread's connection."""
        current: Store | None = getattr(self._local, "store", None)
        self._local.store = None
        if current is not None:
            with suppress(Exception):
                current.close()
