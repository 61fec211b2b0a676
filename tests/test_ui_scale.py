"""`status`, `show` and `list` on a long history: every query they run reads an index, and
the lists come a page at a time (`--limit`, `--after`), with bad values refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crisiscomm.cli import cli, main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import open_store
from crisiscomm.store.connection import StoreConnection
from tests.conftest import confirm, open_press, release_holding
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    target_fixture,
)

# tables whose every read must come from an index: they grow with the history
GROWING = ("incidents", "timers", "outbox", "events", "incident_statements", "inbox_items")


def _history(target: str, clock: SimulatedClock, *, closed: int = 6, open_: int = 3) -> list[str]:
    """Incidents closed as false alarms and open ones with a released holding statement;
    the ids, oldest first."""
    ids = []
    with open_store(target) as store:
        for number in range(closed + open_):
            incident_id = open_press(store, clock, title=f"Incident {number}")
            ids.append(incident_id)
            if number < closed:
                service.advance(
                    store=store,
                    clock=clock,
                    incident_id=incident_id,
                    trigger="false_alarm",
                    note="not real",
                    actor="aziz",
                )
            else:
                confirm(store, clock, incident_id)
                release_holding(store, clock, incident_id)
    return ids


@pytest.fixture(name="recorded")
def recorded_fixture() -> Iterator[dict[str, dict[str, Any]]]:
    """Every query the store runs meanwhile, with its first parameters."""
    seen: dict[str, dict[str, Any]] = {}
    original = StoreConnection._execute

    def recording(self: StoreConnection, sql: str, **params: Any) -> Any:
        seen.setdefault(sql, params)
        return original(self, sql, **params)

    StoreConnection._execute = recording  # type: ignore[method-assign]
    yield seen
    StoreConnection._execute = original  # type: ignore[method-assign]


def _scans(target: str, queries: dict[str, dict[str, Any]]) -> list[str]:
    """The reads of a growing table that are not from an index, with their query."""
    found = []
    with open_store(target) as store:
        postgres = store.backend == "postgresql"
        if postgres:  # on these few rows a scan is cheaper; ask what it would do at scale
            store._execute("SET enable_seqscan = off")
        for sql, params in queries.items():
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = [str(row[-1]) for row in store._execute(explain + sql, **params).fetchall()]
            for line in plan:
                table = re.search(r"Seq Scan on (\w+)|SCAN (\w+)\b(?! USING)", line)
                if table and (table.group(1) or table.group(2)) in GROWING:
                    found.append(f"{line.strip()} in: {' '.join(sql.split())[:120]}")
    return found


@pytest.mark.parametrize(
    "argv",
    [["status"], ["status", "--all", "--limit", "3"], ["list", "--all", "--limit", "3"], ["show"]],
    ids=["status", "status-all", "list-all", "show"],
)
def test_every_query_of_the_screens_reads_an_index(
    target: str,
    clock: SimulatedClock,
    recorded: dict[str, dict[str, Any]],
    argv: list[str],
) -> None:
    ids = _history(target, clock)
    recorded.clear()
    if argv == ["show"]:
        argv = ["show", ids[-1]]
    result = CliRunner().invoke(cli, [*argv, "--db", target])
    assert result.exit_code == 0, result.output
    assert recorded
    assert _scans(target, dict(recorded)) == []


def test_show_reads_its_own_incidents_notifications_only(
    tmp_path: Path, clock: SimulatedClock, recorded: dict[str, dict[str, Any]]
) -> None:
    """Not every pending notification of the office: with 60 incidents' worth (~1,000
    rows) that was most of what `show` did."""
    from crisiscomm.store.outbox import LIST_OUTBOX

    target = str(tmp_path / "office.db")
    ids = _history(target, clock)
    recorded.clear()
    result = CliRunner().invoke(cli, ["show", ids[-1], "--db", target])
    assert result.exit_code == 0, result.output
    assert LIST_OUTBOX not in recorded


def test_list_comes_a_page_at_a_time_and_names_the_next(
    tmp_path: Path, clock: SimulatedClock
) -> None:
    db = str(tmp_path / "crisiscomm.db")
    ids = _history(db, clock, closed=5, open_=2)
    runner = CliRunner()
    first = runner.invoke(cli, ["list", "--all", "--limit", "3", "--db", db])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ids[::-1][:3]
    assert lines[3] == (
        f"... 4 more; the next page: crisiscomm list --all --limit 3 --after {ids[-3]}"
    )
    second = runner.invoke(cli, ["list", "--all", "--limit", "3", "--after", ids[-3], "--db", db])
    assert [line.split()[0] for line in second.output.splitlines()[:3]] == ids[::-1][3:6]
    last = runner.invoke(cli, ["list", "--all", "--limit", "3", "--after", ids[1], "--db", db])
    assert last.output.splitlines() == [last.output.splitlines()[0]]
    assert last.output.split()[0] == ids[0]
    everything = runner.invoke(cli, ["list", "--all", "--db", db])
    assert "more" not in everything.output
    assert len(everything.output.splitlines()) == 7


def test_status_all_pages_too(tmp_path: Path, clock: SimulatedClock) -> None:
    db = str(tmp_path / "crisiscomm.db")
    ids = _history(db, clock, closed=4, open_=1)
    result = CliRunner().invoke(cli, ["status", "--all", "--limit", "2", "--no-color", "--db", db])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"... 3 more; the next page: crisiscomm status --all --limit 2 --after {ids[-2]}"
    )
    json_page = CliRunner().invoke(cli, ["status", "--all", "--limit", "2", "--json", "--db", db])
    assert json_page.exit_code == 0
    assert json_page.output.count('"title"') == 2


@pytest.mark.parametrize("command", ["list", "status"])
@pytest.mark.parametrize("value", ["0", "-3", "x", "1.5", ""])
def test_a_bad_limit_is_refused(
    tmp_path: Path, clock: SimulatedClock, command: str, value: str
) -> None:
    db = str(tmp_path / "crisiscomm.db")
    _history(db, clock, closed=1, open_=0)
    result = CliRunner().invoke(cli, [command, "--limit", value, "--db", db])
    assert result.exit_code == 2
    assert f"Invalid value for '--limit': {value!r} is not a whole number of incidents" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_after_an_unknown_incident_is_refused(
    tmp_path: Path, clock: SimulatedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "crisiscomm.db")
    _history(db, clock, closed=1, open_=0)
    code = main(["list", "--after", "INC-1999-0001", "--db", db])
    out, err = capsys.readouterr()
    assert code == 2
    assert "no incident INC-1999-0001" in out + err
    assert "Traceback" not in out + err


def test_a_long_rest_is_counted_only_so_far(
    tmp_path: Path, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A million incidents are not counted for the line under a page."""
    from crisiscomm.store import listing

    db = str(tmp_path / "crisiscomm.db")
    ids = _history(db, clock, closed=5, open_=0)
    monkeypatch.setattr(listing, "MORE_COUNTED", 2)
    result = CliRunner().invoke(cli, ["list", "--all", "--limit", "1", "--db", db])
    assert result.output.splitlines()[-1] == (
        f"... more than 2 more; the next page: crisiscomm list --all --limit 1 --after {ids[-1]}"
    )
    with open_store(db) as store:
        assert store.count_incidents(up_to=2) == 3
        assert store.count_incidents() == 5
