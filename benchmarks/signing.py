"""Signing one approval and verifying it (crisiscomm.office.signing, SSHSIG with Ed25519).

- sign: `sign()` from the key file's bytes (no passphrase) to the armored signature, as
  each approval pays it. Target: median <= 5 ms.
- verify: `verify()` of that signature against the authorized_keys line.
- sign with a passphrase: the same, the key locked with a passphrase as `ssh-keygen` locks
  it (bcrypt KDF, 16 rounds): the KDF is slow on purpose, so this is shown, not judged.
As context, the bare baseline: one Ed25519 signature of the same bytes with a key already
loaded (cryptography alone), and the ratio of `sign` to it.

Run: .venv/bin/python benchmarks/signing.py [--runs N] [--passphrase-runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from crisiscomm.office.signing import public_key_of, sign, verify

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--passphrase-runs", type=int, default=20)
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


if __name__ == "__main__":
    main()
