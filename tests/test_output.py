from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from jsonschema.validators import validator_for

from crisiscomm.documents.kinds import Report
from crisiscomm.documents.output import render
from crisiscomm.validation import check_paths

from .conftest import REPO

Write = Callable[[str, str], Path]
SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

BROKEN = """
crisiscomm: 1
id: book
extends: base
timezone: Asia/Tashkent
states:
  detection:
    deadline: 10 min
  limbo: {owner: duty_officer, deadline: 1h}
"""


@pytest.fixture
def report(write: Write) -> Report:
    write(
        "protocols/base.yaml", (REPO / "tests/fixtures/good/base.yaml").read_text(encoding="utf-8")
    )
    write("playbooks/book.yaml", BROKEN)
    return check_paths([Path("playbooks")])


def test_text_shows_location_source_line_caret_and_hint(report: Report) -> None:
    text = render(report, "text")
    assert (
        "playbooks/book.yaml:7:15: error: `10 min` is not a duration; "
        "write e.g. 30s, 15m, 2h, 1d, 1h30m or PT15M [invalid-duration]\n"
        "     7 |     deadline: 10 min\n"
        "       |               ^\n"
    ) in text
    assert (
        "playbooks/book.yaml:8:3: error: state `limbo` is not final but no trigger leads out of it [dead-end]"
        in text
    )
    assert "       = hint: add a transition from `limbo`, or mark it `final: true`\n" in text
    assert text.endswith("1 file checked: 2 errors, 1 warning\n")
    assert "\x1b[" not in text


def test_text_in_colour_only_when_asked(report: Report) -> None:
    assert "\x1b[" in render(report, "text", color=True)


def test_json(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert data["files"] == ["playbooks/book.yaml"]
    assert {
        "file": "playbooks/book.yaml",
        "line": 8,
        "column": 3,
        "rule": "dead-end",
    }.items() <= data["findings"][1].items()
    assert {f["severity"] for f in data["findings"]} == {"error", "warning"}


def test_github_annotations(report: Report) -> None:
    lines = render(report, "github").splitlines()
    assert lines[0].startswith(
        "::error file=playbooks/book.yaml,line=7,col=15,title=invalid-duration::`10 min` is not a duration"
    )
    assert any(
        line.startswith("::warning file=playbooks/book.yaml,line=8,col=3,title=unreachable-state::")
        for line in lines
    )


def test_github_escapes_newlines_and_percent() -> None:
    from crisiscomm.documents.findings import Finding
    from crisiscomm.documents.source import Location

    report = Report(
        ["a,b.yaml"], [Finding(Location("a,b.yaml", 1, 1), "schema", "100% bad\nreally")]
    )
    assert (
        render(report, "github")
        == "::error file=a%2Cb.yaml,line=1,col=1,title=schema::100%25 bad%0Areally\n"
    )


def test_sarif_is_valid_against_the_official_schema(report: Report) -> None:
    if not SARIF_SCHEMA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SARIF_SCHEMA} is missing in CI")
        pytest.skip("../shared/schemas is not beside this checkout")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    sarif = json.loads(render(report, "sarif"))
    validator_cls = validator_for(schema)
    errors = [e.message for e in validator_cls(schema).iter_errors(sarif)]
    assert errors == []
    run = sarif["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    result = run["results"][0]
    assert rules[result["ruleIndex"]] == result["ruleId"] == "invalid-duration"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 7,
        "startColumn": 15,
    }


def test_junit_has_a_failure_per_error(report: Report) -> None:
    root = ElementTree.fromstring(render(report, "junit").split("?>", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "1"
    failures = root.findall(".//failure")
    assert [f.get("type") for f in failures] == ["invalid-duration", "dead-end"]
    assert len(root.findall(".//system-out")) == 1


def test_clean_report_in_every_format(write: Write) -> None:
    write(
        "playbooks/base.yaml", (REPO / "tests/fixtures/good/base.yaml").read_text(encoding="utf-8")
    )
    report = check_paths([Path("playbooks")])
    assert render(report, "text") == "1 file checked: no problems found\n"
    assert json.loads(render(report, "json"))["findings"] == []
    assert render(report, "github") == ""
    assert json.loads(render(report, "sarif"))["runs"][0]["results"] == []
    assert 'failures="0"' in render(report, "junit")


def test_junit_strict_makes_warnings_failures(report: Report) -> None:
    root = ElementTree.fromstring(render(report, "junit", strict=True).split("?>", 1)[1])
    assert [f.get("type") for f in root.findall(".//failure")] == [
        "invalid-duration",
        "dead-end",
        "unreachable-state",
    ]


def test_junit_strict_counts_files_with_warnings_as_failed(write: Write) -> None:
    base = (REPO / "tests/fixtures/good/base.yaml").read_text(encoding="utf-8")
    write("warn.yaml", base.replace("    deadline: 45m\n", ""))
    report = check_paths([Path("warn.yaml")])
    assert 'failures="0"' in render(report, "junit")
    assert 'failures="1"' in render(report, "junit", strict=True)
