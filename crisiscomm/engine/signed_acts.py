"""Which acts are signed, and the exact text each signature covers (signatures.py signs and
checks them).

Every signed act signs a few `key: value` lines rebuilt from its event alone, so that an
auditor checks it with `ssh-keygen -Y verify` years later without crisiscomm. A free text
the public reads (a withdrawal's reason, a correction's note) is signed as a JSON string:
one line, whatever it holds, and read back exactly.

    crisiscomm signed clearance: 1
    incident: INC-2026-0042
    statement: holding               (a trigger approval: trigger, state, entry instead)
    version: 3
    hash: sha256:9f2c...             (the version's content hash over every language)
    corrects: 2                      (an approval or release of a correction: the release
    note: "120 evacuated, not 210"    it corrects, and its public note, cleared with the text)
    reason: "The figures were wrong"   (a withdrawal: its public reason; a confirmed one also
    proposed by: dilnoza                who proposed it: the second person signs the first's)
    role: head_of_press
    decision: approve                (approve | release | propose withdrawal | withdraw)
    person: dilnoza

A correction's note is marked on its version before the first approval and goes out with
it, so each approval and the release of that version sign it; `correction_problem` finds
a signed act whose version the record marks otherwise (a note added or changed later).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crisiscomm.errors import SignatureError
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store.rows import EventRow, IncidentRow

__all__ = [
    "CORRECTION_MARKED",
    "SIGNED_ACTS",
    "act_word",
    "correction_marks",
    "correction_problem",
    "covered_correction",
    "signed_text",
]

SIGNED_ACTS = {
    "statement.approved": "approve",
    "trigger.approved": "approve",
    "statement.released": "release",
    "statement.withdrawal_proposed": "propose withdrawal",
    "statement.withdrawn": "withdraw",
}
CORRECTION_MARKED = "statement.correction_marked"
# the acts that clear or release a version, and so sign the correction it carries
_CLEARING = frozenset({"statement.approved", "statement.released"})

# A correction as the record marks a version: the release it corrects, and its note
Correction = dict[str, Any]


def _quoted(text: Any) -> str:
    return json.dumps(str(text), ensure_ascii=False)


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
    if correction := data.get("correction"):
        what += [("corrects", correction["corrects"]), ("note", _quoted(correction["note"]))]
    if event_type in ("statement.withdrawal_proposed", "statement.withdrawn"):
        what.append(("reason", _quoted(data["reason"])))
    if event_type == "statement.withdrawn":
        what.append(("proposed by", data["proposed_by"]))
    lines = [
        ("crisiscomm signed clearance", 1),
        ("incident", incident_id),
        *what,
        ("role", data.get("role") or "-"),
        ("decision", SIGNED_ACTS[event_type]),
        ("person", actor),
    ]
    return "".join(f"{key}: {value}\n" for key, value in lines).encode("utf-8")


def act_word(act: str) -> str:
    """A signed act as a person reads it (the signed text keeps `approve`, `release` ...)."""
    words = {
        "release": _("release"),
        "propose withdrawal": _("withdrawal proposal"),
        "withdraw": _("withdrawal"),
    }
    return words.get(act) or _("approval")


def covered_correction(incident: IncidentRow, event_type: str, data: dict[str, Any]) -> Correction:
    """The correction an approval or release signs with its version: the mark the version
    carries (`corrects`, `note`); {} for another act or a version that corrects nothing."""
    if event_type not in _CLEARING:
        return {}
    record = (incident.data.get("statements") or {}).get(str(data.get("statement"))) or {}
    versions: list[dict[str, Any]] = record.get("versions") or []
    version = next((v for v in versions if v["hash"] == data["hash"]), {})
    mark = version.get("correction") or {}
    return {"corrects": mark["corrects"], "note": mark["note"]} if mark else {}


def correction_marks(events: list[EventRow]) -> dict[tuple[str, str], Correction]:
    """Per statement and version hash, the correction its newest mark in the record says."""
    return {
        (str(e.data.get("statement")), str(e.data.get("hash"))): {
            "corrects": e.data.get("corrects"),
            "note": e.data.get("note"),
        }
        for e in events
        if e.type == CORRECTION_MARKED
    }


def correction_problem(
    playbook: Playbook, event: EventRow, marks: dict[tuple[str, str], Correction]
) -> None:
    """Raise a SignatureError if an approval or release does not sign the correction the
    record marks its version with (or signs one the record does not mark)."""
    if event.type not in _CLEARING:
        return
    marked = marks.get((str(event.data.get("statement")), str(event.data.get("hash")))) or {}
    signed = event.data.get("correction") or {}
    if marked == signed:
        return
    about = {
        "who": playbook.display_name(event.actor),
        "act": act_word(SIGNED_ACTS[event.type]),
        "v": event.data.get("version"),
        "s": event.data.get("statement"),
    }
    if not marked:
        raise SignatureError(
            _(
                "{who}'s {act} of version {v} of `{s}` signs a correction note that the record "
                "does not mark that version with"
            ).format(**about)
        )
    raise SignatureError(
        _(
            "{who}'s {act} of version {v} of `{s}` does not sign the correction note the "
            "record marks that version with: {note}"
        ).format(**about, note=_quoted(marked.get("note")))
    )
