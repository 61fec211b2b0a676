"""`crisiscomm drill` end to end: exit codes, messages, reports, coverage, skeletons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crisiscomm.cli import main

from .conftest import REPO

FLOOD = REPO / "drills" / "flood-amu-darya.yaml"
RUMOUR = REPO / "drills" / "false-rumour-fake-decree.yaml"
FLOOD_PLAYBOOK = REPO / "playbooks" / "flood.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["drill", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_a_drill_prints_timeline_and_after_action_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, str(RUMOUR))
    assert (code, err) == (0, "")
    assert out.startswith(
        "# After-action report: Forged decree on flour rationing (Telegram, 24 h)\n"
    )
    # the scripted expectations hold; the deadlines the team missed on the way are named
    assert "**PASSED: every expectation met — 4 deadline(s) missed (see below)**" in out
    assert "Times: Asia/Tashkent (UTC+05:00)" in out  # local times beside the offsets
    assert (
        "| 06.04.2026 07:47 | T+7m30s | deadline of detect | T+7m30s |"
        " duty_officer, head_of_press |" in out
    )
    assert "| deadline of rebut at T+1h17m30s (due T+1h17m30s) |  |  |  |" in out  # to improve
    assert "| 07:50 | T+10m | inurjanov | transition | assess: detect -> assess |" in out
    assert out.index("## Improvement plan") < out.index("## Timeline")  # the summary first


def test_several_drills_one_line_each_and_a_report_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, str(FLOOD), str(RUMOUR), "--report", "aar.md")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("PASS ") for line in lines)
    assert "expectations met" in lines[0]
    text = (tmp_path / "aar.md").read_text(encoding="utf-8")
    assert text.count("# After-action report: ") == 2
    assert "## Improvement plan" in text


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, str(RUMOUR), "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"] is True and data["playbook"] == "false-rumour"
    assert {"timeline", "injects", "kpis", "objectives", "escalations", "checks"} <= set(data)


def test_a_failed_expectation_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = RUMOUR.read_text(encoding="utf-8").replace(
        "playbook: false-rumour", f"playbook: {REPO / 'playbooks' / 'false-rumour.yaml'}"
    )
    path = tmp_path / "strict.yaml"
    path.write_text(
        text.replace("time_to_first_statement <= 2h", "time_to_first_statement <= 30m"),
        encoding="utf-8",
    )
    code, out, _err = run(capsys, str(path), str(RUMOUR))
    assert code == 1
    assert out.splitlines()[0].startswith("FAIL strict.yaml: ")
    assert "strict.yaml:" in out and "time_to_first_statement <= 30m: measured 1h20m" in out


def test_drill_refuses_the_officers_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from crisiscomm.store import default_db_path

    monkeypatch.setenv("CRISISCOMM_DB", str(tmp_path / "office.db"))
    code, _out, err = run(capsys, str(RUMOUR), "--db", str(default_db_path()))
    assert code == 2
    assert "a drill never runs in the officers' database" in err
    assert not (tmp_path / "office.db").exists()


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "crisiscomm-drill: 1\n"
        f"playbook: {FLOOD_PLAYBOOK}\n"
        "title: Bad\n"
        'start: "2026-04-03 03:00"\n'
        "duration: 2h\n"
        "injects:\n"
        "  - {id: call, at: 0m, source: ops, channel: phone, text: x, facts: {district: beruniy, hotline: '1'}}\n"
        + body,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "responses:\n  - {at: 5m, as: x, command: advance confrim}\n",
            "bad.yaml:9:30: unknown trigger `confrim` in playbook flood\n  hint: did you mean `confirm`?",
        ),
        (
            "responses:\n  - {at: 5 minutes, as: x, command: ack}\n",
            "bad.yaml:9:10: `5 minutes` is not a duration; write e.g. 30s, 15m, 2h, 1d, 1h30m or PT15M",
        ),
        (
            "responses:\n  - {at: 3h, as: x, command: ack}\n",
            "bad.yaml:9:10: `3h` is after the end of the exercise (2h)",
        ),
        (
            "responses:\n  - {at: 5m, as: x, command: dance}\n",
            "bad.yaml:9:30: unknown command `dance`",
        ),
        (
            "expectations:\n  kpis: [time_to_lunch <= 5m]\n",
            "bad.yaml:9:10: unknown KPI `time_to_lunch`",
        ),
        (
            "responses:\n  - {at: 5m, as: x, comand: ack}\n",
            "bad.yaml:9:21: unknown key `comand` in responses.0",
        ),
        ("responses: [\n", "bad.yaml:9:1: YAML syntax error"),
    ],
    ids=["trigger", "offset", "after-end", "command", "kpi", "schema", "yaml"],
)
def test_bad_scenarios_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    code, out, err = run(capsys, str(scenario(tmp_path, body)))
    assert (code, out) == (2, "")
    assert err.startswith("crisiscomm: error: ")
    assert message in err


def test_unknown_playbook_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, "").read_text(encoding="utf-8").replace(str(FLOOD_PLAYBOOK), "nosuch")
    (tmp_path / "bad.yaml").write_text(path, encoding="utf-8")
    code, _out, err = run(capsys, "bad.yaml")
    assert code == 2
    assert "bad.yaml:2:11: playbook `nosuch`: no playbook with id `nosuch`" in err
    code, _out, err = run(capsys, "missing.yaml")
    assert code == 2 and "missing.yaml: no such file or folder" in err


def test_validate_checks_drills_with_the_drill_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(REPO / "drills")]) == 0
    assert "no problems found" in capsys.readouterr().out
    bad = scenario(tmp_path, "responses:\n  - {at: 5m, as: x, command: advance confrim}\n")
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "bad.yaml:9:30: error: unknown trigger `confrim` in playbook flood [drill]" in out


def test_coverage_of_the_shipped_drills(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--coverage", str(REPO / "drills"), "--json")
    assert code == 0
    by_playbook = {entry["playbook"]: entry for entry in json.loads(out)}
    assert by_playbook["flood"]["states"] == {"total": 10, "exercised": 9}
    assert by_playbook["flood"]["missed_states"] == ["closed_false_alarm"]
    assert by_playbook["false-rumour"]["transitions"] == {"total": 11, "exercised": 5}
    code, out, _err = run(capsys, "--coverage", str(RUMOUR))
    assert out.splitlines()[0] == "false-rumour: states 6/8, transitions 5/11 (1 drill(s))"


def test_generated_skeletons_reach_every_state_and_run_green(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(
        capsys, "generate", str(REPO / "playbooks" / "false-rumour.yaml"), "-o", "gen"
    )
    assert code == 0
    files = sorted(p.name for p in (tmp_path / "gen").glob("*.yaml"))
    assert len(files) == 7 and "false-rumour-closed_escalated.yaml" in files
    assert "wrote gen/false-rumour-monitor.yaml (reaches monitor)" in out
    code, out, _err = run(capsys, "gen")
    assert code == 0 and out.count("PASS ") == 7
    code, out, _err = run(capsys, "--coverage", "gen")
    assert out.splitlines()[0].startswith("false-rumour: states 8/8, ")
    code, _out, err = run(capsys, "generate", "false-rumour", "-o", "gen")
    assert code == 2 and "exists" in err and "--force" in err


@pytest.mark.parametrize("args", [[], ["run"], ["generate"]])
def test_help_has_examples(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, _err = run(capsys, *args, "--help")
    assert code == 0 and "Example" in out


def test_a_bad_fact_at_opening_names_the_inject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, "")
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "hotline: '1'}", "hotline: '1', water_level_cm: lots}"
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert "bad.yaml:7:5: the incident cannot be opened: " in err and "water_level_cm" in err


def test_a_bad_fact_in_a_later_inject_fails_the_drill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "  - {id: gauge, at: 30m, source: hydromet, channel: bulletin, text: y, facts: {water_level_cm: lots}}\n"
    code, out, _err = run(capsys, str(scenario(tmp_path, body)))
    assert code == 1
    assert "| NOT MET | response | inject gauge | refused at T+30m: " in out


def test_an_unwritable_report_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, str(FLOOD), "--report", "no/such/dir/after-action.md")
    assert code == 2
    assert err.startswith(
        "crisiscomm: error: cannot write no/such/dir/after-action.md: No such file or directory\n"
    )
