"""Withdrawing and correcting a released statement: never a silent change.

A withdrawal takes a released statement back, with a public reason. It follows four-eyes
as a release does (four_eyes.py): two different people stand behind it.

    propose   a member of the first role of the statement's clearance chain (head of
              press), with --reason; a statement without a clearance chain: its releasers
    confirm   another person of the clearance chain or of its releasers, the same command
              (without --reason, or with the same text): `statement.withdrawn`, notified
              through the statement's channels as a release is

A correction is a new version of a released statement marked, before its clearance, as
correcting the newest released version, with a public note. The note is cleared with the
text: once a version has an approval its mark can no longer change, and it goes out only
by the usual release (fully cleared, four-eyes).

Where the office requires signatures (signatures.py), both halves of a withdrawal are
signed with the acting person's key, as approvals and releases are: the proposal signs the
reason, the confirmation the reason and who proposed it. A correction's approvals and its
release sign its note with the text.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc
from crisiscomm.engine.context import own_data
from crisiscomm.engine.outcome import Outcome
from crisiscomm.engine.permissions import owner, refuse_unless_holder
from crisiscomm.engine.signatures import Signer, signed
from crisiscomm.engine.statements import latest_version, own_record, resolve_statement
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow, NewEvent, OutboxMessage
from crisiscomm.texts import has_visible_text

__all__ = ["mark_correction", "withdraw", "withdrawn_release"]

NOTE_LENGTH = 2000  # a reason or a note is a sentence or two the public reads


def _releasers(playbook: Playbook, incident: IncidentRow, statement: str) -> list[str]:
    definition = playbook.statements[statement]
    return list(
        definition.get("release_by")
        or ([definition["author"]] if definition.get("author") else owner(playbook, incident))
    )


def _refuse_unless_member(playbook: Playbook, actor: str, roles: list[str], *, act: str) -> None:
    """Refuse `act` unless `actor` holds one of `roles`: checked as clearance is, with or
    without an office (permissions.py leaves acts open without one; these are not)."""
    wanted = [r for r in dict.fromkeys(roles) if r]
    if not wanted or any(playbook.may_act_for(actor, role) for role in wanted):
        return
    refuse_unless_holder(playbook, actor, wanted, act=act)
    holders = [
        f"{role}: " + (", ".join(str(m.get("name")) for m in playbook.members(role)) or "-")
        for role in wanted
    ]
    raise RefusedError(
        _("{actor} may not {act}: that is for {roles}, which {actor} does not hold").format(
            actor=playbook.display_name(actor), act=act, roles=_(" or ").join(wanted)
        ),
        hint=_("who holds it now: {holders}").format(holders="; ".join(holders)),
    )


def _role(playbook: Playbook, actor: str, roles: list[str]) -> str:
    """The role of `roles` the actor acts in ("" where none is needed)."""
    return next((role for role in roles if role and playbook.may_act_for(actor, role)), "")


def _public_text(text: str | None, *, option: str) -> str:
    """A reason or note for the public: visible, one or two sentences."""
    text = (text or "").strip()
    if not has_visible_text(text):
        raise UsageError(
            _("{option} is empty: the public reads it beside the statement").format(option=option),
            hint=_('say in a sentence why, e.g. {option} "The figures were wrong"').format(
                option=option
            ),
        )
    if len(text) > NOTE_LENGTH:
        raise UsageError(
            _("{option} is {n} characters long; keep it within {limit}").format(
                option=option, n=len(text), limit=NOTE_LENGTH
            )
        )
    return text


def withdrawn_release(record: dict[str, Any], release: dict[str, Any]) -> dict[str, Any] | None:
    """The withdrawal of one release, or None."""
    return next((w for w in record.get("withdrawn") or [] if w["hash"] == release["hash"]), None)


def withdraw(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    statement: str,
    reason: str | None,
    actor: str,
    now: datetime,
    signer: Signer | None = None,
) -> Outcome:
    """Propose the withdrawal of a statement's newest release, or confirm another
    person's proposal (four-eyes); a confirmed one is `statement.withdrawn`. Each half is
    signed by `signer` where the office requires signatures."""
    statement = resolve_statement(playbook, statement)
    record = (incident.data.get("statements") or {}).get(statement) or {}
    releases = record.get("released") or []
    if not releases:
        raise RefusedError(
            _("`{s}` was never released; there is nothing to withdraw").format(s=statement),
            hint=_("a draft that is not released is simply not released"),
        )
    release = releases[-1]
    done = withdrawn_release(record, release)
    if done is not None:
        raise RefusedError(
            _("version {v} of `{s}` is already withdrawn ({at})").format(
                v=release["version"], s=statement, at=done["at"]
            )
        )
    chain = list(playbook.statements[statement].get("clearance") or [])
    releasers = _releasers(playbook, incident, statement)
    proposal = record.get("withdrawal")
    if proposal is not None and proposal["hash"] != release["hash"]:
        proposal = None  # it was for an earlier release
    data = own_data(incident)
    mine = own_record(data, statement)
    about: dict[str, Any] = {
        "statement": statement,
        "version": release["version"],
        "hash": release["hash"],
    }
    if proposal is None:
        proposers = chain[:1] or releasers
        _refuse_unless_member(
            playbook, actor, proposers, act=_("withdraw `{s}`").format(s=statement)
        )
        text = _public_text(reason, option="--reason")
        mine["withdrawal"] = {**about, "reason": text, "actor": actor, "at": format_utc(now)}
        proposed = {**about, "reason": text, "role": _role(playbook, actor, proposers)}
        event = NewEvent(now, actor, "statement.withdrawal_proposed", proposed)
        event = signed(playbook, incident, event, signer)
        return Outcome(replace(incident, data=data), [event], statements_changed=True)
    if playbook.same_person(actor, proposal["actor"]):
        raise RefusedError(
            _("{actor} proposed this withdrawal and may not confirm it alone (four-eyes)").format(
                actor=playbook.display_name(actor)
            ),
            hint=_("another person of its clearance chain confirms: {command}").format(
                command=f"crisiscomm statement withdraw {incident.id} {statement} --as NAME"
            ),
        )
    _refuse_unless_member(
        playbook,
        actor,
        [*chain, *releasers],
        act=_("confirm the withdrawal of `{s}`").format(s=statement),
    )
    if reason is not None and reason.strip() != proposal["reason"]:
        raise RefusedError(
            _("the withdrawal was proposed with another reason: {reason}").format(
                reason=proposal["reason"]
            ),
            hint=_("confirm it without --reason, or give the same text"),
        )
    withdrawal = {
        **about,
        "reason": proposal["reason"],
        "proposed_by": proposal["actor"],
        "actor": actor,
        "at": format_utc(now),
    }
    mine.setdefault("withdrawn", []).append(withdrawal)
    del mine["withdrawal"]
    channels = list(playbook.statements[statement].get("channels") or [])
    event = NewEvent(
        now,
        actor,
        "statement.withdrawn",
        {
            **about,
            "reason": proposal["reason"],
            "proposed_by": proposal["actor"],
            "proposed_at": proposal["at"],
            "channels": channels,
            "role": _role(playbook, actor, [*chain, *releasers]),
        },
    )
    event = signed(playbook, incident, event, signer)
    title = playbook.statement_title(statement)
    payload = {
        "incident_id": incident.id,
        "kind": "statement",
        "statement": statement,
        "version": release["version"],
        "withdrawn": True,
        "subject": _("Withdrawn: {title} ({id})").format(title=title, id=incident.id),
        "reason": proposal["reason"],
        "text": proposal["reason"],
    }
    outbox = []
    for channel in channels:
        settings = playbook.channels.get(channel) or {}
        recipients = (
            list(settings.get("to") or []) if settings.get("type") == "smtp" else ["public"]
        )
        for recipient in recipients:
            key = f"{incident.id}:{statement}:v{release['version']}:withdrawn:{channel}:{recipient}"
            outbox.append(OutboxMessage(key, channel, recipient, payload))
    return Outcome(replace(incident, data=data), [event], outbox=outbox, statements_changed=True)


def mark_correction(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    statement: str,
    note: str,
    actor: str,
    now: datetime,
) -> Outcome:
    """Mark the newest, not yet cleared version of a released statement as a correction of
    its newest release, with a public note."""
    statement = resolve_statement(playbook, statement)
    definition = playbook.statements[statement]
    chain = list(definition.get("clearance") or [])
    writers = [definition["author"]] if definition.get("author") else owner(playbook, incident)
    _refuse_unless_member(
        playbook, actor, [*writers, *chain[:1]], act=_("correct `{s}`").format(s=statement)
    )
    text = _public_text(note, option="--correction-note")
    record = (incident.data.get("statements") or {}).get(statement) or {}
    releases = record.get("released") or []
    if not releases:
        raise RefusedError(
            _("`{s}` was never released; there is nothing to correct").format(s=statement),
            hint=_("release it as it is once it is cleared"),
        )
    version = latest_version(incident, statement)
    assert version is not None  # a released statement has versions
    if any(r["hash"] == version["hash"] for r in releases):
        raise RefusedError(
            _(
                "version {v} of `{s}` is the released text itself; draft or edit the corrected "
                "text first"
            ).format(v=version["version"], s=statement),
            hint=f"crisiscomm statement edit {incident.id} {statement} --lang LANG --file FILE",
        )
    if any(a["hash"] == version["hash"] for a in record.get("approvals") or []):
        raise RefusedError(
            _(
                "version {v} of `{s}` is already in clearance; the correction note is cleared "
                "with the text, so mark it before the first approval"
            ).format(v=version["version"], s=statement),
            hint=_("edit the text again for a new version, then mark that one"),
        )
    data = own_data(incident)
    mine = own_record(data, statement)
    corrects = int(releases[-1]["version"])
    mark = {"corrects": corrects, "note": text, "actor": actor, "at": format_utc(now)}
    mine["versions"][-1] = {**mine["versions"][-1], "correction": mark}
    event = NewEvent(
        now,
        actor,
        "statement.correction_marked",
        {
            "statement": statement,
            "version": version["version"],
            "hash": version["hash"],
            "corrects": corrects,
            "note": text,
        },
    )
    return Outcome(replace(incident, data=data), [event], statements_changed=True)
