"""`statement withdraw` and `statement correct`: two people withdraw, a correction is marked
before clearance, and every refusal says why, exits 1 (2 for bad input) and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import open_store

from .test_publish import Office, holding_released

# before the wall clock the CLI's acts are stamped with
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, str]:
    """A database with one incident whose holding statement is released."""
    db = tmp_path / "office.db"
    with open_store(db) as store:
        incident_id = holding_released(Office(store, SimulatedClock(START)), "Flood", "Nukus")
    return db, incident_id


def snapshot(db: Path, incident_id: str) -> tuple[int, int, int]:
    """What a refused act must leave alone: the incident's version, events and outbox."""
    with open_store(db) as store:
        incident = store.get_incident(incident_id)
        return incident.version, len(store.events(incident_id)), len(store.outbox(incident_id))


def run(
    capsys: pytest.CaptureFixture[str], db: Path, *args: str, actor: str
) -> tuple[int, str, str]:
    code = main([*args, "--as", actor, "--db", str(db)])
    said = capsys.readouterr()
    return code, said.out, said.err


def refused(
    capsys: pytest.CaptureFixture[str],
    db: Path,
    incident_id: str,
    *args: str,
    actor: str,
    code: int = 1,
) -> str:
    before = snapshot(db, incident_id)
    exit_code, _out, err = run(capsys, db, *args, actor=actor)
    assert exit_code == code, err
    assert "Traceback" not in err
    assert snapshot(db, incident_id) == before
    return err


def test_a_withdrawal_takes_two_people(
    office: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, iid = office
    withdraw = ("statement", "withdraw", iid, "holding")
    # the duty officer drafted it: withdrawing is for the head of press
    err = refused(capsys, db, iid, *withdraw, "--reason", "Wrong region", actor="aziz")
    assert "may not withdraw `holding`: that is for head_of_press" in err
    err = refused(capsys, db, iid, *withdraw, actor="dilnoza", code=2)
    assert "--reason is empty: the public reads it beside the statement" in err
    err = refused(capsys, db, iid, *withdraw, "--reason", " \u200b ", actor="dilnoza", code=2)
    assert "--reason is empty" in err

    code, out, err = run(capsys, db, *withdraw, "--reason", "Wrong region", actor="dilnoza")
    assert code == 0, err
    assert f"{iid}: withdrawal of `holding` proposed by dilnoza" in out
    with open_store(db) as store:
        proposed = store.events(iid)[-1]
        assert proposed.type == "statement.withdrawal_proposed"
        assert proposed.data["reason"] == "Wrong region"
        assert not [m for m in store.outbox(iid) if "withdrawn" in m.idempotency_key]

    err = refused(capsys, db, iid, *withdraw, actor="dilnoza")
    assert "proposed this withdrawal and may not confirm it alone (four-eyes)" in err
    err = refused(capsys, db, iid, *withdraw, "--reason", "Other", actor="rustam")
    assert "the withdrawal was proposed with another reason: Wrong region" in err

    code, out, err = run(capsys, db, *withdraw, actor="rustam")
    assert code == 0, err
    assert f"{iid}: `holding` withdrawn" in out
    with open_store(db) as store:
        withdrawn = store.events(iid)[-1]
        assert withdrawn.type == "statement.withdrawn"
        assert withdrawn.actor == "rustam"
        assert withdrawn.data["reason"] == "Wrong region"
        assert withdrawn.data["proposed_by"] == "dilnoza"
        assert withdrawn.data["version"] == 1
        told = [m for m in store.outbox(iid) if ":withdrawn:" in m.idempotency_key]
        assert [(m.channel, m.recipient) for m in told] == [("console", "public")]
        assert told[0].payload["withdrawn"] is True
        assert told[0].payload["reason"] == "Wrong region"
        assert store.verify_chain(iid) == []
        record = store.get_incident(iid).data["statements"]["holding"]
        assert "withdrawal" not in record and len(record["withdrawn"]) == 1

    err = refused(capsys, db, iid, *withdraw, "--reason", "Again", actor="dilnoza")
    assert "version 1 of `holding` is already withdrawn" in err


def test_a_statement_never_released_is_not_withdrawn(
    office: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, iid = office
    err = refused(
        capsys, db, iid, "statement", "withdraw", iid, "update", "--reason", "x", actor="dilnoza"
    )
    assert "`update` was never released; there is nothing to withdraw" in err
    err = refused(
        capsys, db, iid, "statement", "withdraw", iid, "nosuch", "--reason", "x", actor="dilnoza"
    )
    assert "has no statement `nosuch`" in err


def test_a_correction_is_marked_before_clearance_and_cleared(
    office: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, iid = office
    correct = ("statement", "correct", iid, "holding")
    err = refused(capsys, db, iid, *correct, "--correction-note", "The region", actor="aziz")
    assert "version 1 of `holding` is the released text itself" in err
    err = refused(
        capsys,
        db,
        iid,
        "statement",
        "correct",
        iid,
        "update",
        "--correction-note",
        "x",
        actor="aziz",
    )
    assert "`update` was never released; there is nothing to correct" in err

    fixed = tmp_path / "en.txt"
    fixed.write_text("Incident in Nukus district. Hotline: +998 61 222-10-50.", encoding="utf-8")
    code, _out, err = run(
        capsys,
        db,
        "statement",
        "edit",
        iid,
        "holding",
        "--lang",
        "en",
        "--file",
        str(fixed),
        actor="aziz",
    )
    assert code == 0, err
    err = refused(capsys, db, iid, *correct, "--correction-note", "", actor="aziz", code=2)
    assert "--correction-note is empty" in err
    err = refused(capsys, db, iid, *correct, "--correction-note", "x", actor="rustam")
    assert "may not correct `holding`" in err

    code, out, err = run(
        capsys, db, *correct, "--correction-note", "The district, not the city", actor="aziz"
    )
    assert code == 0, err
    assert "is marked as a correction" in out
    # a correction without clearance does not go out
    err = refused(capsys, db, iid, "release", iid, "holding", actor="aziz")
    assert "version 2 of `holding` is not cleared: waiting for head_of_press, legal" in err

    assert run(capsys, db, "approve", iid, "holding", actor="dilnoza")[0] == 0
    # once in clearance the note is fixed: it is cleared with the text
    err = refused(capsys, db, iid, *correct, "--correction-note", "Changed", actor="aziz")
    assert "already in clearance" in err
    assert run(capsys, db, "approve", iid, "holding", actor="rustam")[0] == 0
    code, _out, err = run(capsys, db, "release", iid, "holding", actor="aziz")
    assert code == 0, err
    with open_store(db) as store:
        version = store.get_incident(iid).data["statements"]["holding"]["versions"][-1]
        assert version["correction"]["corrects"] == 1
        assert version["correction"]["note"] == "The district, not the city"
        marked = [e for e in store.events(iid) if e.type == "statement.correction_marked"]
        assert [e.data["corrects"] for e in marked] == [1]
        assert store.verify_chain(iid) == []


def test_a_closed_incidents_statement_can_still_be_withdrawn(tmp_path: Path) -> None:
    """A wrong statement found after closing is still taken back: the record stays public."""
    db = tmp_path / "office.db"
    with open_store(db) as store:
        office = Office(store, SimulatedClock(START))
        iid = holding_released(office, "Flood", "Nukus")
        office.act(service.advance, "aziz", incident_id=iid, trigger="publish", note=None)
        office.act(service.advance, "dilnoza", incident_id=iid, trigger="close", note=None)
        office.act(
            service.withdraw_statement,
            "dilnoza",
            incident_id=iid,
            statement="holding",
            reason="Wrong",
        )
        office.act(
            service.withdraw_statement, "rustam", incident_id=iid, statement="holding", reason=None
        )
        office.clock.advance(timedelta(minutes=1))
        assert store.events(iid)[-1].type == "statement.withdrawn"
