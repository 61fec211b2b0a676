"""Citizens' personal data in the register: shown to the assignee only, erased on request
or after the retention period with the chain still whole, exported to the person."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.inbox.privacy import erase_expired, viewer
from crisiscomm.inbox.register import compiled_register
from crisiscomm.inbox.service import Entry, act, add
from crisiscomm.inbox.timers import fire_due
from crisiscomm.office.find import compiled_office, find_office
from crisiscomm.store import Store
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2027, 3, 5, 5, 0, tzinfo=UTC)
NAME, CONTACT = "Ali Valiev", "+998901112233"
Run = Callable[..., tuple[int, str, str]]
ADD = (
    "add", "appeal", "--received", "2027-03-05 10:00", "--channel", "portal",
    "--source", "my.gov.uz", "--language", "kaa", "--subject", "Ishimlik suw",
    "--text", "Awılda suw joq", "--name", NAME, "--contact", CONTACT,
)  # fmt: skip


@pytest.fixture(name="cli")
def cli_fixture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("CRISISCOMM_DB", str(tmp_path / "inbox.db"))
    monkeypatch.setenv("CRISISCOMM_ACTOR", "asultanova")

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
        code = main([*args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_contacts_are_shown_to_the_assignee_only(cli: Run) -> None:
    assert cli("inbox", *ADD)[0] == 0
    seen = [
        cli("inbox", "list")[1],
        cli("inbox", "list", "--json")[1],
        cli("inbox", "search", "suw", "--json")[1],
        cli("inbox", "show", "INB-2027-0001")[1],
        cli("inbox", "show", "INB-2027-0001", "--json")[1],
    ]
    assert all(CONTACT not in out and NAME not in out for out in seen), seen
    assert "held; shown to the assignee only" in seen[3]
    assert cli("inbox", "assign", "INB-2027-0001", "qjumaniyazov")[0] == 0
    out = cli("inbox", "show", "INB-2027-0001")[1]
    assert CONTACT not in out  # asultanova is not the assignee
    out = cli("inbox", "show", "INB-2027-0001", "--as", "qjumaniyazov")[1]
    assert f"name and contact: {NAME}, {CONTACT}" in out
    shown = json.loads(cli("inbox", "show", "INB-2027-0001", "--as", "qjumaniyazov", "--json")[1])
    assert shown["person"] == {"name": NAME, "contact": CONTACT}


class _Identity:
    def __init__(self, login: str) -> None:
        self.login = login

    def identity(self) -> str:
        return self.login


def test_the_viewer_is_who_the_identity_is_unless_acting_for_others_is_allowed() -> None:
    from crisiscomm.engine.identity import Actor

    office = compiled_office(find_office(None))
    strict = replace(office, acting_for_allowed=False)
    claimed = Actor.of("qjumaniyazov", named=True)
    login = Actor.of("asultanova", named=False)
    store = _Identity("asultanova")
    assert viewer(store=store, office=strict, actor=claimed) == "asultanova"  # type: ignore[arg-type]
    assert viewer(store=store, office=office, actor=claimed) == "qjumaniyazov"  # type: ignore[arg-type]
    assert viewer(store=store, office=strict, actor=login) == "asultanova"  # type: ignore[arg-type]
    nobody = _Identity("root")
    assert viewer(store=nobody, office=strict, actor=claimed) is None  # type: ignore[arg-type]


def test_erasing_on_request_keeps_the_chain_whole(cli: Run) -> None:
    cli("inbox", *ADD)
    code, out, _err = cli("inbox", "erase", "INB-2027-0001", "--reason", "letter 12/3")
    assert (code, out) == (0, "INB-2027-0001: the name and contact are erased\n")
    assert cli("audit", "verify")[:2] == (0, "audit: every event chain holds\n")
    shown = json.loads(cli("inbox", "show", "INB-2027-0001", "--json")[1])
    assert shown["person"] == "erased"
    out = cli("inbox", "show", "INB-2027-0001")[1]
    assert "name and contact: erased" in out and "asultanova  inbox.erased" in out
    code, _out, err = cli("inbox", "erase", "INB-2027-0001", "--reason", "again")
    assert code == 1 and "was erased already" in err
    assert cli("audit", "verify")[0] == 0


def test_erasing_is_refused_with_nothing_changed(cli: Run, tmp_path: Path) -> None:
    cli("inbox", *ADD)
    db = str(tmp_path / "inbox.db")
    before = sql(db, "SELECT * FROM inbox_people"), sql(db, "SELECT count(*) FROM inbox_events")
    code, out, err = cli("inbox", "erase", "INB-2027-0042", "--reason", "asked")
    assert (code, out) == (1, "") and "no register item INB-2027-0042" in err
    code, _out, err = cli("inbox", "erase", "INB-2027-0001")
    assert code == 1 and "give the reason for erasing" in err
    code, _out, err = cli("inbox", "erase", "INB-2027-0001", "--expired")
    assert code == 2 and "give an item id, or --expired" in err
    after = sql(db, "SELECT * FROM inbox_people"), sql(db, "SELECT count(*) FROM inbox_events")
    assert after == before
    cli("inbox", *ADD[:-4])  # no name, no contact
    code, _out, err = cli("inbox", "erase", "INB-2027-0002", "--reason", "asked")
    assert code == 1 and "INB-2027-0002 holds no name or contact" in err


def test_export_person_by_name_or_contact(cli: Run) -> None:
    cli("inbox", *ADD)
    code, out, _err = cli("inbox", "export-person", "+998 90 111-22-33")
    assert code == 0
    [record] = json.loads(out)
    assert record["person"] == {"name": NAME, "contact": CONTACT}
    assert record["item"]["id"] == "INB-2027-0001" and record["item"]["text"] == "Awılda suw joq"
    assert [e["type"] for e in record["log"]] == ["inbox.received", "inbox.exported"]
    assert json.loads(cli("inbox", "export-person", "ali  VALIEV")[1])[0]["person"]["name"] == NAME
    code, out, err = cli("inbox", "export-person", "Vali Aliev")
    assert (code, json.loads(out)) == (1, []) and "holds no name or contact" in err
    cli("inbox", "erase", "INB-2027-0001", "--reason", "asked")
    assert cli("inbox", "export-person", NAME)[0] == 1  # erased: nothing held
    assert cli("audit", "verify")[0] == 0


def test_erasing_after_the_retention_period(store: Store) -> None:
    register = compiled_register(REPO / "inbox.yaml")
    assert register.retention == {"months": 36}
    clock = SimulatedClock(T0)
    entry = Entry(
        kind="question",
        received_at=T0,
        channel="hotline",
        source="1050",
        language="ru",
        subject="Вода",
        text="Когда?",
        name=NAME,
        contact=CONTACT,
    )
    added = add(store=store, register=register, clock=clock, actor="a", entries=[entry, entry])
    old, recent = (item.id for item, _new in added)
    for item_id, at in ((old, T0), (recent, T0 + timedelta(days=400))):
        act(
            store=store,
            register=register,
            clock=SimulatedClock(at),
            actor="a",
            item_id=item_id,
            trigger="answer",
            answer="Завтра.",
        )
        act(
            store=store,
            register=register,
            clock=SimulatedClock(at),
            actor="a",
            item_id=item_id,
            trigger="close",
        )
    later = SimulatedClock(T0 + timedelta(days=3 * 365 + 10))
    assert erase_expired(store=store, register=register, clock=later, actor="a") == [old]
    assert erase_expired(store=store, register=register, clock=later, actor="a") == []
    [erased] = [e for e in store.inbox_events(old) if e.type == "inbox.erased"]
    assert erased.data["reason"] == "the retention period ended"
    people = {item_id: p for item_id, p in store.inbox_people_held()}
    assert set(people) == {recent}
    assert store.verify_chain() == []


def test_personal_data_stays_out_of_every_other_table_and_the_logs(
    store: Store, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    register = compiled_register(REPO / "inbox.yaml")
    office = compiled_office(find_office(None))
    clock = SimulatedClock(T0)
    entry = Entry(
        kind="appeal",
        received_at=T0,
        channel="portal",
        source="my.gov.uz",
        language="kaa",
        subject="Suw",
        text="Qashan?",
        name=NAME,
        contact=CONTACT,
        assignee=None,
    )
    [(item, _new)] = add(store=store, register=register, clock=clock, actor="a", entries=[entry])
    act(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        item_id=item.id,
        trigger="assign",
        assignee="qjumaniyazov",
    )
    clock.advance(timedelta(days=40))
    fire_due(store=store, register=register, clock=clock, office=office)  # reminder, overdue
    if target.startswith("postgresql://"):
        tables = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
    dumped = {
        name: str(sql(target, f"SELECT * FROM {name}"))
        for (name,) in sql(target, tables)
        if name != "inbox_people"
    }
    assert "inbox_events" in dumped and "outbox" in dumped
    for name, rows in dumped.items():
        assert CONTACT not in rows and NAME not in rows, name
    assert CONTACT not in caplog.text and NAME not in caplog.text
