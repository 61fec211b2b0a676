"""Opening a database: where it lives, migrations, and every way it can go wrong."""

from __future__ import annotations

import ctypes
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.errors import StoreError
from crisiscomm.store import Store, default_db_path, open_store
from crisiscomm.store import store as store_module
from crisiscomm.store.store import migrations
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    REPO,
    note,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

LATEST = len(migrations())  # the schema version a new database gets

CLONE_NEWUSER = 0x10000000


def message_of(target: str | Path, *, timeout: float = 5.0) -> tuple[str, str | None]:
    with pytest.raises(StoreError) as caught:
        open_store(target, timeout=timeout).close()
    return caught.value.message, caught.value.hint


def test_a_new_file_in_new_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "crisiscomm.db"
    with open_store(path) as store:
        assert (store.backend, store.where, store.schema_version) == ("sqlite", str(path), LATEST)
        connection = store._conn  # the pragmas are per connection
        assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert sql(str(path), "PRAGMA journal_mode") == [("wal",)]


def test_default_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CRISISCOMM_DB", raising=False)
    assert default_db_path() == tmp_path / "xdg" / "crisiscomm" / "crisiscomm.db"
    with open_store(None) as store:
        assert store.where == str(tmp_path / "xdg" / "crisiscomm" / "crisiscomm.db")
    assert default_db_path().is_file()

    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        default_db_path() == tmp_path / "home" / ".local" / "share" / "crisiscomm" / "crisiscomm.db"
    )


def test_crisiscomm_db_overrides_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISCOMM_DB", str(tmp_path / "office.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with open_store(None) as store:
        assert store.where == str(tmp_path / "office.db")
    with open_store(tmp_path / "explicit.db") as store:
        assert store.where == str(tmp_path / "explicit.db")
    assert not (tmp_path / "xdg").exists()


def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    assert message_of(tmp_path) == (
        f"{tmp_path} is a folder, not a database file",
        f"give the path of a file, e.g. {tmp_path / 'crisiscomm.db'}",
    )


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("Minutes of the press office meeting\n" * 200, encoding="utf-8")
    before = path.read_bytes()
    assert message_of(path) == (
        f"{path} is not a crisiscomm database",
        "point --db or CRISISCOMM_DB at the right file, or move this file away to start a new database",
    )
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["notes.db"]


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "contacts.db"
    sql(str(path), "CREATE TABLE journalists (name TEXT)")
    assert message_of(path) == (
        f"{path} is a database of another program, not of crisiscomm",
        "choose another file with --db or CRISISCOMM_DB",
    )
    assert sql(str(path), "SELECT name FROM sqlite_master") == [("journalists",)]
    assert sql(str(path), "PRAGMA journal_mode") == [("delete",)]  # not switched to WAL
    assert sorted(os.listdir(tmp_path)) == ["contacts.db"]


def test_a_damaged_database(tmp_path: Path) -> None:
    path = tmp_path / "crisiscomm.db"
    with open_store(path) as store:
        for n in range(40):
            note(store, open_incident(store), "Нукус " * 100 + str(n))
    data = bytearray(path.read_bytes())
    data[4096:] = bytes((k * 7) % 256 for k in range(len(data) - 4096))  # page 1 survives
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught, open_store(path) as store:
        store.list_incidents()
    assert caught.value.message == f"the database {path} is damaged"
    assert caught.value.hint == (
        "nothing was changed; keep the file for the record and restore the last backup, "
        "or ask your administrator"
    )


def unprivileged(action: Callable[[], str]) -> str:
    """Run `action` where file permissions apply, and return what it returns.

    Root ignores permissions; a forked child in a fresh user namespace does not (it is
    "nobody" to every file on disk)."""
    if os.geteuid() != 0:
        return action()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            unshared = ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) == 0
            result = action() if unshared else "SKIP"
        except BaseException as error:
            result = f"ERROR {error!r}"
        os.write(write_end, result.encode("utf-8"))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = pipe.read().decode("utf-8")
    os.waitpid(pid, 0)
    if result == "SKIP":
        pytest.skip("running as root and cannot drop privileges to test permissions")
    return result


def refusal(target: Path) -> Callable[[], str]:
    def attempt() -> str:
        try:
            open_store(target).close()
        except StoreError as error:
            return f"{error.message} | {error.hint}"
        return "opened"

    return attempt


def test_an_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert unprivileged(refusal(folder / "crisiscomm.db")) == (
            f"cannot open or write the database {folder / 'crisiscomm.db'} | "
            f"check that you may write to the folder {folder}, or choose another file with "
            "--db or CRISISCOMM_DB"
        )
        assert unprivileged(refusal(folder / "new" / "crisiscomm.db")) == (
            f"cannot create the folder {folder / 'new'} for the database: Permission denied | "
            f"check that you may write to the folder {folder}, or choose another file with "
            "--db or CRISISCOMM_DB"
        )
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


def test_an_existing_database_in_an_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    with open_store(folder / "crisiscomm.db") as store:
        open_incident(store)
    (folder / "crisiscomm.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        assert unprivileged(refusal(folder / "crisiscomm.db")) == (
            f"cannot open or write the database {folder / 'crisiscomm.db'} | "
            f"check that you may write to the folder {folder}, or choose another file with "
            "--db or CRISISCOMM_DB"
        )
    finally:
        folder.chmod(0o755)


def test_a_file_where_a_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("", encoding="utf-8")
    message, hint = message_of(tmp_path / "data" / "crisiscomm" / "crisiscomm.db")
    assert (
        message
        == f"cannot create the folder {tmp_path / 'data' / 'crisiscomm'} for the database: Not a directory"
    )
    assert (
        hint
        == f"check that you may write to the folder {tmp_path}, or choose another file with --db or CRISISCOMM_DB"
    )


def test_a_database_of_a_newer_crisiscomm_is_refused(store: Store, target: str) -> None:
    open_incident(store)
    newer = LATEST + 1
    sql(target, f"INSERT INTO schema_version (version, applied_at) VALUES ({newer}, 'later')")
    assert message_of(target) == (
        f"the database {store.where} was made by a newer crisiscomm (schema {newer}; this one "
        f"knows "
        f"{LATEST}): "
        "upgrade crisiscomm",
        "pip install --upgrade crisiscomm, then run the command again",
    )
    assert sql(target, "SELECT count(*) FROM incidents") == [(1,)]


def test_an_empty_file_is_refused_not_made_a_new_database(tmp_path: Path) -> None:
    """A truncated database is not a new office (tests/test_store_damage.py has the rest)."""
    path = tmp_path / "crisiscomm.db"
    path.touch()
    message, _hint = message_of(path)
    assert message == f"the database file {path} is empty (0 bytes)"
    assert path.read_bytes() == b""
    assert sorted(os.listdir(tmp_path)) == ["crisiscomm.db"]


def test_migrations_upgrade_an_older_database_in_place(
    store: Store, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = note(store, open_incident(store), "before the upgrade")
    store.close()
    newer = tmp_path / "migrations"
    newer.mkdir()
    for shipped in migrations():
        shutil.copy(shipped.path, newer)
    (newer / f"{LATEST + 1:04d}_region.sql").write_text(
        "-- incidents get a region\n"
        "ALTER TABLE incidents ADD COLUMN region TEXT;\n"
        "CREATE INDEX incidents_region ON incidents (region);\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", newer)
    with open_store(target) as upgraded:
        assert upgraded.schema_version == LATEST + 1
        assert upgraded.get_incident(incident.id) == incident
        assert upgraded.verify_chain() == []
        note(upgraded, incident, "after the upgrade")
    versions = sql(target, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(n,) for n in range(1, LATEST + 2)]
    monkeypatch.undo()
    assert message_of(target)[0].endswith(
        f"(schema {LATEST + 1}; this one knows {LATEST}): upgrade crisiscomm"
    )


def test_the_shipped_migrations(tmp_path: Path) -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, LATEST + 1))
    names = [m.path.name for m in found]
    assert names[0] == "0001_initial.sql" and "0002_timer_retry.sql" in names
    with pytest.raises(RuntimeError, match=r"missing or not numbered 1\.\.n: reinstall crisiscomm"):
        migrations(tmp_path)  # installed without its .sql files
    (tmp_path / "0002_second.sql").write_text("", encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"not numbered 1\.\.n"):
        migrations(tmp_path)


def test_waiting_too_long_for_another_writer(store: Store, target: str) -> None:
    incident = open_incident(store)
    if target.startswith("postgresql://"):
        import psycopg

        blocker: Any = psycopg.connect(target, autocommit=True)
        blocker.execute("BEGIN")
        blocker.execute(f"SELECT id FROM incidents WHERE id = '{incident.id}' FOR UPDATE")
    else:
        blocker = sqlite3.connect(target, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
    try:
        with open_store(target, timeout=0.2) as slow, pytest.raises(StoreError) as caught:
            note(slow, incident, "too late")
        assert caught.value.message == (
            f"the database {store.where} is busy: another crisiscomm command held it for more "
            "than 0.2 seconds"
        )
        assert caught.value.hint is not None and caught.value.hint.startswith("nothing was changed")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.get_incident(incident.id) == incident
    assert len(store.events(incident.id)) == 1


def test_postgres_without_its_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails
    assert message_of("postgresql://press:s3cret@db.gov.example:5433/crisis?sslmode=require") == (
        "postgresql://press@db.gov.example:5433/crisis is a PostgreSQL database, and the "
        "PostgreSQL driver is missing",
        "install crisiscomm[postgres]: pip install 'crisiscomm[postgres]'",
    )


def test_an_unreachable_server() -> None:
    pytest.importorskip("psycopg")
    message, hint = message_of("postgresql://press:s3cret@127.0.0.1:9/crisis", timeout=1)
    assert message.startswith(
        "cannot reach the database server postgresql://press@127.0.0.1:9/crisis: "
    )
    assert "s3cret" not in message
    assert hint == (
        "nothing was changed; check CRISISCOMM_DB and that the server is running, then run the "
        "command again"
    )


def test_importing_the_store_is_cheap() -> None:
    code = (
        "import sys, crisiscomm.store\n"
        "heavy = {'psycopg', 'jsonschema', 'yaml', 'apscheduler', 'transitions', 'rich', 'click'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


def test_scratch_stops_syncing_each_commit_only_when_asked(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "drill.db"
    with open_store(db) as store:
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        store.scratch()
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
    with sqlite3.connect(db) as connection:  # a per-connection setting: the file is unchanged
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
