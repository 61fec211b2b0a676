"""The few places where SQLite and PostgreSQL differ; the rest of the SQL is shared by both.

A dialect connects, names the database for messages (a PostgreSQL URL without its password),
translates the store's `:name` parameters for psycopg, fills the DDL blanks of the
migrations (keeping only their lines meant for it), and turns a driver's exception into a
StoreError a press officer can act on.
psycopg is imported only here, and only for a `postgresql://` target.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from crisiscomm.errors import StoreError, UsageError
from crisiscomm.i18n import _

__all__ = ["Connection", "Dialect", "PostgresDialect", "SQLiteDialect", "dialect_for"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# Every SQLite connection, after WAL: durable commits (FULL syncs the WAL at each commit),
# foreign keys enforced, and reads through a memory map, which saves a read() call and a
# copy per page (about 6% of an officer's command). The map is for reading only; writes
# still go through the WAL and its fsync. Its price: a disk failing while a page is read
# stops the process (SIGBUS) instead of giving an error message; nothing committed is lost.
SQLITE_PRAGMAS = ("synchronous = FULL", "foreign_keys = ON", "mmap_size = 268435456")


class Connection(Protocol):
    """The part of a DB-API connection the store uses (sqlite3 and psycopg alike)."""

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def cursor(self) -> Any: ...

    def close(self) -> None: ...


class Dialect:
    """What differs between the databases; subclasses fill it in."""

    name = ""
    begin_write = "BEGIN"
    begin_read = "BEGIN"
    # SQL returning 1 row, 1 column: how many tables called :name this connection sees
    table_exists = ""
    # SQL returning how many tables exist at all, or "" when foreign tables are expected
    table_count = ""
    lock_incident_of_timer = ""  # SQLite: the write lock covers the whole database
    # SQL that serializes concurrent migrations inside the transaction, or ""
    migration_lock = ""
    # the column type of a generated integer key
    serial_primary_key = ""
    # after CREATE TABLE (...) of tables keyed by their primary key alone
    clustered = ""
    # whether an incident's record is stored compressed (packing.py); PostgreSQL does that
    # itself for large values
    packs_records = False

    def __init__(self, where: str, timeout: float) -> None:
        self.where = where
        self.timeout = timeout

    def connect(self) -> Connection:
        """A connection in autocommit mode: the store issues BEGIN and COMMIT itself."""
        raise NotImplementedError

    def sql(self, text: str) -> str:
        """The statement in this driver's parameter style."""
        return text

    def ddl(self, text: str) -> str:
        """A migration's text with this database's column types filled in, and without
        the lines meant for the other database: those between `-- only sqlite` (or
        `-- only postgresql`) and `-- end only`."""
        kept: list[str] = []
        only = ""
        for line in text.splitlines():
            marker = _ONLY.match(line)
            if marker:
                only = marker.group(1) or ""
                continue
            if not only or only == self.name:
                kept.append(line)
        return (
            "\n".join(kept)
            .replace("{serial_primary_key}", self.serial_primary_key)
            .replace("{clustered}", self.clustered)
        )

    def store_error(self, error: Exception) -> StoreError | None:
        """The StoreError a person should see for a driver error, or None for a bug."""
        raise NotImplementedError

    def failed_transaction(self, connection: Connection) -> bool:
        """Whether a statement failed inside the open transaction, so that COMMIT would
        quietly roll it back (PostgreSQL); SQLite has no such state."""
        return False

    def damage(self, connection: Connection, *, thorough: bool = False) -> list[str]:
        """What the database's own check finds wrong with its pages, [] when they are sound.

        Quick (SQLite's `quick_check`: every page read once, about 1 ms per MB) or
        thorough (`integrity_check`: indexes against their tables too). PostgreSQL has no
        such check without an extension (amcheck) and the rights to install it: [].
        """
        return []

    def damaged(self) -> StoreError:
        """The error for a database whose pages are damaged."""
        return StoreError(
            _("the database {where} is damaged").format(where=self.where),
            hint=_(
                "nothing was changed; keep the file for the record and restore the last "
                "backup, or ask your administrator"
            ),
        )

    def foreign(self) -> StoreError:
        """The error for a database that holds another program's tables."""
        return StoreError(
            _("{where} is a database of another program, not of crisiscomm").format(
                where=self.where
            ),
            hint=_("choose another file with --db or CRISISCOMM_DB"),
        )

    def busy(self) -> StoreError:
        """The error for waiting longer than the timeout for another writer."""
        return StoreError(
            _(
                "the database {where} is busy: another crisiscomm command held it for more "
                "than {seconds:g} seconds"
            ).format(where=self.where, seconds=self.timeout),
            hint=_(
                "nothing was changed; run the command again in a moment. If it stays busy, "
                "look for a crisiscomm command that is stuck"
            ),
        )


class SQLiteDialect(Dialect):
    """One file through the standard library's sqlite3: WAL, synchronous=FULL, foreign keys."""

    name = "sqlite"
    # IMMEDIATE takes the write lock at BEGIN, so waiting happens there (busy timeout), not
    # at the first write of a transaction that has already read.
    begin_write = "BEGIN IMMEDIATE"
    begin_read = "BEGIN"
    table_exists = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"
    table_count = "SELECT count(*) FROM sqlite_master"
    table_names = "SELECT name FROM sqlite_master WHERE type = 'table'"
    serial_primary_key = "INTEGER PRIMARY KEY"  # an alias of the rowid
    # one b-tree instead of a table plus its key's index: one page less per appended event
    clustered = "WITHOUT ROWID"
    packs_records = True

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__(str(path), timeout)
        self.path = path

    def connect(self) -> Connection:
        """Open the database file, which must exist (`create` makes a new one): never
        makes a file, and refuses an empty one rather than turning it into a database."""
        if self.path.is_dir():
            raise StoreError(
                _("{path} is a folder, not a database file").format(path=self.path),
                hint=_("give the path of a file, e.g. {example}").format(
                    example=self.path / "crisiscomm.db"
                ),
            )
        self._refuse_empty()
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(
                f"{self.path.absolute().as_uri()}?mode=rw",
                uri=True,
                timeout=self.timeout,
                isolation_level=None,
            )
            self._refuse_foreign(connection)  # before WAL: that would change the file
            self._use_wal(connection)
            for pragma in SQLITE_PRAGMAS:
                connection.execute(f"PRAGMA {pragma}")
            # for migration 0011 (SQLite's own `unhex` came in 3.41)
            connection.create_function("crisiscomm_unhex", 1, bytes.fromhex, deterministic=True)
        except BaseException as error:
            if connection is not None:
                connection.close()
            if isinstance(error, sqlite3.Error):
                raise self.store_error(error) or StoreError(str(error)) from error
            raise
        return connection

    def create(self) -> None:
        """Make a new database file at the path, unless another process has just made it.

        The file is made whole beside its place (a page in WAL mode) and linked into it in
        one step: no other command ever finds it empty, as it would if sqlite3 made it in
        place, and an empty file is refused as a truncated database.
        """
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                _("cannot create the folder {folder} for the database: {reason}").format(
                    folder=folder, reason=error.strerror or error
                ),
                hint=self._cannot_write_hint(_nearest_existing(folder)),
            ) from error
        import secrets  # only here: making a database; every command imports this module

        draft = folder / f".{self.path.name}.{secrets.token_hex(6)}.new"
        try:
            connection = sqlite3.connect(draft, timeout=self.timeout, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode = WAL")  # writes the first page
            finally:
                connection.close()
            _link_new(draft, self.path)
        except sqlite3.Error as error:
            raise self.store_error(error) or StoreError(str(error)) from error
        except OSError as error:
            raise StoreError(
                _("cannot open or write the database {where}").format(where=self.where),
                hint=self._cannot_write_hint(folder),
            ) from error
        finally:
            for suffix in ("", "-wal", "-shm"):
                draft.with_name(draft.name + suffix).unlink(missing_ok=True)

    def _refuse_empty(self) -> None:
        """Refuse a file of 0 bytes: SQLite would quietly make it a new, empty database.

        Before SQLite opens it: opening an empty file deletes a -wal file beside it, and
        with it the last commits a restore could still use.
        """
        try:
            empty = self.path.stat().st_size == 0
        except OSError:
            return  # opening it says what is wrong
        if empty:
            raise StoreError(
                _("the database file {path} is empty (0 bytes)").format(path=self.path),
                hint=_(
                    "nothing was changed; if it held the office's incidents, it was "
                    "truncated: restore it from the last backup. To start a new database "
                    "there instead, delete the file and run open-incident"
                ),
            )

    def _refuse_foreign(self, connection: sqlite3.Connection) -> None:
        """Refuse an SQLite file holding another program's tables, before touching it."""
        names = {row[0] for row in connection.execute(self.table_names)}
        if names and "schema_version" not in names:
            raise self.foreign()

    def _use_wal(self, connection: sqlite3.Connection) -> None:
        """Switch to WAL (once per file; a no-op after that).

        Two commands opening a new file at once can get SQLITE_BUSY here without SQLite
        calling its busy handler, so this retries until the busy timeout itself.
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.002
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def damage(self, connection: Connection, *, thorough: bool = False) -> list[str]:
        check = "integrity_check" if thorough else "quick_check"
        try:
            return _check_report(connection, f"PRAGMA {check}")
        except sqlite3.DatabaseError as error:
            if not _is_damage(error) or not thorough:
                raise
            stopped = str(error)
        # the damage stopped the check itself: check table by table to say where it is
        report = []
        for (name,) in connection.execute(self.table_names).fetchall():
            quoted = name.replace("'", "''")
            try:
                found = _check_report(connection, f"PRAGMA integrity_check('{quoted}')")
            except sqlite3.DatabaseError as error:
                if not _is_damage(error):
                    raise
                found = [str(error)]
            report += [_("table {name}: {problem}").format(name=name, problem=p) for p in found]
        return report or [stopped]

    def store_error(self, error: Exception) -> StoreError | None:
        if not isinstance(error, sqlite3.Error):
            return None
        code = getattr(error, "sqlite_errorname", "") or ""
        text = str(error)
        if _is_busy(error):
            return self.busy()
        if code.startswith("SQLITE_NOTADB") or "not a database" in text:
            return StoreError(
                _("{where} is not a crisiscomm database").format(where=self.where),
                hint=_(
                    "point --db or CRISISCOMM_DB at the right file, or move this file away "
                    "to start a new database"
                ),
            )
        if _is_damage(error):
            return self.damaged()
        if code.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")):
            return StoreError(
                _("cannot open or write the database {where}").format(where=self.where),
                hint=self._cannot_write_hint(self.path.parent),
            )
        if code.startswith("SQLITE_FULL"):
            return StoreError(
                _("the disk holding the database {where} is full").format(where=self.where),
                hint=_("nothing was changed; free some space and run the command again"),
            )
        if code.startswith("SQLITE_IOERR"):
            return StoreError(
                _("the disk failed while reading or writing the database {where}").format(
                    where=self.where
                ),
                hint=_("nothing was changed; check the disk, then run the command again"),
            )
        return None

    def _cannot_write_hint(self, folder: Path) -> str:
        return _(
            "check that you may write to the folder {folder}, or choose another file with "
            "--db or CRISISCOMM_DB"
        ).format(folder=folder)


class PostgresDialect(Dialect):
    """A shared PostgreSQL database through psycopg 3 (the extra `crisiscomm[postgres]`)."""

    name = "postgresql"
    begin_write = "BEGIN"
    # one snapshot for every statement of a read (verify_chain reads incidents, then events)
    begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    table_exists = (
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = :name"
    )
    # a shared database may hold other programs' tables: no emptiness check
    table_count = ""
    migration_lock = "SELECT pg_advisory_xact_lock(hashtext('crisiscomm:' || current_schema()))"
    # rows are locked incident first, then its timers, by every writer: a timer claimed on
    # its own locks its incident too, or it deadlocks with an officer's command
    lock_incident_of_timer = (
        "SELECT id FROM incidents WHERE id = (SELECT incident_id FROM timers WHERE id = :id)"
        " FOR UPDATE"
    )
    serial_primary_key = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(_without_secrets(url), timeout)
        self.url = url

    def failed_transaction(self, connection: Connection) -> bool:
        from psycopg.pq import TransactionStatus

        status = getattr(getattr(connection, "info", None), "transaction_status", None)
        return bool(status == TransactionStatus.INERROR)

    def connect(self) -> Connection:
        try:
            import psycopg
        except ImportError as error:
            raise StoreError(
                _("{where} is a PostgreSQL database, and the PostgreSQL driver is missing").format(
                    where=self.where
                ),
                hint=_("install crisiscomm[postgres]: pip install 'crisiscomm[postgres]'"),
            ) from error
        try:
            connection = psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self.timeout))
            )
            # waiting for another officer's row lock ends like SQLite's busy timeout
            connection.execute(f"SET lock_timeout = {int(self.timeout * 1000)}")
        except psycopg.Error as error:
            # the driver's own text can quote the URL, password included: never show it
            raise self.store_error(error) or StoreError(
                _("cannot connect to the PostgreSQL database {where}").format(where=self.where),
                hint=_("check CRISISCOMM_DB (postgresql://user@host:port/dbname) and the server"),
            ) from error
        return connection

    def sql(self, text: str) -> str:
        return _pyformat(text)

    def store_error(self, error: Exception) -> StoreError | None:
        import psycopg

        if not isinstance(error, psycopg.Error):
            return None
        state = error.sqlstate or ""
        if state in ("55P03", "57014", "40P01"):  # lock timeout, statement timeout, deadlock
            return self.busy()
        if state.startswith("53"):  # insufficient resources: disk full, out of memory
            return StoreError(
                _("the database server {where} is out of space or memory").format(where=self.where),
                hint=_("nothing was changed; tell the server's administrator"),
            )
        if state in ("42501", "25006", "28000", "28P01"):
            return StoreError(
                _("the database server {where} refused access: {reason}").format(
                    where=self.where, reason=_first_line(error)
                ),
                hint=_("check the user in CRISISCOMM_DB and its rights on the database"),
            )
        if isinstance(error, psycopg.OperationalError):  # cannot connect, connection lost
            return StoreError(
                _("cannot reach the database server {where}: {reason}").format(
                    where=self.where, reason=_first_line(error)
                ),
                hint=_(
                    "nothing was changed; check CRISISCOMM_DB and that the server is running, "
                    "then run the command again"
                ),
            )
        return None


def dialect_for(target: str | Path, timeout: float) -> Dialect:
    """The dialect of a file path or a `postgresql://` URL."""
    if isinstance(target, str) and target.startswith(POSTGRES_SCHEMES):
        return PostgresDialect(target, timeout)
    try:
        path = Path(target).expanduser()
    except RuntimeError:  # `~someone` who does not exist, or no home folder at all
        raise UsageError(
            _("cannot find the home folder in the database path {path}").format(path=target),
            hint=_("give the full path, e.g. --db /var/lib/crisiscomm/crisiscomm.db"),
        ) from None
    return SQLiteDialect(path, timeout)


# `-- only sqlite`, `-- only postgresql` (group 1), `-- end only` (no group)
_ONLY = re.compile(r"^\s*--\s*(?:only\s+(\w+)|end\s+only)\s*$")
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=256)
def _pyformat(text: str) -> str:
    """`:name` → `%(name)s` (psycopg's named style); `::type` casts are left alone."""
    return _PARAMETER.sub(r"%(\1)s", text.replace("%", "%%"))


def _without_secrets(url: str) -> str:
    """The URL as shown in messages: no password, no query (it may hold one too)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise UsageError(
            _("the database URL has an invalid port"),
            hint=_("write it as postgresql://user@host:5432/dbname"),
        ) from None
    if port:
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorname", "") or ""
    return code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(error)


def _link_new(draft: Path, path: Path) -> None:
    """Put the finished file `draft` at `path` if nothing is there yet, in one step."""
    try:
        os.link(draft, path)
    except FileExistsError:
        return  # another command made it first: everyone uses that one
    except OSError:
        # a file system without hard links: create exclusively, then fill in (the page is
        # one write; a reader in between would meet an empty file and refuse, not harm it)
        try:
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return
        with os.fdopen(target, "wb") as file:
            file.write(draft.read_bytes())
            file.flush()
            os.fsync(file.fileno())
    with suppress(OSError):  # the new name survives a power cut (POSIX; elsewhere a no-op)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _check_report(connection: Connection, pragma: str) -> list[str]:
    """The lines of a quick_check or integrity_check report, without "ok" and without
    the heading of the one schema there is."""
    lines = [line for (text,) in connection.execute(pragma) for line in text.splitlines()]
    return [line for line in lines if line not in ("ok", "*** in database main ***")]


def _is_damage(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorname", "") or ""
    return code.startswith("SQLITE_CORRUPT") or "malformed" in str(error)


def _nearest_existing(folder: Path) -> Path:
    """The folder, or the closest of its parents that is one: the folder to make writable."""
    while not folder.is_dir() and folder.parent != folder:
        folder = folder.parent
    return folder


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
