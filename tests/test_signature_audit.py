"""`audit verify` on a large record (issue 15): the Ed25519 checks of its signatures run in
worker processes while the hash chains are walked, and what it finds is what the serial
check finds: the same problems, the same messages, in the same order, the same exit code.
A small record never starts a worker; a record whose workers cannot start or die is checked
in the command's own process; a command killed mid-check leaves no process behind."""

from __future__ import annotations

import hashlib
import logging
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from crisiscomm.cli import main
from crisiscomm.engine import signatures
from crisiscomm.office.signing import public_key_of, sign
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import IncidentRow, NewEvent, Store, open_store
from crisiscomm.store.rows import ChainProblem
from tests.conftest_store import disarm_event_guard

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 4, 3, 6, 0, tzinfo=UTC)
SIGNED = 10  # signed approvals per incident, after its `opened` event (seq 2 to 11)
MISMATCH = "the signature does not match this text: it was changed after signing"

# Per incident (by its number), per signed approval (by its seq), how it is spoiled
Forgeries = dict[int, dict[int, str]]
FORGED: Forgeries = {
    5: {5: "copied"},  # a real signature, over another version's text
    17: {4: "copied", 9: "unsigned"},  # the costly problem comes first: it is the one named
    42: {7: "bekzod"},  # signed with another person's key
    99: {3: "unsigned", 8: "copied"},  # the cheap problem comes first: it is the one named
    150: {6: "no hash"},  # a field the signature covers is missing
}


def _key() -> bytes:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())


def build(path: Path, incidents: int, forged: Forgeries) -> list[str]:
    """A record of `incidents` incidents of SIGNED approvals by dilnoza, spoiled as
    `forged` says; the incidents' ids in order."""
    dilnoza, bekzod = _key(), _key()
    content = canonical_json(
        {
            "id": "flood",
            "timezone": "Asia/Tashkent",
            "states": {},
            "people": {
                "dilnoza": {"name": "Dilnoza Yusupova", "keys": [{"key": public_key_of(dilnoza, None)}]},
                "bekzod": {"name": "Bekzod Nurmatov", "keys": [{"key": public_key_of(bekzod, None)}]},
            },
            "office": {"id": "test", "require_signatures": True},
        }
    )  # fmt: skip
    digest = hashlib.sha256(content.encode()).hexdigest()
    ids = []
    with open_store(path) as store:
        for number in range(incidents):
            at = T0 + timedelta(hours=number)
            incident = store.create_incident(
                incident=IncidentRow(
                    "", "flood", digest, f"Flood {number}", "medium", "detection", 1, at, at,
                    None, "aziz",
                ),
                playbook_content=content,
                events=[NewEvent(at, "aziz", "opened", {"note": "opened"})],
                timers=[],
                outbox=[],
            )  # fmt: skip
            ids.append(incident.id)
            rows = []
            for seq in range(2, SIGNED + 2):
                how = forged.get(number, {}).get(seq, "")
                data: dict[str, Any] = {
                    "statement": "holding", "version": seq, "hash": "ab" * 32,
                    "role": "head_of_press",
                }  # fmt: skip
                signed = {**data, "version": seq + 1} if how == "copied" else data
                text = signatures.signed_text(incident.id, "statement.approved", "dilnoza", signed)
                key = bekzod if how == "bekzod" else dilnoza
                data["signature"] = sign(
                    private_key=key, passphrase=None, namespace=signatures.NAMESPACE, message=text
                )
                if how == "unsigned":
                    del data["signature"]
                if how == "no hash":
                    del data["hash"]
                rows.append(NewEvent(at, "dilnoza", "statement.approved", data))
            store.commit(
                incident=incident, expected_version=incident.version, events=rows, timers=[],
                retire_timers=False, outbox=[],
            )  # fmt: skip
    return ids


@pytest.fixture(name="large", scope="module")
def large_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A record with more signatures than PARALLEL_FROM, some of them spoiled."""
    incidents = signatures.PARALLEL_FROM // SIGNED + 10
    path = tmp_path_factory.mktemp("large") / "record.db"
    return path, build(path, incidents, FORGED)


def expected(ids: list[str]) -> list[ChainProblem]:
    """What the audit finds in the large record: newest incident first, as they are listed."""
    return [
        ChainProblem(ids[5], 5, MISMATCH),
        ChainProblem(ids[17], 4, MISMATCH),
        ChainProblem(
            ids[42],
            7,
            "the signature was made with Bekzod Nurmatov's key, not with Dilnoza Yusupova's",
        ),
        ChainProblem(ids[99], 3, "Dilnoza Yusupova's approval has no signature"),
        ChainProblem(ids[150], 6, "the event lacks `hash`, which its signature covers"),
    ][::-1]


def pools_started(monkeypatch: pytest.MonkeyPatch) -> list[ProcessPoolExecutor]:
    """The worker pools the audits start, from now on."""
    started: list[ProcessPoolExecutor] = []
    real = signatures._worker_pool

    def counted() -> ProcessPoolExecutor:
        started.append(real())
        return started[-1]

    monkeypatch.setattr(signatures, "_worker_pool", counted)
    return started


def serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, every audit runs in this one process, as a small one does."""
    monkeypatch.setattr(signatures, "PARALLEL_FROM", sys.maxsize)
    monkeypatch.setattr(signatures, "_worker_pool", no_pool)


def no_pool() -> ProcessPoolExecutor:
    raise AssertionError("a worker pool was started")


def audited(path: Path, audit: Callable[[Store], list[ChainProblem]]) -> list[ChainProblem]:
    with open_store(path) as store:
        return audit(store)


@pytest.mark.skipif(
    signatures._cpus() < 2, reason="one core: the audit rightly starts no worker process"
)
def test_a_large_record_is_checked_in_workers_with_the_serial_result(
    large: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, ids = large
    started = pools_started(monkeypatch)
    parallel = audited(path, signatures.audit)
    whole = audited(path, signatures.audit_record)
    assert len(started) == 2
    serial(monkeypatch)
    assert parallel == whole == audited(path, signatures.audit) == expected(ids)
    assert audited(path, signatures.audit_record) == whole


@pytest.mark.skipif(signatures._cpus() < 2, reason="one core: no worker process")
def test_audit_verify_names_a_tampered_signature_as_the_serial_check_does(
    large: tuple[Path, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, ids = large
    started = pools_started(monkeypatch)
    code = main(["audit", "verify", "--db", str(path)])
    parallel = capsys.readouterr()
    assert len(started) == 1
    serial(monkeypatch)
    assert (main(["audit", "verify", "--db", str(path)]), capsys.readouterr()) == (code, parallel)
    assert (code, parallel.err) == (1, "")
    assert parallel.out == "".join(
        f"{p.incident_id}: event {p.seq}: {p.problem}\n" for p in expected(ids)
    )
    assert f"{ids[5]}: event 5: {MISMATCH}" in parallel.out.splitlines()


def test_a_small_record_starts_no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "record.db"
    ids = build(path, 3, {1: {4: "copied"}})
    monkeypatch.setattr(signatures, "_worker_pool", no_pool)
    assert audited(path, signatures.audit_record) == [ChainProblem(ids[1], 4, MISMATCH)]


def test_without_workers_the_record_is_checked_here(
    large: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Where no worker process can start (no semaphores in a container, no processes left),
    or one dies, the command checks the signatures itself."""
    path, ids = large

    def cannot_start() -> ProcessPoolExecutor:
        raise OSError(38, "Function not implemented")

    caplog.set_level(logging.INFO, logger=signatures.__name__)
    monkeypatch.setattr(signatures, "_cpus", lambda: 2)
    monkeypatch.setattr(signatures, "_worker_pool", cannot_start)
    assert audited(path, signatures.audit_record) == expected(ids)
    assert "signatures are checked in this process" in caplog.text

    def dying() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            1, mp_context=get_context("spawn"), initializer=os._exit, initargs=(1,)
        )

    monkeypatch.setattr(signatures, "_worker_pool", dying)
    assert audited(path, signatures.audit_record) == expected(ids)


KILLED_MID_CHECK = """
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from crisiscomm.engine import signatures
from crisiscomm.office.signing import public_key_of, sign

key = Ed25519PrivateKey.generate().private_bytes(
    Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()
)
text = b"crisiscomm signed clearance: 1\\n"
check = (public_key_of(key, None), sign(
    private_key=key, passphrase=None, namespace=signatures.NAMESPACE, message=text
), text)
with signatures._worker_pool() as pool:
    tasks = [pool.submit(signatures._holding, [check] * 500) for _ in range(2000)]
    tasks[0].result()
    print("checking", flush=True)
    for task in tasks:
        task.result()
"""


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # pid (comm) state ppid ...: comm may hold spaces and parentheses
                stat = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat[1])
    found: set[int] = set()
    wave = {pid}
    while wave:
        wave = {child for child, parent in parents.items() if parent in wave} - found
        found |= wave
    return found


def _ended(pid: int, within: float) -> bool:
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([handle], [], [], within)[0])
    finally:
        os.close(handle)


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and hasattr(os, "pidfd_open")),
    reason="reads /proc and waits on pidfds (Linux)",
)
def test_a_command_killed_mid_check_leaves_no_process_behind() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_CHECK],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "checking\n"
            helpers = _descendants(process.pid)  # the workers, their fork server, the tracker
            assert len(helpers) >= 2
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    left = [pid for pid in helpers if not _ended(pid, within=15)]
    assert left == []


@pytest.mark.skipif(signatures._cpus() < 2, reason="one core: no worker process")
def test_a_broken_chain_is_named_before_signatures_and_instead_of_its_own(
    large: tuple[Path, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Incident 5's approval at seq 5 edited in the file: its chain breaks there, and that
    is what is named for it; the other incidents' signature problems follow."""
    path, ids = large
    edited = tmp_path / "edited.db"
    shutil.copyfile(path, edited)
    disarm_event_guard(str(edited))
    with sqlite3.connect(edited) as connection:
        connection.execute(
            "UPDATE events SET data = replace(data, '\"version\":5', '\"version\":6') "
            "WHERE incident_id = ? AND seq = 5",
            (ids[5],),
        )
    connection.close()
    with open_store(edited) as store:
        chain = store.verify_chain()
    assert [(p.incident_id, p.seq) for p in chain] == [(ids[5], 5)]
    started = pools_started(monkeypatch)
    code = main(["audit", "verify", "--db", str(edited)])
    parallel = capsys.readouterr()
    assert len(started) == 1
    serial(monkeypatch)
    assert (main(["audit", "verify", "--db", str(edited)]), capsys.readouterr()) == (code, parallel)
    named = chain + [p for p in expected(ids) if p.incident_id != ids[5]]
    assert (code, parallel.err) == (1, "")
    assert parallel.out == "".join(f"{p.incident_id}: event {p.seq}: {p.problem}\n" for p in named)
