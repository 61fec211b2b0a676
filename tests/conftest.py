from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import Store, open_store

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
START = datetime(2026, 4, 3, 1, 0, tzinfo=UTC)  # 06:00 in Tashkent
PRESS = str(FIXTURES / "engine" / "press.yaml")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database file of the test's own."""
    return tmp_path / "crisiscomm.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    """The test's database, open."""
    with open_store(db) as opened:
        yield opened


@pytest.fixture
def clock() -> SimulatedClock:
    """A simulated clock at START."""
    return SimulatedClock(START)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented YAML file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run in an empty folder, with no playbook search paths from the environment,
    and a compiled-playbook cache of their own (never the user's ~/.cache)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    monkeypatch.delenv("CRISISCOMM_PLAYBOOKS", raising=False)
    monkeypatch.delenv("CRISISCOMM_PROTOCOLS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests read English unless they ask for another language; whatever language a test
    chose in this process is undone after it."""
    from crisiscomm import i18n

    monkeypatch.setenv("CRISISCOMM_LANG", "en")
    monkeypatch.setenv("LANGUAGE", "en")
    monkeypatch.delenv("CRISISCOMM_OFFICE", raising=False)
    yield
    i18n.use("en")


# -- the press fixture playbook's usual first steps, as its people take them ------------


def open_press(
    store: Store, clock: SimulatedClock, title: str = "Dam breach near Nukus", **overrides: object
) -> str:
    """Open an incident of tests/fixtures/engine/press.yaml as aziz; its id."""
    arguments: dict[str, object] = {
        "playbook_ref": PRESS,
        "title": title,
        "severity": None,
        "facts": ["region=Nukus"],
        "actor": "aziz",
        **overrides,
    }
    return service.open_incident(store=store, clock=clock, **arguments).id  # type: ignore[arg-type]


def confirm(store: Store, clock: SimulatedClock, incident_id: str) -> None:
    """Detection -> statement: tick the required item and fire `confirm`."""
    service.check_item(
        store=store, clock=clock, incident_id=incident_id, item="log_source", actor="aziz"
    )
    service.advance(
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="confirm",
        note=None,
        actor="aziz",
    )


def release_holding(store: Store, clock: SimulatedClock, incident_id: str) -> None:
    """Draft the holding statement (aziz), clear it (dilnoza, then rustam), release it."""
    kwargs = {"store": store, "clock": clock, "incident_id": incident_id}
    service.draft_statement(**kwargs, statement="holding", actor="aziz")  # type: ignore[arg-type]
    service.approve(**kwargs, name="holding", actor="dilnoza")  # type: ignore[arg-type]
    service.approve(**kwargs, name="holding", actor="rustam")  # type: ignore[arg-type]
    service.release_statement(**kwargs, statement="holding", actor="aziz")  # type: ignore[arg-type]
