"""The officer's commands end to end, through the CLI, on a real SQLite file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.engine import service
from crisiscomm.engine.autopilot import Step, fact_samples, path_to, plan_transition
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.store import open_store

from .conftest import FIXTURES, REPO
from .conftest_store import disarm_event_guard

PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yaml"))


class Officer:
    """Runs crisiscomm commands against one database, as a press officer would."""

    def __init__(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.capsys = capsys

    def run(self, *args: str, actor: str = "duty") -> tuple[int, str, str]:
        reading = args[0] in {"show", "list", "timeline", "audit"} or args[:2] == (
            "statement",
            "show",
        )
        code = main([*args, "--db", str(self.db), *([] if reading else ["--as", actor])])
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str, actor: str = "duty") -> str:
        code, out, err = self.run(*args, actor=actor)
        assert code == 0, (args, actor, out, err)
        return out


def argv(step: Step, incident_id: str) -> list[str]:
    """The CLI arguments of a planned step."""
    if step.command == "draft":
        return ["statement", "draft", incident_id, *step.args]
    if step.command == "advance":
        trigger, note = step.args
        return ["advance", incident_id, trigger, "--note", note]
    return [step.command, incident_id, *step.args]


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_every_shipped_playbook_from_open_to_closed(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    playbook = compile_playbook(path)
    officer = Officer(tmp_path / "office.db", capsys)
    facts = [
        arg
        for name, value in fact_samples(playbook).items()
        for arg in ("--fact", f"{name}={value}")
    ]
    opener = str(playbook.members("duty_officer")[0]["id"])  # a person of the office
    opened = json.loads(
        officer.ok(
            "open-incident",
            path.stem,
            "--title",
            "Drill of the test suite",
            "--json",
            *facts,
            actor=opener,
        )
    )
    incident_id = opened["id"]
    assert opened["state"] == playbook.initial
    for transition in path_to(playbook, "closed"):
        with open_store(officer.db) as store:
            _playbook, incident = service.load(store=store, incident_id=incident_id)
        for step in plan_transition(playbook, incident, transition):
            officer.ok(*argv(step, incident_id), actor=step.actor)
    shown = json.loads(officer.ok("show", incident_id, "--json"))
    assert shown["state"] == "closed" and shown["closed_at"] is not None and shown["next"] == []
    assert officer.ok("audit", "verify", incident_id) == "audit: every event chain holds\n"
    listed = json.loads(officer.ok("list", "--all", "--json"))
    assert [i["id"] for i in listed] == [incident_id]
    assert (
        officer.ok("list")
        == "No open incidents. Open one with: crisiscomm open-incident PLAYBOOK --title ...\n"
    )


@pytest.fixture
def officer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Officer:
    return Officer(tmp_path / "office.db", capsys)


PRESS = str(FIXTURES / "engine" / "press.yaml")


def open_press(officer: Officer) -> str:
    out = officer.ok("open-incident", PRESS, "--title", "Dam breach", "--fact", "region=Nukus")
    return out.split()[0]


def test_open_incident_prints_id_state_owner_deadline_and_checklist(officer: Officer) -> None:
    out = officer.ok("open-incident", PRESS, "--title", "Dam breach", "--fact", "region=Nukus")
    lines = out.splitlines()
    assert lines[0] == "INC-2026-0001  Dam breach" or lines[0].endswith("  Dam breach")
    assert "  state:    detection (detection), initial" in lines
    assert "  owner:    Duty press officer (Aziz Karimov)" in lines
    assert any(
        line.startswith("  deadline: ") and "Asia/Tashkent (in 19 min" in line for line in lines
    )
    assert "    [ ] log_source: Record the source" in lines
    assert "    [ ] call_back: Call the source back (optional)" in lines
    assert "  next:     confirm, false_alarm" in lines


def test_refused_advance_exits_1_with_reasons_and_no_traceback(officer: Officer) -> None:
    incident_id = open_press(officer)
    code, out, err = officer.run("advance", incident_id, "confirm")
    assert (code, out) == (1, "")
    assert err == (
        "crisiscomm: error: `confirm` refused:\n"
        f"  - checklist item `log_source` is not done (Record the source): crisiscomm check {incident_id} log_source\n"
        "  hint: possible here: confirm, false_alarm\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["advance", "INC-2026-9999", "confirm"],
            2,
            "crisiscomm: error: no incident INC-2026-9999\n",
        ),
        (
            ["advance", "{id}", "publish"],
            1,
            "crisiscomm: error: `publish` is not possible from state detection\n",
        ),
        (
            ["check", "{id}", "nosuch"],
            1,
            "crisiscomm: error: state detection has no checklist item `nosuch`\n",
        ),
        (["set", "{id}", "evacuated"], 2, "crisiscomm: error: `evacuated` is not key=value\n"),
        (
            ["set", "{id}", "evacuated=lots"],
            2,
            "crisiscomm: error: fact `evacuated` must be a whole number; `lots` is not\n",
        ),
        (
            ["set", "{id}", "evacuated=-5"],
            2,
            "crisiscomm: error: fact `evacuated` must be at least 0; `-5` is not\n",
        ),
        (
            ["statement", "draft", "{id}", "nosuch"],
            1,
            "crisiscomm: error: playbook press has no statement `nosuch`\n",
        ),
        (
            ["statement", "show", "{id}", "holding"],
            1,
            "crisiscomm: error: statement `holding` has no draft yet\n",
        ),
        (
            ["open-incident", PRESS, "--title", "x", "--severity", "extreme", "--fact", "region=N"],
            2,
            "crisiscomm: error: unknown severity `extreme`\n",
        ),
        (
            ["open-incident", PRESS, "--title", "x"],
            2,
            "crisiscomm: error: missing required facts: region\n",
        ),
        (
            [
                "open-incident",
                str(REPO / "tests" / "broken" / "missing-states.yaml"),
                "--title",
                "x",
            ],
            1,
            f"crisiscomm: error: {REPO / 'tests' / 'broken' / 'missing-states.yaml'}:3:1: the "
            "playbook has no `states`: no incident could be opened from it [missing-states]\n",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    officer: Officer, args: list[str], code: int, message: str
) -> None:
    incident_id = open_press(officer)
    before = officer.ok("timeline", incident_id, "--json")
    got, out, err = officer.run(*[a.replace("{id}", incident_id) for a in args])
    assert (got, out) == (code, "")
    assert err.startswith(message), err
    assert "Traceback" not in err
    assert officer.ok("timeline", incident_id, "--json") == before
    assert len(json.loads(officer.ok("list", "--all", "--json"))) == 1


def test_statement_edit_reads_a_file_and_bad_files_are_refused(
    officer: Officer, tmp_path: Path
) -> None:
    incident_id = open_press(officer)
    officer.ok("check", incident_id, "log_source")
    officer.ok("advance", incident_id, "confirm")
    officer.ok("statement", "draft", incident_id, "holding", actor="aziz")
    text = tmp_path / "kaa.txt"
    text.write_text("Nókis aymaǵında hádiyse. Keyingi xabar saat 08:00.\n", encoding="utf-8")
    out = officer.ok(
        "statement",
        "edit",
        incident_id,
        "holding",
        "--lang",
        "kaa",
        "--file",
        str(text),
        actor="aziz",
    )
    assert "version 2 of 2, by aziz" in out
    assert "Nókis aymaǵında hádiyse. Keyingi xabar saat 08:00." in out
    code, _out, err = officer.run(
        "statement", "edit", incident_id, "holding", "--lang", "de", "--file", str(text)
    )
    assert (code, err.splitlines()[0]) == (
        2,
        "crisiscomm: error: `de` is not a language of playbook press",
    )
    code, _out, err = officer.run(
        "statement", "edit", incident_id, "holding", "--lang", "ru", "--file", "nosuch.txt"
    )
    assert (code, err) == (2, "crisiscomm: error: nosuch.txt: no such file\n")
    (tmp_path / "latin1.txt").write_bytes("Уровень".encode("cp1251"))
    code, _out, err = officer.run(
        "statement",
        "edit",
        incident_id,
        "holding",
        "--lang",
        "ru",
        "--file",
        str(tmp_path / "latin1.txt"),
    )
    assert code == 2 and err.endswith("latin1.txt is not UTF-8 text\n")


def test_timeline_shows_who_did_what_in_local_time(officer: Officer) -> None:
    incident_id = open_press(officer)
    officer.ok("note", incident_id, "Hokimiyat confirms shelters", actor="Aziz Karimov")
    officer.ok("ack", incident_id, actor="aziz")
    officer.ok("set", incident_id, "evacuated=120", actor="aziz")
    officer.ok("set", incident_id, "evacuated=150", actor="aziz")
    out = officer.ok("timeline", incident_id)
    lines = out.splitlines()
    # the zone named once, a line per local day, then `HH:MM  who  what`
    assert lines[:2] == [f"{incident_id}  Dam breach", "Times: Asia/Tashkent (UTC+05:00)"]
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", lines[3]), lines[3]
    events = lines[4:]
    assert [line.split()[1] for line in events] == ["duty", "Aziz", "aziz", "aziz", "aziz"]
    assert all(re.match(r"  \d\d:\d\d  ", line) for line in events)
    assert "opened “Dam breach”: playbook press (" in events[0]
    assert "severity medium, in detection; region = Nukus" in events[0]
    assert events[1].endswith("note: Hokimiyat confirms shelters")
    assert events[2].endswith("acknowledged in detection")
    assert events[4].endswith("evacuated = 150 (was 120)")
    # as a person reads it: no UTC, no reprs, no full hashes, no `key=value` dumps
    assert not re.search(r"\d{4}-\d\d-\d\dT|[0-9a-f]{64}|\{'|=[A-Za-z]", out), out


def test_audit_verify_names_an_edited_event(officer: Officer) -> None:
    import sqlite3

    incident_id = open_press(officer)
    officer.ok("note", incident_id, "first")
    officer.ok("note", incident_id, "second")
    disarm_event_guard(str(officer.db))  # as the file's owner could
    with sqlite3.connect(officer.db) as connection:
        connection.execute(
            "UPDATE events SET data = replace(data, 'first', 'edited') WHERE incident_id = ? AND seq = 2",
            (incident_id,),
        )
    code, out, _err = officer.run("audit", "verify")
    assert code == 1
    assert out.startswith(f"{incident_id}: event 2: ")


def test_actor_from_environment(
    officer: Officer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = open_press(officer)
    monkeypatch.setenv("CRISISCOMM_ACTOR", "Dilnoza Yusupova")
    assert main(["note", incident_id, "from env", "--db", str(officer.db)]) == 0
    capsys.readouterr()
    events = json.loads(officer.ok("timeline", incident_id, "--json"))
    assert events[-1]["actor"] == "Dilnoza Yusupova"


def test_database_problems_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("meeting notes\n" * 100, encoding="utf-8")
    code = main(["list", "--db", str(not_a_db)])
    _out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("crisiscomm: error: ") and "notes.txt" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["status"],
        ["show", "INC-2026-0001"],
        ["advance", "INC-2026-0001", "confirm"],
        ["outbox"],
        ["audit", "verify"],
        ["tick"],
    ],
)
def test_a_mistyped_database_path_is_an_error_not_a_new_database(
    officer: Officer,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At 3 a.m. an empty new file reads as "no incidents": only open-incident (and serve,
    which waits for incidents to come) may start a new database."""
    open_press(officer)
    typo = officer.db.with_name("ofice.db")
    for how in ("--db", "CRISISCOMM_DB"):
        if how == "--db":
            code = main([*command, "--db", str(typo)])
        else:
            monkeypatch.setenv("CRISISCOMM_DB", str(typo))
            code = main(command)
        out, err = capsys.readouterr()
        assert (code, out) == (2, ""), err
        assert err.startswith(f"crisiscomm: error: there is no database at {typo}\n"), err
        assert "hint: check --db or CRISISCOMM_DB" in err
        assert not typo.exists()


def test_open_incident_starts_a_new_database(tmp_path: Path) -> None:
    new = tmp_path / "office" / "crisiscomm.db"
    assert (
        main(["open-incident", PRESS, "--title", "t", "--fact", "region=N", "--db", str(new)]) == 0
    )
    assert new.exists()


def test_a_database_path_with_an_unknown_home_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["list", "--db", "~no-such-user-here/x.db"])
    _out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(
        "crisiscomm: error: cannot find the home folder in the database path ~no-such-user-here/x.db\n"
    )


def test_an_act_by_someone_the_playbook_does_not_list_is_noted(officer: Officer) -> None:
    """A typo in --as (or a shared machine's login) is recorded as given, and said so."""
    incident_id = open_press(officer)
    code, _out, err = officer.run("note", incident_id, "checked the levee", actor="aziz")
    assert (code, err) == (0, "")  # a member, by login
    code, _out, err = officer.run("note", incident_id, "checked the levee", actor="Aziz Karimov")
    assert (code, err) == (0, "")  # by full name
    code, _out, err = officer.run("ack", incident_id, actor="azizz")
    assert code == 0
    assert err == (
        "note: `azizz` is none of the people of playbook press; the record names them as "
        "given. --as (or CRISISCOMM_ACTOR) takes a member's login or full name\n"
    )
    events = json.loads(officer.ok("timeline", incident_id, "--json"))
    assert events[-1]["actor"] == "azizz"  # recorded as given


def test_release_says_the_notifications_wait_in_the_outbox(officer: Officer) -> None:
    incident_id = open_press(officer)
    officer.ok("check", incident_id, "log_source", actor="aziz")
    officer.ok("advance", incident_id, "confirm", actor="aziz")
    officer.ok("statement", "draft", incident_id, "holding", actor="aziz")
    officer.ok("approve", incident_id, "holding", actor="dilnoza")
    officer.ok("approve", incident_id, "holding", actor="rustam")
    assert officer.ok("release", incident_id, "holding", actor="aziz") == (
        f"{incident_id}: `holding` released; its notifications wait in the outbox until "
        "`serve` (or `tick`) sends them: `crisiscomm outbox` shows them\n"
    )
