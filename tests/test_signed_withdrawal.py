"""Signed withdrawals and corrections (issue 20): where the office requires signatures, both
people who withdraw a released statement sign with their own key (the reason, and who
proposed it), and a correction's approvals and release sign its public note with the text;
a missing or wrong key is refused with nothing written, `audit verify` catches an act
slipped in unsigned or a note changed after clearance, and `ssh-keygen -Y verify` checks
the export."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crisiscomm.engine.signatures import NAMESPACE, signed_text
from crisiscomm.office.signing import sign
from crisiscomm.store import open_store
from crisiscomm.store.rows import EventRow, NewEvent
from tests.test_office import run, without_team
from tests.test_signed_clearance import (  # noqa: F401 (fixture keys, used by name)
    PASSPHRASE,
    act,
    drafted,
    events,
    keys_fixture,
    office_text,
    refused,
)

from .conftest import FIXTURES

REASON = "The evacuation figures were wrong"
NOTE = "Beruniy district, not Nukus"


def released(repo: Path, capsys: pytest.CaptureFixture[str], keys: Path) -> str:
    """An incident whose holding statement is cleared and released, every act signed."""
    incident_id = drafted(repo, capsys)
    clear(repo, capsys, keys, incident_id)
    return incident_id


def clear(repo: Path, capsys: pytest.CaptureFixture[str], keys: Path, incident_id: str) -> None:
    """Approve (head of press, then legal) and release holding's newest version, signed."""
    for who in ["dilnoza", "rustam"]:
        code, _out, err = act(
            repo, capsys, keys, "approve", incident_id, "holding", who=who, key=who
        )
        assert code == 0, err
    code, _out, err = act(
        repo, capsys, keys, "release", incident_id, "holding", who="aziz", key="aziz"
    )
    assert code == 0, err


def forge(repo: Path, incident_id: str, event: NewEvent) -> int:
    """Append an event straight to the database, as a tamperer could; its seq."""
    with open_store(repo / "office.db") as store:
        incident = store.get_incident(incident_id)
        store.commit(
            incident=incident, expected_version=incident.version, events=[event],
            timers=[], retire_timers=False, outbox=[],
        )  # fmt: skip
        return store.events(incident_id)[-1].seq


@pytest.fixture(name="repo")
def repo_fixture(tmp_path: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An office that requires signatures, its press playbook, aziz at the keyboard;
    Dilnoza's key has a passphrase (given), the others' have none."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "office.yaml").write_text(office_text(keys), encoding="utf-8")
    press = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    (tmp_path / "playbooks" / "press.yaml").write_text(without_team(press), encoding="utf-8")
    monkeypatch.setattr("crisiscomm.store.store.account_name", lambda: "aziz")
    for name in ["CRISISCOMM_ACTOR", "CRISISCOMM_KEY"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRISISCOMM_KEY_PASSPHRASE", PASSPHRASE)
    return tmp_path


def test_both_people_sign_a_withdrawal_and_bad_keys_are_refused(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = released(repo, capsys, keys)
    withdraw = ("statement", "withdraw", incident_id, "holding")
    propose = (*withdraw, "--reason", REASON)
    err = refused(repo, capsys, keys, incident_id, *propose, who="dilnoza", key="nosuch")
    assert "the office requires signed clearance, and your key " in err
    assert "give your Ed25519 private key with --key FILE or CRISISCOMM_KEY" in err
    err = refused(repo, capsys, keys, incident_id, *propose, who="dilnoza", key="aziz")
    assert "the signature was made with Aziz Karimov's key, not with Dilnoza Yusupova's" in err
    assert "sign with your own key: --key FILE (or CRISISCOMM_KEY)" in err
    code, out, err = act(repo, capsys, keys, *propose, who="dilnoza", key="dilnoza")
    assert code == 0, err
    assert "withdrawal of `holding` proposed by dilnoza" in out

    # the second person signs too: a revoked key or a stranger's is refused
    err = refused(repo, capsys, keys, incident_id, *withdraw, who="rustam", key="rustam_old")
    assert "Rustam Aliev's key SHA256:" in err and "was revoked on 2020-01-01" in err
    err = refused(repo, capsys, keys, incident_id, *withdraw, who="rustam", key="stranger")
    assert "the signature was made with a key (SHA256:" in err
    assert "that is none of Rustam Aliev's keys" in err
    code, out, err = act(repo, capsys, keys, *withdraw, who="rustam", key="rustam")
    assert code == 0, err
    assert "`holding` withdrawn" in out

    proposal, confirmation = [
        e for e in events(repo, incident_id) if e.type.startswith("statement.withdr")
    ]
    assert "signature" in proposal.data and "signature" in confirmation.data
    digest = proposal.data["hash"]
    assert (
        signed_text(incident_id, proposal.type, proposal.actor, proposal.data)
        == (
            "crisiscomm signed clearance: 1\n"
            f"incident: {incident_id}\n"
            "statement: holding\n"
            "version: 1\n"
            f"hash: sha256:{digest}\n"
            'reason: "The evacuation figures were wrong"\n'
            "role: head_of_press\n"
            "decision: propose withdrawal\n"
            "person: dilnoza\n"
        ).encode()
    )
    assert (
        signed_text(incident_id, confirmation.type, confirmation.actor, confirmation.data)
        == (
            "crisiscomm signed clearance: 1\n"
            f"incident: {incident_id}\n"
            "statement: holding\n"
            "version: 1\n"
            f"hash: sha256:{digest}\n"
            'reason: "The evacuation figures were wrong"\n'
            "proposed by: dilnoza\n"
            "role: legal\n"
            "decision: withdraw\n"
            "person: rustam\n"
        ).encode()
    )
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert (code, out) == (0, "audit: every event chain holds\n")
    code, out, _err = run(repo, capsys, "timeline", incident_id)
    assert "withdrew released statement holding v1 as Legal, proposed by Dilnoza Yusupova" in out
    assert "confirms; signed" in out and "channels told: console; signed" in out


def test_audit_verify_catches_a_withdrawal_slipped_in_unsigned_or_changed(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = released(repo, capsys, keys)
    propose = ("statement", "withdraw", incident_id, "holding", "--reason", REASON)
    assert act(repo, capsys, keys, *propose, who="dilnoza", key="dilnoza")[0] == 0
    proposal = events(repo, incident_id)[-1]
    # the real signature on a proposal whose reason was changed afterwards
    changed = NewEvent(proposal.at, "dilnoza", proposal.type, {**proposal.data, "reason": "Typo"})
    seq = forge(repo, incident_id, changed)
    code, out, _err = run(repo, capsys, "audit", "verify", incident_id)
    assert code == 1
    assert out == (
        f"{incident_id}: event {seq}: the signature does not match this text: "
        "it was changed after signing\n"
    )


def test_audit_verify_catches_a_confirmation_without_a_signature(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = released(repo, capsys, keys)
    propose = ("statement", "withdraw", incident_id, "holding", "--reason", REASON)
    assert act(repo, capsys, keys, *propose, who="dilnoza", key="dilnoza")[0] == 0
    proposal = events(repo, incident_id)[-1]
    data = {**proposal.data, "proposed_by": "dilnoza", "role": "legal", "channels": ["console"]}
    del data["signature"]
    seq = forge(repo, incident_id, NewEvent(proposal.at, "rustam", "statement.withdrawn", data))
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert code == 1
    assert out == f"{incident_id}: event {seq}: Rustam Aliev's withdrawal has no signature\n"


def corrected(repo: Path, capsys: pytest.CaptureFixture[str], keys: Path, tmp_path: Path) -> str:
    """A released holding statement with a new version marked as its correction."""
    incident_id = released(repo, capsys, keys)
    fixed = tmp_path / "kaa.txt"
    fixed.write_text("Beruniy aymaǵında hádiyse. Keyingi xabar: 08:00.", encoding="utf-8")
    edit = ("statement", "edit", incident_id, "holding", "--lang", "kaa", "--file", str(fixed))
    assert run(repo, capsys, *edit)[0] == 0
    code, _out, err = run(
        repo, capsys, "statement", "correct", incident_id, "holding", "--correction-note", NOTE
    )
    assert code == 0, err
    return incident_id


def test_a_corrections_approvals_and_release_sign_its_note(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    incident_id = corrected(repo, capsys, keys, tmp_path)
    # a correction is cleared and released with signatures as any version is
    err = refused(
        repo, capsys, keys, incident_id, "approve", incident_id, "holding", who="dilnoza",
        key="nosuch",
    )  # fmt: skip
    assert "the office requires signed clearance, and your key " in err
    clear(repo, capsys, keys, incident_id)
    cleared = [
        e for e in events(repo, incident_id)
        if e.type in ("statement.approved", "statement.released") and e.data["version"] == 2
    ]  # fmt: skip
    assert [(e.type, e.actor) for e in cleared] == [
        ("statement.approved", "dilnoza"),
        ("statement.approved", "rustam"),
        ("statement.released", "aziz"),
    ]
    for event in cleared:
        assert event.data["correction"] == {"corrects": 1, "note": NOTE}
    release = cleared[-1]
    assert (
        signed_text(incident_id, release.type, release.actor, release.data)
        == (
            "crisiscomm signed clearance: 1\n"
            f"incident: {incident_id}\n"
            "statement: holding\n"
            "version: 2\n"
            f"hash: sha256:{release.data['hash']}\n"
            "corrects: 1\n"
            'note: "Beruniy district, not Nukus"\n'
            "role: duty_officer\n"
            "decision: release\n"
            "person: aziz\n"
        ).encode()
    )
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert (code, out) == (0, "audit: every event chain holds\n")


def test_audit_verify_catches_a_correction_note_the_signatures_do_not_cover(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    incident_id = corrected(repo, capsys, keys, tmp_path)
    clear(repo, capsys, keys, incident_id)
    mark = next(e for e in events(repo, incident_id) if e.type == "statement.correction_marked")
    # the note changed in the record after its clearance: nobody signed the new one
    later = NewEvent(mark.at, "aziz", mark.type, {**mark.data, "note": "Nukus after all"})
    forge(repo, incident_id, later)
    first_approval = next(
        e.seq for e in _rows(repo, incident_id)
        if e.type == "statement.approved" and e.data["version"] == 2
    )  # fmt: skip
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert code == 1
    assert out == (
        f"{incident_id}: event {first_approval}: Dilnoza Yusupova's approval of version 2 of "
        "`holding` does not sign the correction note the record marks that version with: "
        '"Nukus after all"\n'
    )


def test_audit_verify_catches_a_signed_note_the_record_does_not_mark(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A well-made signature over a correction note that was never marked still fails."""
    incident_id = drafted(repo, capsys)
    version = events(repo, incident_id)[-1]
    data = {
        "statement": "holding",
        "version": 1,
        "hash": version.data["hash"],
        "role": "legal",
        "correction": {"corrects": 1, "note": "Invented"},
    }
    message = signed_text(incident_id, "statement.approved", "rustam", data)
    signature = sign(
        private_key=(keys / "rustam").read_bytes(), passphrase=None, namespace=NAMESPACE,
        message=message,
    )  # fmt: skip
    approval = NewEvent(
        version.at, "rustam", "statement.approved", {**data, "signature": signature}
    )
    seq = forge(repo, incident_id, approval)
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert code == 1
    assert out == (
        f"{incident_id}: event {seq}: Rustam Aliev's approval of version 1 of `holding` signs "
        "a correction note that the record does not mark that version with\n"
    )


def test_ssh_keygen_verifies_withdrawals_and_corrections(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    incident_id = corrected(repo, capsys, keys, tmp_path)
    clear(repo, capsys, keys, incident_id)
    withdraw = ("statement", "withdraw", incident_id, "holding")
    assert (
        act(repo, capsys, keys, *withdraw, "--reason", REASON, who="dilnoza", key="dilnoza")[0] == 0
    )
    assert act(repo, capsys, keys, *withdraw, who="aziz", key="aziz")[0] == 0
    out_dir = tmp_path / "audit"
    code, out, err = run(repo, capsys, "audit", "signatures", incident_id, "--out", str(out_dir))
    assert code == 0, err
    commands = out.splitlines()
    assert len(commands) == 8  # two releases, four approvals, the two halves of the withdrawal
    for command in commands:
        done = subprocess.run(command, shell=True, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert b'Good "crisiscomm" signature for' in done.stdout
    [proposal] = out_dir.glob("*-statement-withdrawal_proposed.txt")
    [confirmation] = out_dir.glob("*-statement-withdrawn.txt")
    assert b'reason: "The evacuation figures were wrong"\n' in proposal.read_bytes()
    assert b"proposed by: dilnoza\nrole: duty_officer\ndecision: withdraw\n" in (
        confirmation.read_bytes()
    )
    [release] = sorted(out_dir.glob("*-statement-released.txt"))[-1:]
    assert b'corrects: 1\nnote: "Beruniy district, not Nukus"\n' in release.read_bytes()
    # a reason or a note changed in the exported text fails ssh-keygen's own check
    for text, old, new in [
        (proposal, b"figures were wrong", b"figures were right"),
        (release, b"Beruniy district", b"Nukus city"),
    ]:
        text.write_bytes(text.read_bytes().replace(old, new))
        command = next(c for c in commands if text.name in c)
        assert subprocess.run(command, shell=True, capture_output=True).returncode != 0


def test_without_require_signatures_a_withdrawal_needs_no_key(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "office.yaml").write_text(office_text(keys, required=False), encoding="utf-8")
    incident_id = drafted(repo, capsys)
    for who in ["dilnoza", "rustam"]:
        assert run(repo, capsys, "approve", incident_id, "holding", "--as", who)[0] == 0
    assert run(repo, capsys, "release", incident_id, "holding")[0] == 0
    withdraw = ("statement", "withdraw", incident_id, "holding")
    assert (
        act(repo, capsys, keys, *withdraw, "--reason", REASON, who="dilnoza", key="nosuch")[0] == 0
    )
    assert act(repo, capsys, keys, *withdraw, who="rustam", key="nosuch")[0] == 0
    assert events(repo, incident_id)[-1].type == "statement.withdrawn"
    assert all("signature" not in e.data for e in events(repo, incident_id))
    assert run(repo, capsys, "audit", "verify")[0] == 0


def _rows(repo: Path, incident_id: str) -> list[EventRow]:
    with open_store(repo / "office.db") as store:
        return list(store.events(incident_id))
