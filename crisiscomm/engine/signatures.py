"""Signed clearance: approvals, trigger approvals and releases signed with the person's key.

Where the office sets `require_signatures: true`, each of these acts carries an OpenSSH
SSHSIG signature (office/signing.py) by the acting person's Ed25519 key, namespace
`crisiscomm`, in its event's data (`signature`, the armored text). What is signed is a few
`key: value` lines rebuilt from the event alone (`signed_text`):

    crisiscomm signed clearance: 1
    incident: INC-2026-0042
    statement: holding                 (a trigger approval: trigger, state, entry instead)
    version: 3
    hash: sha256:9f2c...               (the version's content hash over every language)
    role: head_of_press
    decision: approve                  (approve | release)
    person: dilnoza

The signature is checked against the person's keys in the pinned playbook's people (from
office.yaml): a key revoked from a date signs nothing on or after it (the event's local
date in the playbook's time zone). The engine refuses an act whose signature is missing,
wrong, by another person's key or by a revoked key (nothing is written); `audit` finds the
first such event in the record, and `export` writes what `ssh-keygen -Y verify` needs.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

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
    "check",
    "export",
    "needs_passphrase",
    "required",
    "signed",
    "signed_text",
    "signer_from",
]

NAMESPACE = "crisiscomm"
SIGNED_ACTS = {
    "statement.approved": "approve",
    "trigger.approved": "approve",
    "statement.released": "release",
}

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


def signed_text(incident_id: str, event_type: str, actor: str, data: dict[str, Any]) -> bytes:
    """The exact bytes signed for an act, rebuilt from its event."""
    if event_type == "trigger.approved":
        what = [("trigger", data["trigger"]), ("state", data["state"]), ("entry", data["entry"])]
    else:
        what = [
            ("statement", data["statement"]),
            ("version", data["version"]),
            ("hash", f"sha256:{data['hash']}"),
        ]
    lines = [
        ("crisiscomm signed clearance", 1),
        ("incident", incident_id),
        *what,
        ("role", data.get("role") or "-"),
        ("decision", SIGNED_ACTS[event_type]),
        ("person", actor),
    ]
    return "".join(f"{key}: {value}\n" for key, value in lines).encode("utf-8")


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
                office=playbook.office_id, act=SIGNED_ACTS[event.type]
            ),
            hint=_("sign it with your key: --key FILE (or CRISISCOMM_KEY)"),
        )
    message = signed_text(incident.id, event.type, event.actor, event.data)
    signature = signer(message)
    act = SIGNED_ACTS[event.type]
    check(playbook, person=event.actor, signature=signature, message=message, at=event.at, act=act)
    return replace(event, data={**event.data, "signature": signature})


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
    from crisiscomm.office.signing import fingerprint, verify  # cryptography: when needed

    name = playbook.display_name(person)
    keys = _keys(playbook, person)
    if not signature:
        raise SignatureError(
            _("{who}'s {act} has no signature").format(
                who=name, act=_("release") if act == "release" else _("approval")
            ),
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
    local_day = at.astimezone(ZoneInfo(playbook.timezone)).date().isoformat()
    if revoked and local_day >= revoked:
        raise SignatureError(
            _("{who}'s key {fp} was revoked on {date}").format(
                who=name, fp=fingerprint(str(mine["key"])), date=revoked
            ),
            hint=_(
                "make a new key with `ssh-keygen -t ed25519` and add its .pub line under "
                "`keys:` of person `{id}` in office.yaml"
            ).format(id=person),
        )
    verify(public_key=str(mine["key"]), signature=signature, namespace=NAMESPACE, message=message)


def event_problem(playbook: Playbook, event: EventRow) -> str | None:
    """Why an event's signature does not hold (None if it does, or needs none)."""
    if event.type not in SIGNED_ACTS:
        return None
    try:
        message = signed_text(event.incident_id, event.type, event.actor, event.data)
    except KeyError as missing:
        return _("the event lacks `{key}`, which its signature covers").format(key=missing.args[0])
    try:
        check(
            playbook,
            person=event.actor,
            signature=str(event.data.get("signature") or ""),
            message=message,
            at=event.at,
            act=SIGNED_ACTS[event.type],
        )
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


def audit(store: Store, incident_id: str | None = None) -> list[ChainProblem]:
    """Per incident whose playbook requires signatures, its first act whose signature is
    missing, wrong, by another person's key or by a revoked key."""
    problems = []
    for incident, playbook in _signed_incidents(store, incident_id):
        for event in store.events(incident.id, types=sorted(SIGNED_ACTS)):
            problem = event_problem(playbook, event)
            if problem is not None:
                problems.append(ChainProblem(incident.id, event.seq, problem))
                break
    return problems


def export(store: Store, incident_id: str, folder: Path) -> list[str]:
    """Write `allowed_signers` and, per signed act, its text and .sig file into `folder`;
    return the `ssh-keygen -Y verify` command for each."""
    incident = store.get_incident(incident_id, statements=False)
    playbook = Playbook.from_json(store.playbook_content(incident.playbook_hash))
    folder.mkdir(parents=True, exist_ok=True)
    signers = folder / "allowed_signers"
    signers.write_text(
        "".join(
            f'{pid} namespaces="{NAMESPACE}" {" ".join(str(k["key"]).split()[:2])}\n'
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
        commands.append(
            f"ssh-keygen -Y verify -f {shlex.quote(str(signers))} -I {shlex.quote(event.actor)} "
            f"-n {NAMESPACE} -s {shlex.quote(f'{text}.sig')} < {shlex.quote(str(text))}"
        )
    return commands
