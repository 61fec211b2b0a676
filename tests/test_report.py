"""`crisiscomm report`: real incidents driven through the engine on a simulated clock, the
office's norms, every format, bad input, and the HTML page in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.documents.kinds import check_file
from crisiscomm.documents.library import Library
from crisiscomm.engine.kpis import compute_kpis
from crisiscomm.office.norms import DEFAULTS, norm_problems, norms_of
from crisiscomm.store import open_store

from .report_data import closed_flood

APRIL = datetime(2027, 4, 3, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three incidents in April 2027 (quick, slower, slow), one in March, one drill."""
    path = tmp_path_factory.mktemp("report") / "office.db"
    with open_store(path, create=True) as store:
        for day, minutes in enumerate([1, 2, 4]):
            closed_flood(store, APRIL + timedelta(days=day), timedelta(minutes=minutes))
        closed_flood(store, datetime(2027, 3, 10, 6, tzinfo=UTC), timedelta(minutes=2))
        closed_flood(
            store,
            datetime(2027, 4, 20, 6, tzinfo=UTC),
            timedelta(minutes=1),
            title="EXERCISE: flood drill",
        )
    return path


def report(database: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", "--db", str(database), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_figures_agree_with_each_incidents_own_kpis(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = report(database, capsys, "--month", "2027-04", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [i["id"] for i in data["incidents"]] == [
        "INC-2027-0001",
        "INC-2027-0002",
        "INC-2027-0003",
    ]
    with open_store(database) as store:
        for incident in data["incidents"]:
            full = compute_kpis(store.events(incident["id"]))  # every event, as a drill reads
            assert incident["kpis"] == pytest.approx(full)
    for incident in [*data["incidents"], *data["drills"]["incidents"]]:
        # what the incident's own report shows (`report INCIDENT`), figure for figure
        code, own, err = report(database, capsys, incident["id"], "--format", "json")
        assert (code, err) == (0, "")
        shown = json.loads(own)
        assert shown["kpis"] == incident["kpis"]
        outside = [row["kpi"] for row in shown["norms"] if row["within"] is False]
        assert sorted(incident["outside_norm"]) == sorted(outside)
    first = next(i for i in data["indicators"] if i["indicator"] == "time_to_first_statement")
    values = sorted(i["kpis"]["time_to_first_statement"] for i in data["incidents"])
    assert first["incidents"] == 3 and first["median"] == values[1]
    assert first["within_norm"] == pytest.approx(2 / 3)  # the slow one took over an hour
    assert first["previous"]["incidents"] == 1
    slow = data["incidents"][2]
    assert "time_to_first_statement" in slow["outside_norm"]
    assert data["incidents"][0]["outside_norm"] == []
    assert [d["id"] for d in data["drills"]["incidents"]] == ["INC-2027-0005"]
    assert data["drills"]["incidents"][0]["exercise"] is True
    assert list(data["playbooks"]) == ["flood"]
    assert list(data["trend"]) == ["2027-03", "2027-04"]


def test_text_marks_misses_and_keeps_drills_apart(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = report(database, capsys, "--month", "2027-04")
    assert code == 0
    assert out.startswith("Communication report: April 1, 2027 – April 30, 2027\n")
    assert "3 incident(s) opened; previous period (March 1, 2027 – March 31, 2027): 1" in out
    assert "1 drill(s) held, reported apart" in out
    row = next(line for line in out.splitlines() if line.startswith("INC-2027-0003"))
    assert "1 hour 16 minutes!" in row
    assert "Drills (EXERCISE, not counted above)" in out
    assert "█" in out  # the share within each norm as a bar


def test_markdown_csv_and_a_playbook_filter(
    database: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _err = report(database, capsys, "--month", "2027-04", "--format", "md")
    assert code == 0 and out.startswith("# Communication report") and "| indicator | norm |" in out
    target = tmp_path / "april.csv"
    code, out, err = report(
        database,
        capsys,
        "--month",
        "2027-04",
        "--playbook",
        "flood",
        "--format",
        "csv",
        "-o",
        str(target),
    )
    assert (code, out) == (0, "") and "report written to" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["exercise"] for r in rows] == ["no", "no", "no", "yes"]
    assert float(rows[0]["time_to_first_statement"]) > 0


def test_in_russian(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--lang", "ru", "report", "--db", str(database), "--month", "2027-04"])
    out, _err = capsys.readouterr()
    assert code == 0 and "2027" in out


def test_an_empty_period_says_so_and_exits_0(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = report(database, capsys, "--month", "2026-01")
    assert (code, err) == (0, "")
    assert "No incidents were opened in this period: there is nothing to measure." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2027-05-01", "--to", "2027-04-01"],
            "crisiscomm: error: the period ends (2027-04-01) before it starts (2027-05-01)\n"
            "  hint: give --from the first day and --to the last day\n",
        ),
        (
            ["--month", "2027-13"],
            "crisiscomm: error: --month `2027-13` is not a month\n  hint: write it as 2027-04\n",
        ),
        (
            ["--from", "1 April"],
            "crisiscomm: error: --from `1 April` is not a date\n  hint: write it as 2027-04-01\n",
        ),
        (
            ["--month", "2027-04", "--to", "2027-04-30"],
            "crisiscomm: error: --month cannot be combined with --from or --to\n"
            "  hint: give a month, or the first and last day\n",
        ),
        (
            ["--month", "2027-04", "--playbook", "tsunami"],
            "crisiscomm: error: no playbook `tsunami`: no incident ran it and no playbook file "
            "has that id\n  hint: give the id of a playbook, e.g. flood\n",
        ),
    ],
)
def test_bad_periods_and_playbooks_exit_2_with_the_reason(
    database: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = report(database, capsys, *args)
    assert (code, out, err) == (2, "", message)


def test_shipped_defaults_follow_the_standard_protocol() -> None:
    norms = norms_of()
    assert set(norms) == set(DEFAULTS)
    assert norms["time_to_first_statement"].target == 3600  # the first hour
    assert norms["time_to_verification"].target == 25 * 60  # detection 10m + verification 15m
    assert norms["cadence_adherence"].at_least and norms["cadence_adherence"].target == 1
    written = norms_of({"clearance_time.legal": "20m", "escalations_fired": 1})
    assert written["clearance_time.legal"].holds(20 * 60)
    assert not written["escalations_fired"].holds(2)


def test_norm_problems_name_the_key() -> None:
    problems = norm_problems(
        {
            "time_to_first_statment": "1h",
            "cadence_adherence": "120%",
            "escalations_fired": "a few",
            "time_to_verification": "2h",
        }
    )
    assert [key for key, _m, _h in problems] == [
        "time_to_first_statment",
        "cadence_adherence",
        "escalations_fired",
        "time_to_verification",  # after the first statement's default (1h)
        "time_to_verification",  # after a rumour's correction (1h30m): rebuttals are verified
    ]
    assert problems[0][1:] == (
        "no indicator `time_to_first_statment`",
        "did you mean `time_to_first_statement`?",
    )
    assert problems[1][1] == "`120%` is not a share; write e.g. 90% or 0.9"
    assert "is due before verification" in problems[3][1]
    assert "a rumour is to be corrected (1h30m) before verification (2h)" in problems[4][1]


def test_office_norms_are_validated_at_file_and_line(tmp_path: Path) -> None:
    shipped = (Path(__file__).resolve().parents[1] / "office.yaml").read_text(encoding="utf-8")
    assert "\nnorms:\n" in shipped
    broken = shipped.replace(
        "  clearance_time.legal: 20m\n", "  clearance_time.legal: 2h\n  rumour_speed: 1h\n"
    )
    office = tmp_path / "office.yaml"
    office.write_text(broken, encoding="utf-8")
    from crisiscomm.validation import KINDS

    findings = check_file(office, Library(), KINDS)
    lines = broken.splitlines()
    texts = {(f.rule, lines[f.location.line - 1].strip(), f.message) for f in findings}
    assert (
        "office-norm",
        "clearance_time.legal: 2h",
        "one approver may take 2h (clearance_time.legal), longer than the whole time to the "
        "first statement (1h)",
    ) in texts
    assert ("office-norm", "rumour_speed: 1h", "no indicator `rumour_speed`") in texts


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
browser = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (the Debian package; CI installs it)",
)


def test_html_is_self_contained_and_escaped(
    database: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "april.html"
    code, _out, _err = report(
        database, capsys, "--month", "2027-04", "--format", "html", "-o", str(page)
    )
    html = page.read_text(encoding="utf-8")
    assert code == 0 and html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "src=" not in html and 'href="http' not in html
    assert html.count("<svg") == 3 and "@page { size: A4" in html
    assert 'class="miss"' in html


def in_chromium(page: Path, shot: Path) -> str:
    """Open a page in headless Chromium: a screenshot at A4 width (794 px) without console
    errors; the DOM as the browser built it."""
    assert CHROMIUM is not None, "CI must install chromium"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
    taken = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=794,1123", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert taken.returncode == 0, taken.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert "Uncaught" not in taken.stderr and ":CONSOLE(" not in taken.stderr
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr
    return dom.stdout


@browser
def test_html_in_headless_chromium(
    database: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "april.html"
    assert (
        report(database, capsys, "--month", "2027-04", "--format", "html", "-o", str(page))[0] == 0
    )
    dom = in_chromium(page, tmp_path / "april.png")
    for chart in ("first-statement", "trend", "approvers"):
        start = dom.index(f'id="chart-{chart}"')
        assert "<svg" in dom[start : start + 400]
