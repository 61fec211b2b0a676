"""Signed clearance: approvals, trigger approvals, releases and withdrawals signed with the
person's key.

Where the office sets `require_signatures: true`, each of these acts (both halves of a
withdrawal, its proposal and its confirmation, the second person signing the first's
proposal too) carries an OpenSSH SSHSIG signature (office/signing.py) by the acting
person's Ed25519 key, namespace `crisiscomm`, in its event's data (`signature`, the armored
text). What is signed is a few `key: value` lines rebuilt from the event alone
(signed_acts.py): the statement, version and content hash, a withdrawal's reason, and for
a correction the release it corrects and its public note, cleared with the text.

The signature is checked against the person's keys in the pinned playbook's people (from
office.yaml): a key revoked from a date signs nothing on or after it (the event's local
date in the playbook's time zone). The engine refuses an act whose signature is missing,
wrong, by another person's key or by a revoked key (nothing is written); `audit` finds the
first such event in the record (or an approval or release that does not sign the
correction note its version is marked with), and `export` writes what `ssh-keygen -Y
verify` needs.

An audit makes the cheap checks (whose key, revoked or not) as it reads the events, and
leaves the Ed25519 check of each signature (~0.1 ms) for later: in a record with thousands
of signatures, worker processes make those while `audit_record` walks the hash chains (a
small record is checked in the one process: starting workers would cost more). What it
reports does not depend on where the checks ran: a signature that fails is checked again
here, for the message the serial check words.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import shlex
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from crisiscomm.engine.signed_acts import (
    CORRECTION_MARKED,
    SIGNED_ACTS,
    act_word,
    correction_marks,
    correction_problem,
    covered_correction,
    signed_text,
)
from crisiscomm.errors import SignatureError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import ChainProblem, EventRow, IncidentRow, NewEvent

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = [
    "NAMESPACE",
    "SIGNED_ACTS",
    "KeySource",
    "Signer",
    "audit",
    "audit_record",
    "check",
    "export",
    "needs_passphrase",
    "required",
    "signed",
    "signed_text",
    "signer_from",
]

logger = logging.getLogger(__name__)

NAMESPACE = "crisiscomm"

# What the Ed25519 check of one signature takes: the key's line, the signature, the signed text
SignatureCheck = tuple[str, str, bytes]

# A record with fewer signatures than this is checked in this one process: starting worker
# processes (~0.1 s) would cost more than they save. Checks go to workers in chunks.
PARALLEL_FROM = 2000
CHUNK = 250
MAX_WORKERS = 8
WORKER_NICENESS = 10

# The signing side: the signature of the bytes given (the service makes it from a key file)
Signer = Callable[[bytes], str]


# Where the signing key comes from, asked only when a signature is needed: the private key
# file's bytes and its passphrase (None if it has none); the CLI reads the file and prompts
KeySource = Callable[[], tuple[bytes, str | None]]


def signer_from(key: KeySource | None) -> Signer | None:
    """A Signer that opens the key only when the office requires a signature."""
    if key is None:
        return None

    def sign_with_key(message: bytes) -> str:
        from crisiscomm.office.signing import sign

        private_key, passphrase = key()
        return sign(
            private_key=private_key, passphrase=passphrase, namespace=NAMESPACE, message=message
        )

    return sign_with_key


def needs_passphrase(private_key: bytes) -> bool:
    """Whether a private key file is locked with a passphrase (a file that is no key at all
    needs none: signing says what it is)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    try:
        load_ssh_private_key(private_key, None)
    except TypeError:  # "password-protected, but no password was provided"
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return False


def required(playbook: Playbook) -> bool:
    """Whether the playbook's office requires signed clearance."""
    return bool((playbook.content.get("office") or {}).get("require_signatures"))


def signed(
    playbook: Playbook, incident: IncidentRow, event: NewEvent, signer: Signer | None
) -> NewEvent:
    """The act's event with its signature, checked against the actor's key in the office;
    unchanged where the office does not require signatures."""
    if not required(playbook):
        return event
    if signer is None:
        raise SignatureError(
            _("the office {office} requires signed clearance; this {act} has no signature").format(
                office=playbook.office_id, act=act_word(SIGNED_ACTS[event.type])
            ),
            hint=_("sign it with your key: --key FILE (or CRISISCOMM_KEY)"),
        )
    # an approval or release of a correction signs its note with the text it is cleared with
    if correction := covered_correction(incident, event.type, event.data):
        event = replace(event, data={**event.data, "correction": correction})
    message = signed_text(incident.id, event.type, event.actor, event.data)
    signature = signer(message)
    act = SIGNED_ACTS[event.type]
    check(playbook, person=event.actor, signature=signature, message=message, at=event.at, act=act)
    return replace(event, data={**event.data, "signature": signature})


@functools.lru_cache(maxsize=256)  # an audit reads the same few keys for every act
def _blob(public_key: str) -> bytes:
    words = public_key.split()
    try:
        return base64.b64decode(words[1], validate=True) if len(words) > 1 else b""
    except ValueError:
        return b""


def _signer_blob(signature: str) -> bytes:
    """The public key blob a signature names ("" if it is not one: `verify` says why)."""
    lines = signature.strip().splitlines()
    try:
        raw = base64.b64decode("".join(lines[1:-1]), validate=True)
    except ValueError:
        return b""
    if not raw.startswith(b"SSHSIG") or len(raw) < 14:
        return b""
    size = int.from_bytes(raw[10:14], "big")
    return raw[14 : 14 + size]


def _keys(playbook: Playbook, person: str) -> list[dict[str, Any]]:
    found = (playbook.people.get(person) or {}).get("keys") or []
    return [k for k in found if isinstance(k, dict) and k.get("key")]


def _fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _owner_of(playbook: Playbook, signer: bytes) -> str | None:
    """The person whose key in the office made a signature (None if nobody's)."""
    for pid in playbook.people:
        if signer and any(_blob(str(k["key"])) == signer for k in _keys(playbook, pid)):
            return pid
    return None


def check(
    playbook: Playbook,
    *,
    person: str,
    signature: str,
    message: bytes,
    at: datetime,
    act: str = "approve",
) -> None:
    """Return if `signature` over `message` is by a key of `person` not revoked at `at`;
    else raise a SignatureError saying what is wrong and what to do."""
    from crisiscomm.office.signing import verify  # cryptography: when needed

    public_key = _signing_key(
        playbook, person=person, signature=signature, message=message, at=at, act=act
    )
    verify(public_key=public_key, signature=signature, namespace=NAMESPACE, message=message)


def _signing_key(
    playbook: Playbook, *, person: str, signature: str, message: bytes, at: datetime, act: str
) -> str:
    """The key line of `person` that must have made `signature`, after every check short of
    the costly Ed25519 one (`check` makes that); SignatureError if one of them fails."""
    from crisiscomm.office.signing import fingerprint, verify

    name = playbook.display_name(person)
    keys = _keys(playbook, person)
    if not signature:
        raise SignatureError(
            _("{who}'s {act} has no signature").format(who=name, act=act_word(act)),
            hint=_("sign it with your key: --key FILE (or CRISISCOMM_KEY)"),
        )
    if not keys:
        raise SignatureError(
            _("{who} has no signing key in office.yaml").format(who=name),
            hint=_(
                "add the line of your key's .pub file under `keys:` of person `{id}` in "
                "office.yaml; make a key with `ssh-keygen -t ed25519`"
            ).format(id=person),
        )
    signer = _signer_blob(signature)
    mine = next((k for k in keys if signer and _blob(str(k["key"])) == signer), None)
    if mine is None:
        other = _owner_of(playbook, signer)
        if other is not None:
            raise SignatureError(
                _("the signature was made with {other}'s key, not with {who}'s").format(
                    other=playbook.display_name(other), who=name
                ),
                hint=_("sign with your own key: --key FILE (or CRISISCOMM_KEY)"),
            )
        if signer:
            raise SignatureError(
                _("the signature was made with a key ({fp}) that is none of {who}'s keys").format(
                    fp=_fingerprint(signer), who=name
                ),
                hint=_(
                    "sign with the key office.yaml lists for `{id}`, or add that key's .pub "
                    "line to its `keys:`"
                ).format(id=person),
            )
        # a signature whose key cannot be read: verify says how it is damaged
        verify(
            public_key=str(keys[0]["key"]),
            signature=signature,
            namespace=NAMESPACE,
            message=message,
        )
        mine = keys[0]
    revoked = str(mine.get("revoked") or "")
    if revoked and at.astimezone(ZoneInfo(playbook.timezone)).date().isoformat() >= revoked:
        raise SignatureError(
            _("{who}'s key {fp} was revoked on {date}").format(
                who=name, fp=fingerprint(str(mine["key"])), date=revoked
            ),
            hint=_(
                "make a new key with `ssh-keygen -t ed25519` and add its .pub line under "
                "`keys:` of person `{id}` in office.yaml"
            ).format(id=person),
        )
    return str(mine["key"])


def _pending_check(playbook: Playbook, event: EventRow) -> SignatureCheck:
    """What the Ed25519 check of a signed act takes, once every cheap check of it holds;
    SignatureError for the first cheap check that does not."""
    try:
        message = signed_text(event.incident_id, event.type, event.actor, event.data)
    except KeyError as missing:
        raise SignatureError(
            _("the event lacks `{key}`, which its signature covers").format(key=missing.args[0])
        ) from None
    signature = str(event.data.get("signature") or "")
    public_key = _signing_key(
        playbook,
        person=event.actor,
        signature=signature,
        message=message,
        at=event.at,
        act=SIGNED_ACTS[event.type],
    )
    return public_key, signature, message


def _holding(checks: list[SignatureCheck]) -> list[bool]:
    """Whether each signature is its key's, over its text (what a worker process runs)."""
    from crisiscomm.office.signing import verify

    held = []
    for public_key, signature, message in checks:
        try:
            verify(public_key=public_key, signature=signature, namespace=NAMESPACE, message=message)
        except SignatureError:
            held.append(False)
        else:
            held.append(True)
    return held


def event_problem(playbook: Playbook, event: EventRow) -> str | None:
    """Why an event's signature does not hold (None if it does, or needs none)."""
    if event.type not in SIGNED_ACTS:
        return None
    from crisiscomm.office.signing import verify

    try:
        public_key, signature, message = _pending_check(playbook, event)
        verify(public_key=public_key, signature=signature, namespace=NAMESPACE, message=message)
    except SignatureError as error:
        return error.message
    return None


def _signed_incidents(store: Store, incident_id: str | None) -> list[tuple[IncidentRow, Playbook]]:
    incidents = (
        [store.get_incident(incident_id, statements=False)]
        if incident_id
        else store.list_incidents()
    )
    books: dict[str, Playbook] = {}
    found = []
    for incident in incidents:
        if incident.playbook_hash not in books:
            content = store.playbook_content(incident.playbook_hash)
            books[incident.playbook_hash] = Playbook.from_json(content)
        if required(books[incident.playbook_hash]):
            found.append((incident, books[incident.playbook_hash]))
    return found


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on (Linux)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _worker_started() -> None:
    """In a worker process: Ctrl-C is the command's to handle (it stops the pool), and the
    worker ends with the command, even one killed outright (nothing is left running)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):  # the command's own work (walking the chains) comes first
        os.nice(WORKER_NICENESS)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _worker_pool() -> ProcessPoolExecutor:
    # not `fork`: the command may hold threads and database connections a fork would copy
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":  # imported once, by the server the workers are forked from
        context.set_forkserver_preload(["__main__", __name__, "crisiscomm.office.signing"])
    return ProcessPoolExecutor(
        max_workers=min(_cpus(), MAX_WORKERS), mp_context=context, initializer=_worker_started
    )


class _Audit:
    """One audit of the signatures in a record: the cheap checks as the events are read,
    the Ed25519 checks (~0.1 ms each) in worker processes once enough of them wait to pay
    for starting those (`PARALLEL_FROM`), else in this process when the result is asked."""

    def __init__(self) -> None:
        # per incident read: its first cheap problem, and its checks' range in `_checks`
        self._incidents: list[tuple[IncidentRow, Playbook, ChainProblem | None, int, int]] = []
        self._checks: list[SignatureCheck] = []
        self._events: list[EventRow] = []
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: list[Future[list[bool]]] = []
        self._sent = 0
        self._serial = False

    def __enter__(self) -> _Audit:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop_workers()

    def _stop_workers(self) -> None:
        if self._pool is not None:  # on an error too: the chunks not begun are dropped
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def read(self, store: Store, incident_id: str | None) -> None:
        """Read the signed acts and make the cheap checks; hand the rest on."""
        for incident, playbook in _signed_incidents(store, incident_id):
            first, problem = len(self._checks), None
            acts = store.events(incident.id, types=sorted([*SIGNED_ACTS, CORRECTION_MARKED]))
            marks = correction_marks(acts)
            for event in (e for e in acts if e.type in SIGNED_ACTS):
                try:
                    correction_problem(playbook, event, marks)
                    self._checks.append(_pending_check(playbook, event))
                except SignatureError as error:  # the acts after it need no check
                    problem = ChainProblem(incident.id, event.seq, error.message)
                    break
                self._events.append(event)
            self._incidents.append((incident, playbook, problem, first, len(self._checks)))
            self._send(every=False)

    def _send(self, *, every: bool) -> None:
        """Hand the waiting checks to worker processes in chunks (`every`: the last part
        too), started once `PARALLEL_FROM` checks wait where the machine has cores to spare."""
        if self._pool is None and (
            self._serial or len(self._checks) < PARALLEL_FROM or _cpus() < 2
        ):
            return
        try:
            self._pool = self._pool or _worker_pool()
            while len(self._checks) - self._sent >= CHUNK or (
                every and self._sent < len(self._checks)
            ):
                chunk = self._checks[self._sent : self._sent + CHUNK]
                self._tasks.append(self._pool.submit(_holding, chunk))
                self._sent += len(chunk)
        except (OSError, BrokenProcessPool) as error:
            self._in_this_process(error)

    def _in_this_process(self, error: BaseException) -> None:
        """No worker processes after all (none could start, or one died): the checks run
        here, with the same result."""
        logger.info("signatures are checked in this process: %s", error)
        self._serial = True
        self._stop_workers()

    def _worked(self) -> list[bool] | None:
        """The workers' results, in the order sent (None if a worker died)."""
        try:
            return [ok for task in self._tasks for ok in task.result()]
        except BrokenProcessPool as error:
            self._in_this_process(error)
            return None

    def problems(self) -> list[ChainProblem]:
        """Per incident read, its first act whose signature does not hold."""
        self._send(every=True)
        held = self._worked() if self._pool is not None else None
        if held is None:
            held = _holding(self._checks)
        problems = []
        for incident, playbook, problem, first, end in self._incidents:
            failed = next((n for n in range(first, end) if not held[n]), None)
            if failed is not None:  # rare: checked again here, for the message as it reads
                event = self._events[failed]
                message = event_problem(playbook, event)
                problem = ChainProblem(incident.id, event.seq, message) if message else problem
            if problem is not None:
                problems.append(problem)
        return problems


def audit(store: Store, incident_id: str | None = None) -> list[ChainProblem]:
    """Per incident whose playbook requires signatures, its first act whose signature is
    missing, wrong, by another person's key or by a revoked key."""
    with _Audit() as signatures:
        signatures.read(store, incident_id)
        return signatures.problems()


def audit_record(store: Store, incident_id: str | None = None) -> list[ChainProblem]:
    """What `audit verify` finds: per incident, the first event its hash chain breaks at;
    then, in each incident whose chain holds, its first act whose signature does not. The
    signatures are checked in worker processes while the chains are walked."""
    with _Audit() as signatures:
        signatures.read(store, incident_id)
        problems = store.verify_chain(incident_id)
        broken = {problem.incident_id for problem in problems}
        # signatures are worth naming only in a chain that holds
        return problems + [p for p in signatures.problems() if p.incident_id not in broken]


def export(store: Store, incident_id: str, folder: Path) -> list[str]:
    """Write `allowed_signers` and, per signed act, its text and .sig file into `folder`;
    return the `ssh-keygen -Y verify` command for each."""
    incident = store.get_incident(incident_id, statements=False)
    playbook = Playbook.from_json(store.playbook_content(incident.playbook_hash))
    folder.mkdir(parents=True, exist_ok=True)
    signers = folder / "allowed_signers"
    signers.write_text(
        "".join(
            f"{pid} {_signer_options(playbook, k)} {' '.join(str(k['key']).split()[:2])}\n"
            for pid in sorted(playbook.people)
            for k in _keys(playbook, pid)
        ),
        encoding="utf-8",
    )
    commands = []
    for event in store.events(incident.id):
        if event.type not in SIGNED_ACTS or not event.data.get("signature"):
            continue
        text = folder / f"{event.seq:04d}-{event.type.replace('.', '-')}.txt"
        text.write_bytes(signed_text(incident.id, event.type, event.actor, event.data))
        Path(f"{text}.sig").write_text(str(event.data["signature"]), encoding="utf-8")
        # checked as of the act's time, so a key revoked later still vouches for it
        at = event.at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")
        commands.append(
            f"ssh-keygen -Y verify -f {shlex.quote(str(signers))} -I {shlex.quote(event.actor)} "
            f"-n {NAMESPACE} -O verify-time={at} "
            f"-s {shlex.quote(f'{text}.sig')} < {shlex.quote(str(text))}"
        )
    return commands


def _signer_options(playbook: Playbook, key: dict[str, Any]) -> str:
    """allowed_signers options: the namespace, and for a revoked key `valid-before` its
    revocation (local midnight of the date, in UTC)."""
    options = f'namespaces="{NAMESPACE}"'
    if revoked := str(key.get("revoked") or ""):
        midnight = datetime.fromisoformat(revoked).replace(tzinfo=ZoneInfo(playbook.timezone))
        options += f',valid-before="{midnight.astimezone(UTC).strftime("%Y%m%d%H%MZ")}"'
    return options
