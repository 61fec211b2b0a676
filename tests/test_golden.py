"""Golden screens in every language: `status`, `show`, `timeline`, the statements of the
shipped flood playbook and a drill's after-action report, as a person reads them.

The expected texts are in tests/golden/<lang>/; after a deliberate change, regenerate them
with `CRISISCOMM_GOLDEN_UPDATE=1 .venv/bin/python -m pytest tests/test_golden.py` and read
the diff before committing it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm import i18n
from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import open_store
from crisiscomm.ui import readmodel
from crisiscomm.ui.render import detail_plain, status_plain
from crisiscomm.ui.timeline import timeline_text

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
FLOOD = str(REPO / "playbooks" / "flood.yaml")
START = datetime(2027, 4, 12, 12, 40, tzinfo=UTC)  # 17:40 in Tashkent
LANGUAGES = ("en", "kaa", "uz", "ru")
OFFICER = "asultanova"


def _compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CRISISCOMM_GOLDEN_UPDATE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with CRISISCOMM_GOLDEN_UPDATE=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.fixture(scope="module")
def flood_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A flood incident 25 minutes in: facts recorded, the holding statement drafted."""
    db = tmp_path_factory.mktemp("golden") / "office.db"
    clock = SimulatedClock(START)
    with open_store(db) as store:
        incident = service.open_incident(
            store=store,
            clock=clock,
            playbook_ref=FLOOD,
            title="Amu Darya: water rising at Samanbay",
            severity="high",
            facts=["district=qongirat", "hotline=1050"],
            actor=OFFICER,
        )
        clock.advance(timedelta(minutes=10))
        playbook, row = service.load(store=store, incident_id=incident.id)
        for item, _text, _required in playbook.checklist(row.state)[:2]:
            service.check_item(
                store=store, clock=clock, incident_id=incident.id, item=item, actor=OFFICER
            )
            clock.advance(timedelta(minutes=5))
    return db, incident.id


@pytest.mark.parametrize("code", LANGUAGES)
def test_status_show_and_timeline(code: str, flood_db: tuple[Path, str]) -> None:
    db, incident_id = flood_db
    now = START + timedelta(minutes=25)
    i18n.use(code)
    with open_store(db) as store:
        board = readmodel.board(store=store, open_only=True)
        detail = readmodel.detail(store=store, incident_id=incident_id)
        playbook, incident = service.load(store=store, incident_id=incident_id)
        events = service.timeline(store=store, incident_id=incident_id)
    _compare(f"{code}/status.txt", status_plain(board, now))
    _compare(f"{code}/show.txt", detail_plain(detail, now))
    _compare(f"{code}/timeline.txt", timeline_text(playbook, incident, events))


def test_the_flood_statements_in_each_language(flood_db: tuple[Path, str]) -> None:
    from crisiscomm.engine.rendering import statement_texts

    db, incident_id = flood_db
    with open_store(db) as store:
        playbook, incident = service.load(store=store, incident_id=incident_id)
    now = START + timedelta(minutes=25)
    texts: dict[str, list[str]] = {}
    for statement in playbook.statements:
        try:
            rendered, _values = statement_texts(playbook, incident, statement, now)
        except Exception as refused:  # a statement that needs facts recorded later
            rendered = {lang: f"({type(refused).__name__})" for lang in playbook.languages}
        for lang, text in rendered.items():
            texts.setdefault(lang, []).append(f"## {statement}\n\n{text}\n")
    for lang in playbook.languages:
        _compare(f"{lang}/statements.md", "\n".join(texts[lang]))


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_drill_report(
    code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    report = tmp_path / "report.md"
    scenario = "drills/flood-amu-darya.yaml"
    assert main(["--lang", code, "drill", scenario, "--report", str(report)]) == 0
    capsys.readouterr()
    text = report.read_text(encoding="utf-8")
    # the run's own folder is no part of what the report says
    _compare(f"{code}/drill-report.md", re.sub(re.escape(str(tmp_path)), "TMP", text))
