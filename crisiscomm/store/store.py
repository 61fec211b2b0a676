"""The Store: one open database, its lifecycle and schema migrations; `open_store` opens it.

Every line of SQL crisiscomm runs is in the store's modules (and the migrations applied
here), in the subset SQLite and PostgreSQL share: `:name` parameters, `INSERT ... ON
CONFLICT`, `RETURNING`. What differs (connecting, BEGIN, DDL types, error messages) is in
dialect.py. `Store` combines the table families, each with its SQL beside the methods that
run it: incidents.py, events.py, timers.py, outbox.py; connection.py is what they run on.

Each write is ONE transaction (DESIGN.md invariants 1 and 2): the incident row, its new
events, its timers and its outbox rows commit together or not at all. Concurrent officers are
kept apart by an optimistic version check: `commit` updates the incident only if it still has
the version the caller read, and otherwise raises ConflictError with nothing written.

The event hash chain is described in chain.py; `verify_chain` recomputes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from crisiscomm.clock import SystemClock, format_utc
from crisiscomm.errors import StoreError, UsageError
from crisiscomm.i18n import _
from crisiscomm.store.dialect import Dialect, SQLiteDialect, dialect_for
from crisiscomm.store.events import EventTables
from crisiscomm.store.incidents import IncidentTables
from crisiscomm.store.listing import IncidentPages
from crisiscomm.store.outbox import OutboxTables
from crisiscomm.store.privacy import InboxPeopleTables
from crisiscomm.store.search import InboxSearchTables
from crisiscomm.store.timers import TimerAlreadyFired, TimerTables

__all__ = [
    "DEFAULT_TIMEOUT",
    "MIGRATIONS_DIR",
    "Migration",
    "Store",
    "TimerAlreadyFired",
    "account_name",
    "default_db_path",
    "migrations",
    "open_store",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DEFAULT_TIMEOUT = 5.0  # seconds to wait for another writer before giving up

# -- schema -------------------------------------------------------------------------------
SCHEMA_VERSION = "SELECT max(version) FROM schema_version"
RECORD_SCHEMA_VERSION = (
    "INSERT INTO schema_version (version, applied_at) VALUES (:version, :applied_at)"
)


@dataclass(frozen=True, order=True)
class Migration:
    """One numbered schema change shipped in the package: `migrations/0001_initial.sql`."""

    version: int
    path: Path

    def statements(self, dialect: Dialect) -> list[str]:
        """The migration's statements for this database (comment lines dropped).

        A statement ends with a `;` at the end of a line, outside a `$$`-quoted body: a
        trigger's or function's body holds statements of its own.
        """
        lines = dialect.ddl(self.path.read_text(encoding="utf-8")).splitlines()
        found: list[str] = []
        current: list[str] = []
        quoted = False
        for line in lines:
            if line.lstrip().startswith("--") and not quoted:
                continue
            current.append(line)
            quoted ^= line.count("$$") % 2 == 1
            if not quoted and line.rstrip().endswith(";"):
                found.append("\n".join(current).strip().removesuffix(";").strip())
                current = []
        found.append("\n".join(current).strip())
        return [statement for statement in found if statement]


def migrations(folder: Path | None = None) -> list[Migration]:
    """The shipped migrations, in order; their numbers run 1, 2, 3 ... without gaps."""
    found = sorted(
        Migration(int(path.name.split("_", 1)[0]), path)
        for path in (folder or MIGRATIONS_DIR).glob("[0-9][0-9][0-9][0-9]_*.sql")
    )
    if not found or [m.version for m in found] != list(range(1, len(found) + 1)):
        # a packaging mistake (package_data without store/migrations/*.sql), not a user's
        raise RuntimeError(
            f"the database migrations in {folder or MIGRATIONS_DIR} are missing or not "
            "numbered 1..n: reinstall crisiscomm"
        )
    return found


def default_db_path() -> Path:
    """Where the database lives unless --db or CRISISCOMM_DB say otherwise."""
    base = os.environ.get("XDG_DATA_HOME", "")
    try:
        root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    except RuntimeError:  # no home folder (some service accounts)
        raise UsageError(
            _("there is no home folder to keep the database in"),
            hint=_("set CRISISCOMM_DB or give --db PATH"),
        ) from None
    return root / "crisiscomm" / "crisiscomm.db"


def open_store(
    target: str | Path | None = None, *, timeout: float = DEFAULT_TIMEOUT, create: bool = True
) -> Store:
    """Open (creating or upgrading in place) the database at a path or `postgresql://` URL.

    None means $CRISISCOMM_DB, else `default_db_path()`. `timeout` is how long to wait for
    another writer before giving up with a StoreError. With `create=False`, a database file
    that does not exist is a UsageError (a mistyped path), not a new empty database. A file
    that exists but is empty (0 bytes: truncated) is a StoreError either way: only a path
    with nothing there becomes a new database.
    """
    if target is None or target == "":
        target = os.environ.get("CRISISCOMM_DB") or default_db_path()
    dialect = dialect_for(target, timeout)
    if isinstance(dialect, SQLiteDialect) and not dialect.path.exists():
        if not create:
            raise UsageError(
                _("there is no database at {path}").format(path=dialect.path),
                hint=_(
                    "check --db or CRISISCOMM_DB: the office's database is the file "
                    "open-incident created; open-incident with a new path starts a new one"
                ),
            )
        dialect.create()
    store = Store(dialect.connect(), dialect)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def account_name() -> str:
    """The operating-system account running this process (not $USER, which anyone sets)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # no passwd entry (some containers), or Windows
        import getpass

        return getpass.getuser()


class Store(
    InboxPeopleTables,
    InboxSearchTables,
    IncidentTables,
    IncidentPages,
    EventTables,
    TimerTables,
    OutboxTables,
):
    """One open database. Use `open_store`; close it, or use it as a context manager."""

    def identity(self) -> str:
        """Who this connection acts for, on the database's word: PostgreSQL's
        `session_user` (the login it authenticated); for SQLite, a file with no logins,
        the operating-system account running the command."""
        if self.backend == "sqlite":
            return account_name()
        with self._driver_errors():
            row = self._conn.execute("SELECT session_user").fetchone()
        return str(row[0])

    # -- lifecycle ------------------------------------------------------------------------

    def scratch(self) -> None:
        """Stop syncing each commit to disk (SQLite): for a drill's throw-away database only.

        A process crash still loses nothing committed; a power cut may lose the last
        commits. Never for an office's real database.
        """
        if self.backend == "sqlite":
            self._execute("PRAGMA synchronous = OFF")

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def migrate(self, folder: Path | None = None) -> int:
        """Bring the schema up to date in place; refuse a database from a newer crisiscomm."""
        known = migrations(folder)
        latest = known[-1].version
        current = self._read_schema_version()
        if current < latest:
            with self._transaction():
                if self._dialect.migration_lock:
                    self._execute(self._dialect.migration_lock)
                current = self._read_schema_version()  # another process may have done it
                if current == 0:
                    self._refuse_foreign_database()
                for migration in known[current:]:
                    for statement in migration.statements(self._dialect):
                        self._execute(statement)
                    self._after_migration(migration.version)
                    self._execute(
                        RECORD_SCHEMA_VERSION,
                        version=migration.version,
                        applied_at=format_utc(SystemClock().now()),
                    )
                current = max(current, latest)
        if current > latest:
            raise StoreError(
                _(
                    "the database {where} was made by a newer crisiscomm (schema {found}; "
                    "this one knows {known}): upgrade crisiscomm"
                ).format(where=self.where, found=current, known=latest),
                hint=_("pip install --upgrade crisiscomm, then run the command again"),
            )
        self.schema_version = current
        return current

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One write transaction around several writes, each of which keeps its own
        all-or-nothing (a savepoint): one commit (one fsync) for all of them.

        For `serve` firing many due timers at once, and for opening an incident (its
        number and its first write in one commit). The database stays locked for writers
        until the batch ends (SQLite), or the rows it changed stay locked (PostgreSQL):
        keep batches short.
        """
        with self._transaction():
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a `batch`: a part that is undone alone if it raises, reads included (a
        failed statement on PostgreSQL leaves the rest of the batch usable). Outside one,
        a transaction of its own."""
        with self._transaction():
            yield

    def integrity_problems(self) -> list[str]:
        """What the database's own integrity check finds wrong with the file (SQLite's
        `PRAGMA integrity_check`), one line each; [] when it is sound (always on PostgreSQL).
        """
        with self._driver_errors():
            return self._dialect.damage(self._conn, thorough=True)

    def _read_schema_version(self) -> int:
        with self._driver_errors():
            exists = self._fetchone(self._dialect.table_exists, name="schema_version")[0]
            if not exists:
                return 0
            return int(self._fetchone(SCHEMA_VERSION)[0] or 0)

    def _refuse_foreign_database(self) -> None:
        """An SQLite file holding another program's tables is not ours to add tables to."""
        if self._dialect.table_count and self._fetchone(self._dialect.table_count)[0]:
            raise self._dialect.foreign()
