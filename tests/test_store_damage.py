"""An empty or damaged database file is refused before anything is written to it.

sqlite3 makes a zero-byte file into a new, empty database without a word: a truncated
office database would read as "no incidents" and hand out INC-...-0001 again. A damaged
page is noticed only when it is read, so a write could land before the refusal.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock, SystemClock
from crisiscomm.engine import service
from crisiscomm.errors import StoreError
from crisiscomm.store import Store, open_store
from tests.conftest import PRESS, REPO, confirm, open_press
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    store_fixture,
    target_fixture,
)

EMPTY_HINT = (
    "nothing was changed; if it held the office's incidents, it was truncated: restore it "
    "from the last backup. To start a new database there instead, delete the file and run "
    "open-incident"
)
DAMAGED_HINT = (
    "nothing was changed; keep the file for the record and restore the last backup, "
    "or ask your administrator"
)


def files(folder: Path) -> dict[str, bytes]:
    """Every file of the folder and its bytes; the WAL's shared-memory index (-shm) is
    scratch space every reader writes to, not the database."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.endswith("-shm")}


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- an empty file ---------------------------------------------------------------------------

COMMANDS = [
    ["list"],
    ["status"],
    ["show", "INC-2026-0001"],
    ["timeline", "INC-2026-0001"],
    ["audit", "verify"],
    ["outbox"],
    ["tick"],
    ["open-incident", PRESS, "--title", "Dam breach", "--fact", "region=Nukus", "--as", "aziz"],
    ["note", "INC-2026-0001", "called the hydromet office", "--as", "aziz"],
    ["advance", "INC-2026-0001", "confirm", "--as", "aziz"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_empty_file_is_refused_not_made_a_new_database(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A database truncated to 0 bytes (a full disk, a bad copy) is not a new office:
    `list` must not say "No open incidents", `audit verify` must not say every chain holds,
    and `open-incident` must not hand out INC-...-0001 a second time."""
    folder = tmp_path / "office"
    folder.mkdir()
    empty = folder / "crisiscomm.db"
    empty.write_bytes(b"")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the default file is `empty` too
    for how in ("--db", "CRISISCOMM_DB", "default"):
        monkeypatch.delenv("CRISISCOMM_DB", raising=False)
        if how == "--db":
            code, out, err = run(*command, "--db", str(empty), capsys=capsys)
        else:
            if how == "CRISISCOMM_DB":
                monkeypatch.setenv("CRISISCOMM_DB", str(empty))
            else:
                os.rename(folder, tmp_path / "crisiscomm")
                folder = tmp_path / "crisiscomm"
                empty = folder / "crisiscomm.db"
            code, out, err = run(*command, capsys=capsys)
        assert (code, out) == (1, ""), (how, out, err)
        assert err == (
            f"crisiscomm: error: the database file {empty} is empty (0 bytes)\n"
            f"  hint: {EMPTY_HINT}\n"
        ), how
        assert files(folder) == {"crisiscomm.db": b""}, how  # nothing made beside it either


def test_serve_refuses_an_empty_file_too(tmp_path: Path) -> None:
    empty = tmp_path / "crisiscomm.db"
    empty.write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "crisiscomm", "serve", "--db", str(empty)],
        capture_output=True,
        text=True,
        timeout=30,  # a serve that does not refuse runs until killed
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(
        f"crisiscomm: error: the database file {empty} is empty (0 bytes)\n"
    ), result.stderr
    assert files(tmp_path) == {"crisiscomm.db": b""}


def test_open_store_refuses_an_empty_file_even_when_it_may_create(tmp_path: Path) -> None:
    empty = tmp_path / "crisiscomm.db"
    empty.touch()
    for create in (True, False):
        with pytest.raises(StoreError) as caught:
            open_store(empty, create=create)
        assert caught.value.message == f"the database file {empty} is empty (0 bytes)"
        assert caught.value.hint == EMPTY_HINT
    assert files(tmp_path) == {"crisiscomm.db": b""}


def test_an_empty_file_keeps_the_wal_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Truncated with its -wal file left over (commits not yet copied into the file): the
    WAL is what a restore may still use, and SQLite deletes it when it opens an empty file."""
    clock = SimulatedClock(SystemClock().now())
    path = tmp_path / "crisiscomm.db"
    with open_store(path) as store:
        incident_id = open_press(store, clock)
        holder = sqlite3.connect(path, isolation_level=None)  # no checkpoint at close
        holder.execute("SELECT count(*) FROM incidents").fetchone()
        store._execute("PRAGMA wal_autocheckpoint = 0")
        service.add_note(store=store, clock=clock, incident_id=incident_id, text="x", actor="aziz")
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(path.with_name("crisiscomm.db-wal"), copy / "crisiscomm.db-wal")
    holder.close()
    (copy / "crisiscomm.db").write_bytes(b"")
    before = files(copy)
    assert len(before["crisiscomm.db-wal"]) > 0
    for command in (["list"], ["open-incident", PRESS, "--title", "t", "--fact", "region=N"]):
        code, _out, err = run(*command, "--db", str(copy / "crisiscomm.db"), capsys=capsys)
        assert code == 1 and "is empty (0 bytes)" in err
        assert files(copy) == before


def test_open_incident_on_a_new_path_still_makes_a_database(tmp_path: Path) -> None:
    """Made whole beside its place and linked into it, so that no other command meets it
    as an empty file (tests/test_store_processes.py races two): nothing is left beside it."""
    new = tmp_path / "office" / "crisiscomm.db"
    assert (
        main(["open-incident", PRESS, "--title", "t", "--fact", "region=N", "--db", str(new)]) == 0
    )
    assert sorted(os.listdir(new.parent)) == ["crisiscomm.db"]
    with open_store(new, create=False) as store:
        assert [i.id for i in store.list_incidents()] == [f"INC-{SystemClock().now().year}-0001"]
        assert store._conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# -- a damaged file --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real office database, closed: incidents opened two days ago, so their deadlines,
    reminders and escalations are due, with notes enough to fill a few hundred pages."""
    path = tmp_path_factory.mktemp("office") / "crisiscomm.db"
    clock = SimulatedClock(SystemClock().now() - timedelta(days=2))
    with open_store(path) as store:
        for n in range(12):
            incident_id = open_press(store, clock, title=f"Dam breach {n}")
            if n % 2 == 0:
                confirm(store, clock, incident_id)
            for k in range(8):
                text = "Сув тошқини, Нукус. Suw tasqını, Nókis. " * 12 + str(k)
                service.add_note(
                    store=store, clock=clock, incident_id=incident_id, text=text, actor="aziz"
                )
    return path


def damage(path: Path) -> None:
    """Overwrite 8 KiB in the middle of the file (two whole pages) with garbage."""
    size = path.stat().st_size
    middle = size // 2 // 4096 * 4096
    with path.open("r+b") as file:
        file.seek(middle)
        file.write(bytes((k * 7 + 13) % 256 for k in range(8192)))


@pytest.fixture
def damaged(office: Path, tmp_path: Path) -> Path:
    """A damaged copy of the office database, alone in a folder of its own."""
    folder = tmp_path / "copy"
    folder.mkdir()
    copy = folder / "crisiscomm.db"
    shutil.copyfile(office, copy)
    damage(copy)
    return copy


def newest(office: Path) -> str:
    with open_store(office, create=False) as store:
        return store.list_incidents()[0].id


WRITES = [
    ["tick"],
    ["open-incident", PRESS, "--title", "Dam breach", "--fact", "region=Nukus", "--as", "aziz"],
    ["note", "{newest}", "called the hydromet office", "--as", "aziz"],
    ["check", "{newest}", "log_source", "--as", "aziz"],
    ["ack", "{newest}", "--as", "aziz"],
]


@pytest.fixture(params=["closed", "held open"])
def held(request: pytest.FixtureRequest, damaged: Path) -> Iterator[None]:
    """Also while another program (a `watch`, a backup) holds the file open: a write then
    stays in the -wal file, and the database file alone would look untouched."""
    if request.param == "closed":
        yield
        return
    holder = sqlite3.connect(damaged, isolation_level=None)
    holder.execute("SELECT count(*) FROM sqlite_master").fetchone()
    try:
        yield
    finally:
        holder.close()


@pytest.mark.parametrize("command", WRITES, ids=lambda c: c[0])
def test_a_damaged_database_is_refused_before_anything_is_written(
    command: list[str],
    office: Path,
    damaged: Path,
    held: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = files(damaged.parent)
    args = [arg.format(newest=newest(office)) for arg in command]
    code, out, err = run(*args, "--db", str(damaged), capsys=capsys)
    assert (code, out) == (1, ""), err
    assert err == (
        f"crisiscomm: error: the database {damaged} is damaged\n  hint: {DAMAGED_HINT}\n"
    )
    assert files(damaged.parent) == before


def test_audit_verify_runs_the_databases_own_integrity_check(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files(damaged.parent)
    code, out, err = run("audit", "verify", "--db", str(damaged), capsys=capsys)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == f"audit: the database {damaged} is damaged; SQLite's integrity check says:"
    assert len(lines) >= 3 and all(line.startswith("  ") for line in lines[1:-1])
    # it names the damaged pages, or when the damage stops SQLite's check, the table
    assert any("page" in line.lower() or line.startswith("  table ") for line in lines[1:-1]), out
    assert "*** in database main ***" not in out
    assert lines[-1] == (
        "audit: the event chains were not checked; keep the file for the record and restore "
        "the last backup"
    )
    assert files(damaged.parent) == before


def test_audit_verify_of_a_sound_database(store: Store, target: str) -> None:
    """The integrity check finds nothing on a sound database (PostgreSQL has none to run)."""
    clock = SimulatedClock(SystemClock().now())
    open_press(store, clock)
    assert store.integrity_problems() == []
    assert main(["audit", "verify", "--db", target]) == 0


def test_the_quick_check_runs_once_before_the_first_write(tmp_path: Path) -> None:
    """Reading commands (list, show) do not pay for it; a process that writes pays once."""
    clock = SimulatedClock(SystemClock().now())
    path = tmp_path / "crisiscomm.db"
    with open_store(path) as store:
        incident_id = open_press(store, clock)
    with open_store(path) as store:
        ran: list[str] = []
        store._conn.set_trace_callback(ran.append)  # type: ignore[attr-defined]
        store.list_incidents()
        service.view(store=store, incident_id=incident_id)
        assert not [s for s in ran if "quick_check" in s]
        for text in ("one", "two", "three"):
            service.add_note(
                store=store, clock=clock, incident_id=incident_id, text=text, actor="aziz"
            )
        assert [s for s in ran if "quick_check" in s] == ["PRAGMA quick_check"]
