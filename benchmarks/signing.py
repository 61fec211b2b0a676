"""Signing one approval and verifying it (crisiscomm.office.signing, SSHSIG with Ed25519).

- sign: `sign()` from the key file's bytes (no passphrase) to the armored signature, as
  each approval pays it. Target: median <= 5 ms.
- verify: `verify()` of that signature against the authorized_keys line.
- sign with a passphrase: the same, the key locked with a passphrase as `ssh-keygen` locks
  it (bcrypt KDF, 16 rounds): the KDF is slow on purpose, so this is shown, not judged.
As context, the bare baseline: one Ed25519 signature of the same bytes with a key already
loaded (cryptography alone), and the ratio of `sign` to it.
- audit (--audit): what `crisiscomm audit verify` does (`signatures.audit_record`: the
  Ed25519 checks in worker processes while the chains are walked) on an SQLite file of
  100,000 events (1,000 incidents of 100 events, 10 of them signed approvals: 10,000
  signatures), against the hash chain alone on the same file. Target: <= 2x. Shown too: the
  chains, then the signatures (`audit`), one after the other.

Run: .venv/bin/python benchmarks/signing.py [--runs N] [--passphrase-runs N] [--audit]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from crisiscomm.office.signing import public_key_of, sign, verify
from crisiscomm.playbook.model import canonical_json

TARGET_MS = 5.0
NAMESPACE = "crisiscomm-clearance"
APPROVAL = (
    b"incident INC-2024-017\n"
    b"statement holding-statement v3 sha256:"
    + b"9f2c4e1b7a0d6e35c8a1f4b2e7d9c0a69f2c4e1b7a0d6e35c8a1f4b2e7d9c0a6\n"
    + b"decision approve\nby legal (Dilnoza Yusupova)\n"
)


def median_ms(work: Callable[[], object], runs: int) -> float:
    """The median wall time of one call, in milliseconds, after one warm-up call."""
    work()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def build_record(path: Path, *, incidents: int = 1000, events: int = 100, signed: int = 10) -> None:
    """An SQLite file of `incidents` x `events` events, `signed` of each signed approvals."""
    from crisiscomm.engine.signatures import NAMESPACE, signed_text
    from crisiscomm.store import IncidentRow, NewEvent, open_store

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    content = canonical_json(
        {
            "id": "flood",
            "timezone": "Asia/Tashkent",
            "states": {},
            "people": {"dilnoza": {"name": "Dilnoza Yusupova", "keys": [
                {"key": public_key_of(private, None)}
            ]}},
            "office": {"id": "bench", "require_signatures": True},
        }
    )  # fmt: skip
    digest = hashlib.sha256(content.encode()).hexdigest()
    start = datetime(2026, 4, 3, 6, 0, tzinfo=UTC)
    with open_store(path) as store:
        for number in range(incidents):
            at = start + timedelta(hours=number)
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
            rows = []
            for seq in range(2, events + 1):
                if seq > events - signed:
                    data = {"statement": "holding", "version": seq, "hash": "ab" * 32,
                            "role": "head_of_press"}  # fmt: skip
                    text = signed_text(incident.id, "statement.approved", "dilnoza", data)
                    data["signature"] = sign(
                        private_key=private, passphrase=None, namespace=NAMESPACE, message=text
                    )
                    rows.append(NewEvent(at, "dilnoza", "statement.approved", data))
                else:
                    rows.append(NewEvent(at, "aziz", "note", {"text": f"note {seq} " * 8}))
            store.commit(
                incident=incident, expected_version=incident.version, events=rows, timers=[],
                retire_timers=False, outbox=[],
            )  # fmt: skip


def audit_benchmark(runs: int) -> None:
    """`audit verify` with signatures against the hash chain alone, on one file."""
    from crisiscomm.engine.signatures import audit, audit_record
    from crisiscomm.store import open_store

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.db"
        build_record(path)
        with open_store(path) as store:
            assert store.verify_chain() == [] and audit(store) == [] == audit_record(store)
            chain = median_ms(store.verify_chain, runs)
            apart = median_ms(lambda: (store.verify_chain(), audit(store)), runs)
            both = median_ms(lambda: audit_record(store), runs)
    verdict = "ok" if both <= 2 * chain else "OVER TARGET"
    print(f"audit verify, hash chain alone, 100,000 events: {chain:.0f} ms (median of {runs})")
    print(
        f"the chains, then the 10,000 signatures, one after the other: {apart:.0f} ms = "
        f"{apart / chain:.2f}x the chain alone (median of {runs})"
    )
    print(
        f"audit verify with 10,000 signatures: {both:.0f} ms = {both / chain:.2f}x the chain "
        f"alone (median of {runs}; target <= 2x: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--passphrase-runs", type=int, default=20)
    parser.add_argument("--audit", action="store_true", help="Also time audit verify.")
    parser.add_argument("--audit-runs", type=int, default=3)
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    plain = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    locked = key.private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, BestAvailableEncryption(b"dam breach 2024")
    )
    public_key = public_key_of(plain, None)
    signature = sign(private_key=plain, passphrase=None, namespace=NAMESPACE, message=APPROVAL)

    bare = median_ms(lambda: key.sign(APPROVAL), args.runs)
    signing = median_ms(
        lambda: sign(private_key=plain, passphrase=None, namespace=NAMESPACE, message=APPROVAL),
        args.runs,
    )
    verifying = median_ms(
        lambda: verify(
            public_key=public_key, signature=signature, namespace=NAMESPACE, message=APPROVAL
        ),
        args.runs,
    )
    unlocking = median_ms(
        lambda: sign(
            private_key=locked, passphrase="dam breach 2024", namespace=NAMESPACE, message=APPROVAL
        ),
        args.passphrase_runs,
    )
    verdict = "ok" if signing <= TARGET_MS else "OVER TARGET"
    print(f"bare Ed25519 signature, key loaded: {bare:.3f} ms (median of {args.runs})")
    print(
        f"sign one approval: {signing:.3f} ms = {signing / bare:.1f}x bare "
        f"(median of {args.runs}; target <= {TARGET_MS:g} ms: {verdict})"
    )
    print(f"verify one approval: {verifying:.3f} ms (median of {args.runs})")
    print(
        f"sign one approval, key with a passphrase: {unlocking:.1f} ms "
        f"(median of {args.passphrase_runs}; the bcrypt KDF, 16 rounds, is slow on purpose)"
    )
    if args.audit:
        audit_benchmark(args.audit_runs)


if __name__ == "__main__":
    main()
