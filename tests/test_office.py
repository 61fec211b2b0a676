"""The office (issue 15): one team for every playbook, people who are who they say, acts
only by those whose role it is, and four-eyes without loopholes."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.errors import RefusedError
from crisiscomm.office.rotations import on_duty
from crisiscomm.store import Store, open_store
from tests.conftest_store import PG_URL_ENV, pg_admin_fixture  # noqa: F401 (fixture)

from .conftest import FIXTURES

TASHKENT = ZoneInfo("Asia/Tashkent")

OFFICE = """\
crisiscomm-office: 1
id: nukus-press
name: {{kaa: Nókis baspasóz xızmeti, ru: Пресс-служба Нукуса, en: Nukus press service}}
timezone: Asia/Tashkent
languages: [kaa, ru]
settings: {{acting_for: {acting_for}}}
people:
  aziz: {{name: Aziz Karimov, logins: [aziz, akarimov], aliases: [Aziz]}}
  dilnoza: {{name: Dilnoza Yusupova, logins: [dilnoza]}}
  bekzod: {{name: Bekzod Nurmatov, logins: [bekzod]}}
  rustam: {{name: Rustam Aliev, logins: [rustam, cc_legal]}}
roles:
  duty_officer: {{title: Duty press officer, members: [aziz], deputies: [bekzod]}}
  head_of_press: {{title: Head of press, members: [dilnoza]}}
  legal: {{title: Legal, members: [rustam]}}
rotations:
  duty_officer:
    every: week
    handoff: "09:00"
    start: "2026-11-30"
    order: [aziz, bekzod]
    overrides:
      - {{from: "2026-12-10 09:00", until: "2026-12-11 09:00", person: bekzod, reason: swap}}
"""


def without_team(text: str) -> str:
    """The press fixture playbook with its own roles removed: the office gives them."""
    lines, skipping = [], False
    for line in text.splitlines():
        if line.startswith("roles:"):
            skipping = True
            continue
        if skipping and not line.startswith(" "):
            skipping = False
        if not skipping:
            lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def office_repo(tmp_path: Path) -> Path:
    """An office's repository: office.yaml beside playbooks/press.yaml (no inline team)."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "office.yaml").write_text(OFFICE.format(acting_for="refused"), encoding="utf-8")
    press = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    (tmp_path / "playbooks" / "press.yaml").write_text(without_team(press), encoding="utf-8")
    return tmp_path


def allow_acting_for(repo: Path) -> None:
    (repo / "office.yaml").write_text(OFFICE.format(acting_for="allowed"), encoding="utf-8")


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The operating-system account the commands run as (read by one function)."""
    name = ["aziz"]
    monkeypatch.setattr("crisiscomm.store.store.account_name", lambda: name[0])
    monkeypatch.delenv("CRISISCOMM_ACTOR", raising=False)
    yield name


def run(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", str(repo / "office.db")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def opened(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    book = str(repo / "playbooks" / "press.yaml")
    code, out, err = run(
        repo, capsys, "open-incident", book, "--title", "Dam", "--fact", "region=Nukus",
        "--json", *extra,
    )  # fmt: skip
    assert code == 0, err
    return str(json.loads(out)["id"])


def actors(repo: Path, incident_id: str) -> list[tuple[str, str, Any]]:
    with open_store(repo / "office.db") as store:
        return [(e.type, e.actor, e.data.get("entered_by")) for e in store.events(incident_id)]


# -- rotations --------------------------------------------------------------------------------


ROTATION: dict[str, Any] = {
    "every": "week",
    "handoff": "09:00",
    "start": "2026-11-30",
    "order": ["aziz", "bekzod"],
    "overrides": [{"from": "2026-12-10 09:00", "until": "2026-12-11 09:00", "person": "bekzod"}],
}


@pytest.mark.parametrize(
    ("local", "who"),
    [
        ("2026-11-30 08:59", None),  # before the first hand-over
        ("2026-11-30 09:00", "aziz"),
        ("2026-12-07 08:59", "aziz"),
        ("2026-12-07 09:00", "bekzod"),  # weekly hand-over at 09:00 local
        ("2026-12-10 12:00", "bekzod"),  # his week anyway
        ("2026-12-14 09:00", "aziz"),  # the cycle begins again
    ],
)
def test_a_weekly_rotation_hands_over_at_the_local_time(local: str, who: str | None) -> None:
    at = datetime.fromisoformat(local).replace(tzinfo=TASHKENT).astimezone(UTC)
    assert on_duty(ROTATION, at, TASHKENT) == who


def test_an_override_puts_someone_else_on_duty_for_a_while() -> None:
    swapped = {**ROTATION, "overrides": [{**ROTATION["overrides"][0], "person": "dilnoza"}]}
    at = datetime(2026, 12, 10, 10, 0, tzinfo=TASHKENT)
    assert on_duty(swapped, at, TASHKENT) == "dilnoza"
    assert on_duty(swapped, datetime(2026, 12, 11, 9, 0, tzinfo=TASHKENT), TASHKENT) == "bekzod"


def test_oncall_names_who_is_on_duty(office_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    office = str(office_repo / "office.yaml")
    assert main(["oncall", "duty_officer", "--office", office, "--at", "2026-12-08 10:00"]) == 0
    out = capsys.readouterr().out
    assert "on duty:  Bekzod Nurmatov (bekzod)" in out
    assert "members:  Aziz Karimov (aziz)" in out
    assert main(["oncall", "--office", office, "--at", "2026-12-01 10:00", "--json"]) == 0
    roles = {r["role"]: r for r in json.loads(capsys.readouterr().out)["roles"]}
    assert roles["duty_officer"]["on_duty"] == "aziz" and roles["legal"]["on_duty"] is None
    assert main(["oncall", "press_officer", "--office", office]) == 2
    assert "the office has no role `press_officer`" in capsys.readouterr().err
    assert main(["oncall", "--office", office, "--at", "10.12.2026"]) == 2
    assert "`10.12.2026` is not a date and time" in capsys.readouterr().err


# -- the office file is checked like a playbook -----------------------------------------------


def test_validate_names_what_is_wrong_in_the_office_at_file_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office = tmp_path / "office.yaml"
    office.write_text(
        OFFICE.format(acting_for="refused")
        .replace("members: [rustam]", "members: []")
        .replace("aliases: [Aziz]", "aliases: [Aziz, dilnoza]")
        .replace("order: [aziz, bekzod]", "order: [aziz, rustam, nobody]")
        + "  legal:\n    shifts:\n"
        '      - {from: "2026-12-01 09:00", until: "2026-12-02 09:00", person: rustam}\n'
        '      - {from: "2026-12-02 10:00", until: "2026-12-03 09:00", person: rustam}\n',
        encoding="utf-8",
    )
    assert main(["validate", str(office)]) == 1
    out = capsys.readouterr().out
    for expected in [
        "office.yaml:8:72: error: `dilnoza` means both dilnoza and aziz [office-login]",
        "role `legal` has no members: nobody would be told or could act [office-empty-role]",
        "office.yaml:21:27: error: no person `nobody` in the office [office-person]",
        "rustam takes the duty_officer duty but is not in that role [office-rotation]",
        "nobody holds the legal duty from 2026-12-02 09:00 to 2026-12-02 10:00 [office-rotation]",
    ]:
        assert expected in out, out


def test_a_playbook_takes_its_team_from_the_office(
    office_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crisiscomm.playbook.compile import compile_playbook

    book = compile_playbook(office_repo / "playbooks" / "press.yaml")
    assert [m["id"] for m in book.members("duty_officer")] == ["aziz", "bekzod"]
    assert book.person_id("Aziz Karimov") == book.person_id("AKARIMOV") == "aziz"
    assert book.files[-1].endswith("office.yaml")
    press = office_repo / "playbooks" / "press.yaml"
    press.write_text(
        press.read_text(encoding="utf-8")
        + "roles:\n  legal:\n    members: [rustam, nobody]\n"
        + "  head_of_press:\n    members: [{name: Dilnoza Yusupova, login: dilnoza}]\n",
        encoding="utf-8",
    )
    assert main(["validate", str(press)]) == 1
    out = capsys.readouterr().out
    assert "no person `nobody` in the office [unknown-person]" in out
    assert "role `head_of_press` writes out its members here; the office has its people" in out


# -- who is acting -----------------------------------------------------------------------------


def test_names_that_match_nobody_are_refused_not_noted(
    office_repo: Path, account: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    allow_acting_for(office_repo)
    incident_id = opened(office_repo, capsys)
    for command in (["ack", incident_id], ["release", incident_id, "holding"]):
        code, _out, err = run(office_repo, capsys, *command, "--as", "Random Person")
        assert code == 1
        assert "`Random Person` is none of the people of the office nukus-press" in err
    assert [t for t, _a, _e in actors(office_repo, incident_id)] == ["opened"]


def test_aliases_and_full_names_are_recorded_as_the_persons_id(
    office_repo: Path, account: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    allow_acting_for(office_repo)
    account[0] = "dilnoza"  # the shared workstation's account
    incident_id = opened(office_repo, capsys, "--as", "Aziz Karimov")
    assert run(office_repo, capsys, "check", incident_id, "log_source", "--as", "AKARIMOV")[0] == 0
    assert run(office_repo, capsys, "note", incident_id, "On the phone", "--as", "Aziz")[0] == 0
    assert actors(office_repo, incident_id)[-3:] == [
        ("opened", "aziz", "dilnoza"),  # entered by the workstation's user, for aziz
        ("checked", "aziz", "dilnoza"),
        ("note", "aziz", "dilnoza"),
    ]


def test_where_the_office_refuses_acting_for_others_the_account_is_the_actor(
    office_repo: Path, account: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = opened(office_repo, capsys)  # no --as: the account `aziz`
    code, _out, err = run(office_repo, capsys, "check", incident_id, "log_source", "--as", "rustam")
    assert code == 1
    assert "you are aziz: the office does not let anyone act for someone else" in err
    assert run(office_repo, capsys, "check", incident_id, "log_source", "--as", "aziz")[0] == 0
    account[0] = "mallory"
    code, _out, err = run(office_repo, capsys, "note", incident_id, "hello")
    assert code == 1 and "the account `mallory` is none of the people of the office" in err
    assert [(t, a, e) for t, a, e in actors(office_repo, incident_id)] == [
        ("opened", "aziz", None),
        ("checked", "aziz", None),
    ]


def test_acts_belong_to_the_role_whose_they_are(
    office_repo: Path, account: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    allow_acting_for(office_repo)
    incident_id = opened(office_repo, capsys)
    code, _out, err = run(office_repo, capsys, "check", incident_id, "log_source", "--as", "rustam")
    assert code == 1
    assert "Rustam Aliev may not check `log_source`: that is for duty_officer" in err
    assert "who holds it now: duty_officer: Aziz Karimov, Bekzod Nurmatov" in err
    # the deputy stands in for the role
    assert run(office_repo, capsys, "check", incident_id, "log_source", "--as", "bekzod")[0] == 0
    code, _out, err = run(office_repo, capsys, "ack", incident_id, "--as", "rustam")
    assert code == 1 and "nothing in this state is sent to them" in err
    assert run(office_repo, capsys, "ack", incident_id, "--as", "aziz")[0] == 0


# -- four-eyes without loopholes ----------------------------------------------------------------


def test_a_draft_made_on_entering_a_state_belongs_to_whoever_entered_it(
    tmp_path: Path, store: Store, clock: SimulatedClock
) -> None:
    """The head of press cannot make a text nobody wrote and clear it alone: the draft the
    state made is the act of the person whose trigger entered it."""
    from tests.test_engine import FIXTURES as ENGINE_FIXTURES  # noqa: F401 (same fixtures)

    book = tmp_path / "book.yaml"
    press = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    book.write_text(
        press.replace(
            "    deadline: 40m\n",
            "    deadline: 40m\n    on_enter:\n      - {action: draft_statement, statement: holding}\n",
            1,
        ),
        encoding="utf-8",
    )
    incident = service.open_incident(
        store=store, clock=clock, playbook_ref=str(book), title="T", severity=None,
        facts=["region=Nukus"], actor="aziz",
    )  # fmt: skip
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident.id}
    service.check_item(**kwargs, item="log_source", actor="aziz")
    service.advance(**kwargs, trigger="confirm", note=None, actor="aziz")
    [drafted] = [e for e in store.events(incident.id) if e.type == "statement.drafted"]
    _playbook, now = service.load(store=store, incident_id=incident.id)
    assert now.data["statements"]["holding"]["versions"][0]["author"] == "aziz"
    with pytest.raises(RefusedError, match="aziz wrote a version of `holding`"):
        service.approve(**kwargs, name="holding", actor="aziz")
    assert drafted.actor == "crisiscomm"


def test_nobody_releases_alone(tmp_path: Path, store: Store, clock: SimulatedClock) -> None:
    book = tmp_path / "book.yaml"
    press = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    book.write_text(
        press.replace("    clearance: [head_of_press]\n", "    clearance: []\n"), encoding="utf-8"
    )
    incident = service.open_incident(
        store=store, clock=clock, playbook_ref=str(book), title="T", severity=None,
        facts=["region=Nukus", "evacuated=3"], actor="aziz",
    )  # fmt: skip
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident.id}
    service.draft_statement(**kwargs, statement="update", actor="aziz")
    with pytest.raises(RefusedError) as refused:
        service.release_statement(**kwargs, statement="update", actor="aziz")
    assert refused.value.message == (
        "version 1 of `update` has only aziz behind it: a release needs at least two people "
        "(its author and another who cleared or releases it)"
    )


# -- PostgreSQL: the database login is who acts ---------------------------------------------------


@pytest.fixture
def legal_login(pg_admin: Any) -> Iterator[str]:
    """A database of its own and a real login, cc_legal, that may use it."""
    name = f"office_{uuid.uuid4().hex[:12]}"
    pg_admin.execute(f"CREATE DATABASE {name}")
    pg_admin.execute("DROP ROLE IF EXISTS cc_legal")
    pg_admin.execute("CREATE ROLE cc_legal LOGIN")
    pg_admin.execute(f"GRANT ALL ON DATABASE {name} TO cc_legal")
    base = os.environ[PG_URL_ENV].rsplit("/", 1)[0].replace("postgres@", "cc_legal@")
    import psycopg

    with psycopg.connect(
        f"{os.environ[PG_URL_ENV].rsplit('/', 1)[0]}/{name}", autocommit=True
    ) as db:
        db.execute("GRANT ALL ON SCHEMA public TO cc_legal")
    try:
        yield f"{base}/{name}"
    finally:
        pg_admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        pg_admin.execute("DROP ROLE IF EXISTS cc_legal")


def test_on_postgresql_the_database_login_is_the_actor(
    office_repo: Path, legal_login: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr("crisiscomm.store.store.account_name", lambda: "aziz")  # not consulted
    monkeypatch.delenv("CRISISCOMM_ACTOR", raising=False)
    book = str(office_repo / "playbooks" / "press.yaml")
    assert main(["open-incident", book, "--title", "T", "--fact", "region=Nukus", "--db", legal_login, "--json"]) == 0  # fmt: skip
    incident_id = json.loads(capsys.readouterr().out)["id"]
    with open_store(legal_login) as store:
        assert store.identity() == "cc_legal"
        assert [(e.type, e.actor) for e in store.events(incident_id)] == [("opened", "rustam")]
    # the login is legal's: rustam may not pass himself off as the duty officer
    code = main(["check", incident_id, "log_source", "--as", "aziz", "--db", legal_login])
    assert code == 1
    assert "you are rustam: the office does not let anyone act for someone else" in (
        capsys.readouterr().err
    )


# -- notices reach the person on duty --------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "reached"),
    [
        ("2026-12-01 10:00", ["Aziz Karimov"]),  # his week
        ("2026-12-08 10:00", ["Bekzod Nurmatov"]),  # the hand-over was Monday 09:00
        ("2026-11-01 10:00", ["Bekzod Nurmatov"]),  # before the rotation starts: the deputy
    ],
)
def test_an_escalation_reaches_the_person_on_duty(
    office_repo: Path, store: Store, local: str, reached: list[str]
) -> None:
    from datetime import timedelta

    clock = SimulatedClock(datetime.fromisoformat(local).replace(tzinfo=TASHKENT).astimezone(UTC))
    incident = service.open_incident(
        store=store, clock=clock, playbook_ref=str(office_repo / "playbooks" / "press.yaml"),
        title="T", severity=None, facts=["region=Nukus"], actor="aziz",
    )  # fmt: skip
    clock.advance(timedelta(minutes=10))  # the first escalation step: to the duty officer
    service.fire_due(store=store, clock=clock)
    [reminder] = [m for m in store.outbox(incident.id) if m.payload["text"].startswith("Reminder")]
    assert reminder.payload["people"] == reached
