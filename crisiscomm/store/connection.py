"""The connection and its transactions: the base every table family of the Store builds on.

`StoreConnection` holds one DB-API connection and its dialect and runs SQL through them:
`_execute` and friends hand the dialect each statement (psycopg wants `%(name)s` for
`:name`), `_driver_errors` turns a driver's exception into a StoreError a person can act on,
and `_transaction` is BEGIN ... COMMIT, or a savepoint inside one. The table families
(incidents.py, events.py, timers.py, outbox.py) subclass it; store.py combines them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from crisiscomm.errors import CrisisCommError, NotFoundError, StoreError
from crisiscomm.i18n import _
from crisiscomm.store.dialect import Connection, Dialect
from crisiscomm.store.packing import DICTIONARY_SIZE, pack, unpack

__all__ = ["StoreConnection", "no_incident"]

# parts of incidents' records kept parsed by their stored text (`_parsed_record`): enough for
# one incident's row data, statements record and statement versions, and a few more
RECORDS_KEPT = 16
DICTIONARY_OF = "SELECT id, content FROM pack_dictionaries WHERE scope = :scope"
DICTIONARY = "SELECT content FROM pack_dictionaries WHERE id = :id"
NEW_DICTIONARY = """
    INSERT INTO pack_dictionaries (scope, content) VALUES (:scope, :content) RETURNING id
"""


class StoreConnection:
    """One open database connection and the transactions on it; see store.Store."""

    def __init__(self, connection: Connection, dialect: Dialect) -> None:
        self._connection: Connection | None = connection
        self._dialect = dialect
        self.where = dialect.where  # the file or URL (without password), for messages
        self.backend = dialect.name  # "sqlite" or "postgresql"
        self.schema_version = 0
        self._depth = 0  # open transaction (1) and savepoints inside it
        # Threads of one process writing to one SQLite file can share a lock: they then wait
        # for each other on it, woken at once, instead of in SQLite's busy handler, which
        # polls with sleeps of 1 ms and more. Other processes still meet the busy timeout.
        self.writer_lock: AbstractContextManager[Any] = nullcontext()
        self._checked = False  # the quick check before this connection's first write
        path = getattr(dialect, "path", None)
        self._file_identity = None if path is None else _file_identity(path)
        self._records: dict[str | bytes, Any] = {}  # see _parsed_record
        # the packing dictionaries read or made (packing.py), by id and by scope; forgotten
        # when a transaction rolls back, which may have undone the one it made
        self._dictionaries: dict[int, bytes] = {}
        self._scopes: dict[str, tuple[int, bytes]] = {}

    def connection_lost(self) -> bool:
        """Whether this connection can no longer reach its database, so that only a new one
        can: closed by the server (PostgreSQL: a restart, a failover, pg_terminate_backend),
        or its file moved, deleted or replaced (SQLite would go on writing to the old one)."""
        if self._connection is None:
            return True
        path = getattr(self._dialect, "path", None)
        if path is not None:
            return _file_identity(path) != self._file_identity
        try:
            self._connection.execute("SELECT 1")
        except Exception:
            return True
        return False

    @property
    def _conn(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the store is closed")
        return self._connection

    def _execute(self, sql: str, **params: Any) -> Any:
        if params:
            return self._conn.execute(self._dialect.sql(sql), params)
        return self._conn.execute(self._dialect.sql(sql))

    def _executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._conn.cursor().executemany(self._dialect.sql(sql), rows)

    def _record(self, text: str, scope: str) -> str | bytes:
        """A part of an incident's record (JSON) as this database keeps it (packing.py):
        compressed against the dictionary of `scope` (the part's kind and playbook), made
        from this text if there is none yet. Inside the caller's transaction."""
        if not self._dialect.packs_records:
            return text
        return pack(text, self._dictionary_of(scope, text))

    def _dictionary_of(self, scope: str, text: str) -> tuple[int, bytes]:
        """The packing dictionary of `scope` (its id and content); made from `text` if the
        database has none: the first record of its kind stands for those after it."""
        known = self._scopes.get(scope)
        if known is None:
            record = self._fetchone_or_none(DICTIONARY_OF, scope=scope)
            if record is None:
                content = text.encode("utf-8")[-DICTIONARY_SIZE:]
                record = (self._fetchone(NEW_DICTIONARY, scope=scope, content=content)[0], content)
            known = self._scopes[scope] = (int(record[0]), bytes(record[1]))
            self._dictionaries[known[0]] = known[1]
        return known

    def _dictionary(self, number: int) -> bytes:
        """The content of packing dictionary `number` (read once per connection)."""
        content = self._dictionaries.get(number)
        if content is None:
            record = self._fetchone_or_none(DICTIONARY, id=number)
            if record is None:
                raise StoreError(
                    _("a stored record refers to packing dictionary {id}, which is missing").format(
                        id=number
                    ),
                    hint=_("the database was changed outside crisiscomm; restore it from a backup"),
                )
            content = self._dictionaries[number] = bytes(record[0])
        return content

    def _unpacked(self, value: str | bytes) -> str:
        """The JSON text of a part of an incident's record as stored (packed or not)."""
        return unpack(value, self._dictionary)

    def _parsed_record(self, value: str | bytes) -> Any:
        """A part of an incident's record parsed from its JSON as stored (packed or not).

        Every command reads back the record the command before it wrote, and parsing it
        again was the largest part of the store's Python: the parts last read or written
        are kept by their stored text, which is their whole content, so a kept part is
        never stale. The same text gives the same object: readers copy what they change
        and never change it in place (the engine's steps never do: test_engine).
        """
        parsed = self._records.get(value)
        if parsed is None:
            parsed = json.loads(self._unpacked(value))
            self._remember_record(value, parsed)
        return parsed

    def _parsed(self, value: str | bytes) -> Any:
        """A part of an incident's record parsed, for reads of many incidents (not kept,
        unlike `_parsed_record`)."""
        return json.loads(self._unpacked(value))

    def _remember_record(self, value: str | bytes, parsed: Any) -> None:
        """Keep `parsed` as what the stored `value` reads as (the oldest kept is dropped)."""
        if len(self._records) >= RECORDS_KEPT:
            del self._records[next(iter(self._records))]
        self._records[value] = parsed

    def _after_migration(self, version: int) -> None:
        """Inside a migration's transaction, after its SQL: what SQL alone cannot do.
        Table families that need it override this and call it on (super())."""

    def _fetchone(self, sql: str, **params: Any) -> Any:
        record = self._fetchone_or_none(sql, **params)
        if record is None:
            raise RuntimeError(f"no row from: {sql.strip()}")
        return record

    def _fetchone_or_none(self, sql: str, **params: Any) -> Any:
        return self._execute(sql, **params).fetchone()

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        """A driver's exception becomes a StoreError a person can act on; bugs stay bugs."""
        try:
            yield
        except CrisisCommError:
            raise
        except Exception as error:
            mapped = self._dialect.store_error(error)
            if mapped is None:
                raise
            raise mapped from error

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[None]:
        """BEGIN ... COMMIT, rolled back on any exception, however it ends.

        Inside a `batch` it is a savepoint instead: its failure undoes its own writes only.
        """
        with self._driver_errors():
            if self._depth:
                name = f"crisiscomm_{self._depth}"
                self._execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                    self._execute(f"RELEASE SAVEPOINT {name}")
                except BaseException:
                    self._forget_dictionaries()
                    with suppress(Exception):
                        self._execute(f"ROLLBACK TO SAVEPOINT {name}")
                        self._execute(f"RELEASE SAVEPOINT {name}")
                    raise
                finally:
                    self._depth -= 1
                return
            if write and not self._checked:
                self._refuse_damage()
            with self.writer_lock if write else nullcontext():
                self._execute(self._dialect.begin_write if write else self._dialect.begin_read)
                self._depth = 1
                try:
                    yield
                    if self._dialect.failed_transaction(self._conn):
                        raise StoreError(
                            _("a statement failed inside the transaction; nothing was written"),
                            hint=_("run the command again; if it fails again, report it"),
                        )
                    self._execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
                finally:
                    self._depth = 0

    def _forget_dictionaries(self) -> None:
        """A rollback may undo a packing dictionary this connection made: its id could then
        be given to another, so none read or made is trusted any longer."""
        self._dictionaries.clear()
        self._scopes.clear()

    def _refuse_damage(self) -> None:
        """Before the first write: a damaged page is noticed only when read, and a write
        could land before it is. Read-only commands do not pay for the check."""
        if self._dialect.damage(self._conn):
            raise self._dialect.damaged()
        self._checked = True

    def _rollback(self) -> None:
        self._forget_dictionaries()
        # if the connection is gone, the server (or SQLite, on the next open) rolls back
        with suppress(Exception):
            self._execute("ROLLBACK")


def no_incident(incident_id: str) -> NotFoundError:
    """The error for an incident id the database does not have (any table family)."""
    return NotFoundError(
        _("no incident {id}").format(id=incident_id),
        hint=_("run `crisiscomm list` to see the incidents"),
    )


def _file_identity(path: Path) -> tuple[int, int] | None:
    """The device and inode of a database file, or None when there is no such file."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)
