"""Signed clearance (issue 15): where the office sets `require_signatures`, every approval,
trigger approval and release is signed with the person's own Ed25519 key; a missing key, a
wrong passphrase, someone else's key or a revoked key is refused with nothing written;
`audit verify` catches an approval slipped into the database unsigned; and an auditor
checks the export with `ssh-keygen -Y verify` alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crisiscomm.engine.signatures import signed_text
from crisiscomm.store import open_store
from crisiscomm.store.rows import NewEvent
from tests.test_office import OFFICE, opened, run, without_team

from .conftest import FIXTURES

if shutil.which("ssh-keygen") is None and not os.environ.get("CI"):
    pytest.skip(
        "ssh-keygen is not installed (openssh-client; CI installs it)", allow_module_level=True
    )

PASSPHRASE = "dam breach 2024"
PEOPLE = """\
people:
  aziz: {{name: Aziz Karimov, logins: [aziz], keys: [{{key: "{aziz}"}}]}}
  dilnoza: {{name: Dilnoza Yusupova, logins: [dilnoza], keys: [{{key: "{dilnoza}"}}]}}
  bekzod: {{name: Bekzod Nurmatov, logins: [bekzod]}}
  rustam:
    name: Rustam Aliev
    logins: [rustam]
    keys:
      - {{key: "{rustam_old}", revoked: "2020-01-01"}}
      - {{key: "{rustam}"}}
"""


@pytest.fixture(name="keys", scope="module")
def keys_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys made by `ssh-keygen -t ed25519`: dilnoza's with a passphrase, rustam's old one."""
    folder = tmp_path_factory.mktemp("keys")
    for name in ["aziz", "dilnoza", "rustam", "rustam_old", "stranger"]:
        passphrase = PASSPHRASE if name == "dilnoza" else ""
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name,
             "-f", str(folder / name)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
    return folder


def public(keys: Path, name: str) -> str:
    return " ".join((keys / f"{name}.pub").read_text().split()[:2])


def office_text(keys: Path, *, required: bool = True) -> str:
    text = OFFICE.format(acting_for="allowed")
    start, end = text.index("people:\n"), text.index("roles:\n")
    people = PEOPLE.format(
        **{n: public(keys, n) for n in ["aziz", "dilnoza", "rustam", "rustam_old"]}
    )
    settings = "{acting_for: allowed, require_signatures: %s}" % ("true" if required else "false")
    return (text[:start] + people + text[end:]).replace("{acting_for: allowed}", settings)


@pytest.fixture
def repo(tmp_path: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An office that requires signatures, its press playbook, aziz at the keyboard."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "office.yaml").write_text(office_text(keys), encoding="utf-8")
    press = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    (tmp_path / "playbooks" / "press.yaml").write_text(without_team(press), encoding="utf-8")
    monkeypatch.setattr("crisiscomm.store.store.account_name", lambda: "aziz")
    for name in ["CRISISCOMM_ACTOR", "CRISISCOMM_KEY", "CRISISCOMM_KEY_PASSPHRASE"]:
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


def events(repo: Path, incident_id: str) -> list[NewEvent]:
    with open_store(repo / "office.db") as store:
        return [NewEvent(e.at, e.actor, e.type, e.data) for e in store.events(incident_id)]


def drafted(repo: Path, capsys: pytest.CaptureFixture[str]) -> str:
    incident_id = opened(repo, capsys)
    for args in (["check", incident_id, "log_source"], ["advance", incident_id, "confirm"]):
        assert run(repo, capsys, *args)[0] == 0
    assert run(repo, capsys, "statement", "draft", incident_id, "holding")[0] == 0
    return incident_id


def act(
    repo: Path, capsys: pytest.CaptureFixture[str], keys: Path, *args: str, who: str, key: str
) -> tuple[int, str, str]:
    return run(repo, capsys, *args, "--as", who, "--key", str(keys / key))


def refused(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    keys: Path,
    incident_id: str,
    *args: str,
    who: str,
    key: str,
) -> str:
    """The error a refused signed act prints; asserts nothing was written."""
    before = len(events(repo, incident_id))
    code, _out, err = act(repo, capsys, keys, *args, who=who, key=key)
    assert code == 1, err
    assert len(events(repo, incident_id)) == before
    return err


def test_signed_clearance_goes_through_and_bad_keys_are_refused(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = drafted(repo, capsys)
    approve = ("approve", incident_id, "holding")
    monkeypatch.setenv("CRISISCOMM_KEY_PASSPHRASE", "dam breach 2025")
    err = refused(repo, capsys, keys, incident_id, *approve, who="dilnoza", key="dilnoza")
    assert "the passphrase does not open this key" in err
    assert "type the passphrase again" in err
    monkeypatch.setenv("CRISISCOMM_KEY_PASSPHRASE", PASSPHRASE)
    assert act(repo, capsys, keys, *approve, who="dilnoza", key="dilnoza")[0] == 0

    err = refused(repo, capsys, keys, incident_id, *approve, who="rustam", key="nosuch")
    assert "the office requires signed clearance, and your key " in err
    assert "give your Ed25519 private key with --key FILE or CRISISCOMM_KEY" in err
    err = refused(repo, capsys, keys, incident_id, *approve, who="rustam", key="aziz")
    assert "the signature was made with Aziz Karimov's key, not with Rustam Aliev's" in err
    assert "sign with your own key: --key FILE (or CRISISCOMM_KEY)" in err
    err = refused(repo, capsys, keys, incident_id, *approve, who="rustam", key="rustam_old")
    assert "Rustam Aliev's key SHA256:" in err and "was revoked on 2020-01-01" in err
    assert "make a new key with `ssh-keygen -t ed25519`" in err
    err = refused(repo, capsys, keys, incident_id, *approve, who="rustam", key="stranger")
    assert "the signature was made with a key (SHA256:" in err
    assert "that is none of Rustam Aliev's keys" in err
    assert act(repo, capsys, keys, *approve, who="rustam", key="rustam")[0] == 0

    release = ("release", incident_id, "holding")
    err = refused(repo, capsys, keys, incident_id, *release, who="aziz", key="rustam")
    assert "made with Rustam Aliev's key, not with Aziz Karimov's" in err
    assert act(repo, capsys, keys, *release, who="aziz", key="aziz")[0] == 0

    # a trigger approval is signed too, bound to the state entry it was given in
    assert run(repo, capsys, "advance", incident_id, "publish")[0] == 0
    assert (
        act(repo, capsys, keys, "approve", incident_id, "close", who="rustam", key="rustam")[0] == 0
    )
    signed = [e for e in events(repo, incident_id) if "signature" in e.data]
    assert [(e.type, e.actor) for e in signed] == [
        ("statement.approved", "dilnoza"),
        ("statement.approved", "rustam"),
        ("statement.released", "aziz"),
        ("trigger.approved", "rustam"),
    ]
    approval = signed[0]
    assert (
        signed_text(incident_id, approval.type, approval.actor, approval.data)
        == (
            "crisiscomm signed clearance: 1\n"
            f"incident: {incident_id}\n"
            "statement: holding\n"
            "version: 1\n"
            f"hash: sha256:{approval.data['hash']}\n"
            "role: head_of_press\n"
            "decision: approve\n"
            "person: dilnoza\n"
        ).encode()
    )
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert (code, out) == (0, "audit: every event chain holds\n")


def test_audit_verify_catches_an_approval_inserted_without_a_signature(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = drafted(repo, capsys)
    with open_store(repo / "office.db") as store:
        incident = store.get_incident(incident_id)
        last = store.events(incident_id)[-1]
        forged = NewEvent(
            last.at,
            "dilnoza",
            "statement.approved",
            {
                "statement": "holding",
                "version": 1,
                "hash": last.data["hash"],
                "role": "head_of_press",
            },
        )
        store.commit(
            incident=incident, expected_version=incident.version, events=[forged],
            timers=[], retire_timers=False, outbox=[],
        )  # fmt: skip
        seq = store.events(incident_id)[-1].seq
    code, out, _err = run(repo, capsys, "audit", "verify")
    assert code == 1
    assert out == f"{incident_id}: event {seq}: Dilnoza Yusupova's approval has no signature\n"


def test_audit_verify_catches_a_signature_that_does_not_match_its_event(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real signature copied onto an approval of another version does not hold."""
    incident_id = drafted(repo, capsys)
    monkeypatch.setenv("CRISISCOMM_KEY_PASSPHRASE", PASSPHRASE)
    approve = ("approve", incident_id, "holding")
    assert act(repo, capsys, keys, *approve, who="dilnoza", key="dilnoza")[0] == 0
    with open_store(repo / "office.db") as store:
        incident = store.get_incident(incident_id)
        real = store.events(incident_id)[-1]
        copy = NewEvent(real.at, "dilnoza", real.type, {**real.data, "version": 2})
        store.commit(
            incident=incident, expected_version=incident.version, events=[copy],
            timers=[], retire_timers=False, outbox=[],
        )  # fmt: skip
    code, out, _err = run(repo, capsys, "audit", "verify", incident_id)
    assert code == 1
    assert out == (
        f"{incident_id}: event {real.seq + 1}: the signature does not match this text: "
        "it was changed after signing\n"
    )


def test_ssh_keygen_verifies_the_exported_signatures(
    repo: Path,
    keys: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident_id = drafted(repo, capsys)
    approve = ("approve", incident_id, "holding")
    monkeypatch.setenv("CRISISCOMM_KEY_PASSPHRASE", PASSPHRASE)
    assert act(repo, capsys, keys, *approve, who="dilnoza", key="dilnoza")[0] == 0
    assert act(repo, capsys, keys, *approve, who="rustam", key="rustam")[0] == 0
    out_dir = tmp_path / "audit"
    code, out, err = run(repo, capsys, "audit", "signatures", incident_id, "--out", str(out_dir))
    assert code == 0, err
    commands = out.splitlines()
    assert len(commands) == 2
    assert commands[0].startswith(f"ssh-keygen -Y verify -f {out_dir}/allowed_signers -I dilnoza")
    # rustam's old key, revoked from 1 January 2020 (Tashkent), vouches for nothing after it
    signers = (out_dir / "allowed_signers").read_text(encoding="utf-8").splitlines()
    assert sum('valid-before="201912311900Z"' in line for line in signers) == 1
    assert all("-O verify-time=" in command for command in commands)
    # and ssh-keygen itself holds to it: the old key's signature is good before, not after
    note = tmp_path / "note.txt"
    note.write_text("decision: approve\n", encoding="utf-8")
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(keys / "rustam_old"), "-n", "crisiscomm",
         str(note)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip

    def verified(when: str) -> int:
        with note.open("rb") as message:
            return subprocess.run(
                ["ssh-keygen", "-Y", "verify", "-f", str(out_dir / "allowed_signers"),
                 "-I", "rustam", "-n", "crisiscomm", "-O", f"verify-time={when}",
                 "-s", f"{note}.sig"],
                stdin=message, capture_output=True, timeout=30, check=False,
            ).returncode  # fmt: skip

    assert (verified("20191231000000Z"), verified("20200102000000Z")) == (0, 255)
    for command in commands:
        done = subprocess.run(command, shell=True, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert b'Good "crisiscomm" signature for' in done.stdout
    # a changed text fails ssh-keygen's own check
    [text] = sorted(out_dir.glob("*-statement-approved.txt"))[:1]
    text.write_bytes(text.read_bytes().replace(b"decision: approve", b"decision: reject"))
    assert subprocess.run(commands[0], shell=True, capture_output=True).returncode != 0


def test_without_require_signatures_nothing_changes(
    repo: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "office.yaml").write_text(office_text(keys, required=False), encoding="utf-8")
    incident_id = drafted(repo, capsys)
    for who in ["dilnoza", "rustam"]:
        assert (
            act(repo, capsys, keys, "approve", incident_id, "holding", who=who, key="nosuch")[0]
            == 0
        )
    assert all("signature" not in e.data for e in events(repo, incident_id))
    assert run(repo, capsys, "audit", "verify")[0] == 0
    assert json.loads(run(repo, capsys, "timeline", incident_id, "--json")[1])[-1]["type"] == (
        "statement.approved"
    )
