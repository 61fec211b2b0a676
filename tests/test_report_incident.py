"""`crisiscomm report INCIDENT`: a real incident's after-action report in the drill's format
(text, md, json, html), the period's folder of pages linked from its rows, per person,
the register's indicators, bad input, PostgreSQL as well as SQLite, and the pages in
headless Chromium."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine.kpis import approval_waits, compute_kpis
from crisiscomm.inbox.register import compiled_register
from crisiscomm.office.norms import norm_problems, norms_of
from crisiscomm.store import open_store
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    target_fixture,
)
from tests.test_inbox_kpis import _fill

from .report_data import closed_flood
from .test_report import browser, in_chromium

REPO = Path(__file__).resolve().parents[1]
APRIL = datetime(2027, 4, 3, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """April 2027: a quick incident (0001), a slow one (0002), one still open in holding
    (0003) and a drill (0004)."""
    path = tmp_path_factory.mktemp("incident-report") / "office.db"
    with open_store(path, create=True) as store:
        closed_flood(store, APRIL, timedelta(minutes=1))
        closed_flood(store, APRIL + timedelta(days=1), timedelta(minutes=4))
        closed_flood(store, APRIL + timedelta(days=2), timedelta(minutes=2), goal="holding")
        closed_flood(
            store, APRIL + timedelta(days=3), timedelta(minutes=1), title="EXERCISE: flood drill"
        )
    return path


def report(
    database: Path | str, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["report", "--db", str(database), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_measures_each_kpi_against_the_norms(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = report(database, capsys, "INC-2027-0002", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    with open_store(database) as store:
        assert data["kpis"] == pytest.approx(compute_kpis(store.events("INC-2027-0002")))
    rows = {row["kpi"]: row for row in data["norms"]}
    assert rows["time_to_first_statement"]["norm"] == "≤ 1h"
    assert rows["time_to_first_statement"]["within"] is False  # 1h16m
    assert rows["time_to_notify_leadership"]["within"] is True
    assert rows["updates_missed"]["within"] is None  # no norm
    assert data["within_norms"] is False and data["exercise"] is False
    assert "time_to_notify_leadership: 8m, within the norm (≤ 10m)" in data["went_well"]
    assert "no deadline missed" in data["went_well"]
    plan = data["improvement_plan"]
    assert "time_to_first_statement: 1h16m, outside the norm (≤ 1h)" in plan
    assert any(line.startswith("next update promised by Holding statement v1") for line in plan)
    assert len(plan) == len(set(plan))
    # the drill's record: releases with their approvers and texts, the timeline folded
    holding = data["statements"][0]
    assert holding["title"] == "Holding statement" and holding["offset"] == "T+1h16m"
    assert [a["role"] for a in holding["approvals"]] == ["head_of_press"]
    assert "Nukus" in holding["text"] and "EXERCISE" not in holding["text"]
    assert data["timeline"][0]["type"] == "opened" and data["timeline"][0]["offset"] == "T+0s"


def test_markdown_has_the_drill_reports_sections(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = report(database, capsys, "INC-2027-0002", "--format", "md")
    assert code == 0
    assert out.startswith("# After-action report: Flood\n\nplaybook `flood` · INC-2027-0002")
    assert "**OUTSIDE THE NORMS: 6 indicator(s) outside their norm — 0 deadline(s) missed" in out
    headings = re.findall(r"^## (.+)$", out, re.MULTILINE)
    assert headings == [
        "Promised updates broken",
        "KPIs against the office's norms",
        "Statements released",
        "Escalations fired",
        "What went well",
        "Improvement plan",
        "Released texts",
        "Timeline",
    ]
    assert "| time_to_first_statement | 1h16m | ≤ 1h | outside the norm |" in out


def test_text_for_the_terminal_and_a_quick_incident(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = report(database, capsys, "inc-2027-0001")
    assert code == 0
    assert out.startswith("After-action report: Flood\n==========================\n")
    assert "WITHIN THE NORMS: every indicator measured kept its norm\n" in out
    assert "What went well\n--------------\n" in out
    assert "Timeline\n--------\n" in out
    assert not any(line != line.rstrip() for line in out.splitlines())


def test_the_office_s_own_norms_decide(
    database: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shipped = (REPO / "office.yaml").read_text(encoding="utf-8")
    office = tmp_path / "office.yaml"
    office.write_text(
        shipped.replace("  time_to_first_statement: 1h\n", "  time_to_first_statement: 2h\n"),
        encoding="utf-8",
    )
    code, out, _err = report(
        database, capsys, "INC-2027-0002", "--format", "json", "--office", str(office)
    )
    rows = {row["kpi"]: row for row in json.loads(out)["norms"]}
    assert code == 0 and rows["time_to_first_statement"] == {
        "kpi": "time_to_first_statement",
        "measured": 76 * 60,
        "norm": "≤ 2h",
        "within": True,
    }


def test_an_open_incident_reports_the_figures_so_far(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = report(database, capsys, "INC-2027-0003", "--format", "md")
    assert code == 0
    assert "· open, in state holding: the figures so far" in out
    code, out, _err = report(database, capsys, "INC-2027-0004", "--format", "md")
    assert code == 0 and "\nEXERCISE · playbook `flood` · INC-2027-0004" in out


def test_in_russian(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--lang", "ru", "report", "INC-2027-0002", "--db", str(database)])
    out, _err = capsys.readouterr()
    assert code == 0 and "INC-2027-0002" in out and "What went well" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["INC-2099-0001"],
            "crisiscomm: error: no incident INC-2099-0001\n"
            "  hint: run `crisiscomm list` to see the incidents\n",
        ),
        (
            ["INC-2027-0001", "--month", "2027-04"],
            "crisiscomm: error: --from, --to, --month and --playbook choose a period, not one "
            "incident\n  hint: give an incident id or a period, not both\n",
        ),
        (
            ["INC-2027-0001", "--format", "csv"],
            "crisiscomm: error: csv is one row per incident of a period; an incident's report "
            "is text, md, json or html\n  hint: give --format text, md, json or html\n",
        ),
        (
            ["INC-2027-0001", "--format", "html", "-o", "pages/"],
            "crisiscomm: error: an incident's report is one page: give -o a file name\n"
            "  hint: e.g. -o INC-2027-0001.html\n",
        ),
        (
            ["--month", "2027-04", "--format", "md", "-o", "pages/"],
            "crisiscomm: error: -o pages/ is a folder: only --format html writes a folder of "
            "pages\n  hint: give a file name, or --format html\n",
        ),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    database: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = report(database, capsys, *args)
    assert (code, out, err) == (2, "", message)
    assert not Path("pages").exists()


def test_an_unknown_language_exits_2(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--lang", "xx", "report", "INC-2027-0001", "--db", str(database)])
    _out, err = capsys.readouterr()
    assert code == 2 and "xx" in err


def _folder(database: Path, capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    code, out, err = report(
        database, capsys, "--month", "2027-04", "--format", "html", "-o", f"{folder}/"
    )
    assert (code, out) == (0, "")
    assert err == f"report written to {folder}/index.html with 4 incident page(s)\n"


def test_a_folder_of_pages_links_each_incident_to_its_report(
    database: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "april"
    _folder(database, capsys, folder)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"INC-2027-000{n}.html" for n in range(1, 5)] + ["index.html"]
    index = (folder / "index.html").read_text(encoding="utf-8")
    for n in range(1, 5):
        assert f'<a href="INC-2027-000{n}.html">INC-2027-000{n}</a>' in index
    for name in names:
        page = (folder / name).read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "@page { size: A4" in page
        assert "<script" not in page and "src=" not in page and 'href="http' not in page
    page = (folder / "INC-2027-0002.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and '<figure id="chart-timeline">' in page
    assert '<td class="miss">outside the norm</td>' in page
    assert 'class="exercise"' not in page.split("</style>")[1]
    drill = (folder / "INC-2027-0004.html").read_text(encoding="utf-8")
    assert '<p class="exercise">EXERCISE EXERCISE EXERCISE</p>' in drill
    # a single file stands alone: no links to pages that are not there
    single = tmp_path / "april.html"
    assert (
        report(database, capsys, "--month", "2027-04", "--format", "html", "-o", str(single))[0]
        == 0
    )
    assert "<a href" not in single.read_text(encoding="utf-8")


def test_per_person_without_contacts(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {
        fmt: report(database, capsys, "--month", "2027-04", "--format", fmt)[1]
        for fmt in ("text", "md", "json", "csv", "html")
    }
    people = {p["id"]: p for p in json.loads(outputs["json"])["people"]}
    waits: dict[str, list[float]] = {}
    with open_store(database) as store:
        for incident in ("INC-2027-0001", "INC-2027-0002", "INC-2027-0003"):  # not the drill
            for event, waited in approval_waits(store.events(incident)):
                waits.setdefault(event.actor, []).append(waited)
    assert {k: p["approvals"] for k, p in people.items()} == {k: len(v) for k, v in waits.items()}
    head = next(p for p in people.values() if p["roles"] == ["head_of_press"])
    assert head["name"] == "Baxtiyar Allamuratov" and head["acknowledgements"] == 0
    assert "Per person" in outputs["text"] and "Baxtiyar Allamuratov" in outputs["md"]
    contacts = re.findall(
        r"(?:email|phone|telegram): *\"?([^\"\n]+)",
        (REPO / "office.yaml").read_text(encoding="utf-8"),
    )
    assert contacts
    for text in outputs.values():
        assert not [c for c in contacts if c.strip() in text]


def test_the_register_s_indicators_in_the_period_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "register.db"
    register = compiled_register(REPO / "inbox.yaml")
    with open_store(path, create=True) as store:
        _fill(store, register, SimulatedClock(datetime(2027, 3, 1, 5, tzinfo=UTC)))
    code, out, _err = report(path, capsys, "--month", "2027-03", "--format", "json")
    assert code == 0
    found = json.loads(out)["register"]
    assert found["received"] == 5
    answered, rumour = found["indicators"]
    assert answered["indicator"] == "answered_within_norm" and answered["incidents"] == 3
    assert answered["within_norm"] == pytest.approx(2 / 3) and answered["norm"]["written"] == "100%"
    assert rumour["indicator"] == "rumour_correction_latency"
    assert (rumour["incidents"], rumour["median"], rumour["within_norm"]) == (1, 5400, 1)
    code, out, _err = report(path, capsys, "--month", "2027-03")
    assert "The register of questions and appeals (5 item(s) received)" in out
    row = next(line for line in out.splitlines() if line.startswith("register items answered"))
    assert "66.7 %!" in row
    # a month without register items has no register table
    code, out, _err = report(path, capsys, "--month", "2027-05")
    assert code == 0 and "The register" not in out


def test_register_norms_are_known_and_checked() -> None:
    norms = norms_of()
    assert norms["rumour_correction_latency"].target == 90 * 60  # 10m + 20m + 30m + 30m
    assert norms["answered_within_norm"].at_least and norms["answered_within_norm"].target == 1
    [problem] = norm_problems({"rumour_correction_latency": "10m"})
    assert problem == (
        "rumour_correction_latency",
        "a rumour is to be corrected (10m) before verification (25m), and a rebuttal is only "
        "released once verified",
        "give rumour_correction_latency at least as long as time_to_verification",
    )
    assert norm_problems({"answered_within_norm": "1h"})[0][1] == (
        "`1h` is not a share; write e.g. 90% or 0.9"
    )


def test_on_postgresql_as_on_sqlite(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(target, create=True) as store:
        first = closed_flood(store, APRIL, timedelta(minutes=1))
        second = closed_flood(store, APRIL + timedelta(days=1), timedelta(minutes=4))
        expected = {i: compute_kpis(store.events(i)) for i in (first, second)}
    code, out, err = report(target, capsys, "--month", "2027-04", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert {i["id"]: i["kpis"] for i in data["incidents"]} == expected
    first_statement = next(
        s for s in data["indicators"] if s["indicator"] == "time_to_first_statement"
    )
    assert first_statement["incidents"] == 2 and first_statement["within_norm"] == 0.5
    # three statements each: the head of press clears all three, legal the last two
    assert [(p["name"], p["approvals"]) for p in data["people"]] == [
        ("Baxtiyar Allamuratov", 6),
        ("Sardor Ismoilov", 4),
    ]
    for incident, kpis in expected.items():
        code, out, err = report(target, capsys, incident, "--format", "json")
        assert (code, err) == (0, "")
        assert json.loads(out)["kpis"] == kpis


@browser
def test_the_pages_in_headless_chromium(
    database: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "april"
    _folder(database, capsys, folder)
    index = in_chromium(folder / "index.html", tmp_path / "index.png")
    assert '<a href="INC-2027-0002.html">INC-2027-0002</a>' in index
    dom = in_chromium(folder / "INC-2027-0002.html", tmp_path / "incident.png")
    start = dom.index('id="chart-timeline"')
    assert "<svg" in dom[start : start + 400]
    assert "What went well" in dom and "Improvement plan" in dom
