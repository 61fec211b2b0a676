from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.store import Store, open_store

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
START = datetime(2026, 4, 3, 1, 0, tzinfo=UTC)  # 06:00 in Tashkent


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
    """Tests run in an empty folder, with no playbook search paths from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRISISCOMM_PLAYBOOKS", raising=False)
    monkeypatch.delenv("CRISISCOMM_PROTOCOLS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
