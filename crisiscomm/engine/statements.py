"""Statements: drafted from templates in every language, cleared in order, released.

A statement has numbered versions; each version holds the text in every language of the
playbook and a content hash over all of them. An approval binds to that hash, so an edit
(which makes a new version) voids earlier approvals. The clearance chain is followed in
order, and nobody who wrote a version of the statement may approve it (four-eyes).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.engine.clearance import new_version_timers, step_timers
from crisiscomm.engine.context import (
    cadence_interval,
    copy_one_level_down,
    own_data,
    refuse_if_closed,
)
from crisiscomm.engine.four_eyes import refuse_one_person_release
from crisiscomm.engine.outcome import Outcome
from crisiscomm.engine.rendering import statement_texts
from crisiscomm.engine.signatures import Signer, signed
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook, canonical_json
from crisiscomm.store.rows import IncidentRow, NewEvent, NewTimer, OutboxMessage
from crisiscomm.templates import placeholders
from crisiscomm.texts import has_visible_text

__all__ = [
    "add_version",
    "approve",
    "draft",
    "draft_texts",
    "edit",
    "latest_version",
    "own_record",
    "pending_approvers",
    "rebuts",
    "release",
    "resolve_statement",
    "text_problem",
]

REBUTTAL = "rebuttal"  # the statement that rebuts a false rumour (playbooks/false-rumour.yaml)


def resolve_statement(playbook: Playbook, name: str) -> str:
    """A statement id from an id or a kind (`holding`) that names exactly one statement."""
    statements = playbook.statements
    if name in statements:
        return name
    of_kind = [sid for sid, s in statements.items() if s.get("kind") == name]
    if len(of_kind) == 1:
        return of_kind[0]
    raise RefusedError(
        _("playbook {p} has no statement `{name}`").format(p=playbook.id, name=name)
        if not of_kind
        else _("several statements are of kind `{name}`: {ids}; name one").format(
            name=name, ids=", ".join(of_kind)
        ),
        hint=_("statements: {ids}").format(ids=", ".join(statements) or "-"),
    )


def draft_texts(
    playbook: Playbook, incident: IncidentRow, statement: str, now: datetime
) -> tuple[dict[str, str], dict[str, Any]]:
    """The statement rendered in every language, and the values used; refuse missing ones
    (`crisiscomm.engine.rendering.statement_texts`)."""
    return statement_texts(playbook, incident, statement, now)


def own_record(data: dict[str, Any], statement: str) -> dict[str, Any]:
    """The statement's record in `data`, as a private copy this step may change.

    `own_data` shares the records of the incident as read (they hold the texts in every
    language); only the one a step changes is copied. Like `own_data`, one level down: a
    step appends to the record's lists (versions, approvals, releases) or sets its keys,
    and replaces a version rather than change it in place, so the texts stay shared.
    """
    shared = data["statements"].get(statement) or {"versions": [], "approvals": [], "released": []}
    record: dict[str, Any] = copy_one_level_down(shared)
    data["statements"][statement] = record
    return record


def add_version(
    data: dict[str, Any],
    statement: str,
    texts: dict[str, str],
    values: dict[str, Any],
    *,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Append a new version of a statement to the incident's data and return it."""
    record = own_record(data, statement)
    version = {
        "version": len(record["versions"]) + 1,
        "texts": texts,
        "values": values,
        "hash": hashlib.sha256(canonical_json(texts).encode("utf-8")).hexdigest(),
        "author": actor,
        "at": format_utc(now),
    }
    record["versions"].append(version)
    return version


def latest_version(incident: IncidentRow, statement: str) -> dict[str, Any] | None:
    """The newest version of a statement, or None before the first draft."""
    versions = (incident.data.get("statements", {}).get(statement) or {}).get("versions") or []
    return versions[-1] if versions else None


def _approvals_of(incident: IncidentRow, statement: str, digest: str) -> list[dict[str, Any]]:
    record = incident.data.get("statements", {}).get(statement) or {}
    return [a for a in record.get("approvals") or [] if a["hash"] == digest]


def pending_approvers(
    playbook: Playbook, incident: IncidentRow, statement: str
) -> list[str] | None:
    """Roles still to approve the newest version, in order; None when there is no draft."""
    version = latest_version(incident, statement)
    if version is None:
        return None
    given = {a["role"] for a in _approvals_of(incident, statement, version["hash"])}
    chain = playbook.statements[statement].get("clearance") or []
    return [role for role in chain if role not in given]


def draft(
    playbook: Playbook, incident: IncidentRow, *, statement: str, actor: str, now: datetime
) -> Outcome:
    """Render a statement's template in every language as a new version."""
    refuse_if_closed(playbook, incident)
    statement = resolve_statement(playbook, statement)
    _refuse_unless_writer(playbook, incident, statement, actor, act=_("draft `{s}`"))
    texts, values = draft_texts(playbook, incident, statement, now)
    latest = latest_version(incident, statement)
    if latest is not None and latest["texts"] == texts:
        raise RefusedError(
            _(
                "`{s}` already reads exactly so: version {v}, drafted by {who}; nothing new "
                "to draft"
            ).format(s=statement, v=latest["version"], who=latest["author"]),
            hint=_(
                "see it with `crisiscomm statement show {iid} {s}`; set facts and draft again "
                "to re-render it, or change a language with `crisiscomm statement edit`"
            ).format(iid=incident.id, s=statement),
        )
    data = own_data(incident)
    version = add_version(data, statement, texts, values, actor=actor, now=now)
    event = NewEvent(
        now,
        actor,
        "statement.drafted",
        {"statement": statement, "version": version["version"], "hash": version["hash"]},
    )
    chase = new_version_timers(playbook, incident, statement=statement, version=version, now=now)
    return Outcome(replace(incident, data=data), [event], chase, statements_changed=True)


def edit(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    statement: str,
    language: str,
    text: str,
    actor: str,
    now: datetime,
) -> Outcome:
    """A new version with one language's text replaced; earlier approvals no longer apply."""
    refuse_if_closed(playbook, incident)
    statement = resolve_statement(playbook, statement)
    _refuse_unless_writer(playbook, incident, statement, actor, act=_("edit `{s}`"))
    if language not in playbook.languages:
        raise UsageError(
            _("`{lang}` is not a language of playbook {p}").format(lang=language, p=playbook.id),
            hint=_("its languages: {langs}").format(langs=", ".join(playbook.languages)),
        )
    problem = text_problem(text, language)
    if problem is not None:
        raise UsageError(
            problem, hint=_("write the text itself in the file, then run the edit again")
        )
    current = latest_version(incident, statement)
    if current is None:
        raise RefusedError(
            _("statement `{s}` has no draft to edit").format(s=statement),
            hint=f"crisiscomm statement draft {incident.id} {statement}",
        )
    data = own_data(incident)
    texts = {**current["texts"], language: text.rstrip("\n")}
    if texts == current["texts"]:
        raise RefusedError(_("the text is the same as version {v}").format(v=current["version"]))
    version = add_version(data, statement, texts, current["values"], actor=actor, now=now)
    event = NewEvent(
        now,
        actor,
        "statement.edited",
        {
            "statement": statement,
            "version": version["version"],
            "hash": version["hash"],
            "language": language,
        },
    )
    chase = new_version_timers(playbook, incident, statement=statement, version=version, now=now)
    return Outcome(replace(incident, data=data), [event], chase, statements_changed=True)


def approve(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    name: str,
    actor: str,
    now: datetime,
    signer: Signer | None = None,
) -> Outcome:
    """Approve the newest version of a statement (in clearance order) or a trigger; signed
    by `signer` where the office requires signatures (signatures.py)."""
    refuse_if_closed(playbook, incident)
    triggers = {t["trigger"]: t for t in playbook.transitions_from(incident.state)}
    if name not in playbook.statements and name in triggers:
        trigger = triggers[name]
        return _approve_trigger(playbook, incident, trigger, actor=actor, now=now, signer=signer)
    statement = resolve_statement(playbook, name)
    version = latest_version(incident, statement)
    if version is None:
        raise RefusedError(
            _("statement `{s}` has no draft to approve").format(s=statement),
            hint=f"crisiscomm statement draft {incident.id} {statement}",
        )
    record = incident.data["statements"][statement]
    authors = {v["author"] for v in record["versions"]}
    if any(playbook.same_person(actor, author) for author in authors):
        raise RefusedError(
            _("{actor} wrote a version of `{s}` and may not approve it (four-eyes)").format(
                actor=actor, s=statement
            ),
            hint=_("another person of the clearance chain must approve"),
        )
    approvals = _approvals_of(incident, statement, version["hash"])
    if any(playbook.same_person(a["actor"], actor) for a in approvals):
        raise RefusedError(
            _("{actor} has already approved version {v} of `{s}`").format(
                actor=actor, v=version["version"], s=statement
            )
        )
    waiting = pending_approvers(playbook, incident, statement) or []
    if not waiting:
        raise RefusedError(
            _("version {v} of `{s}` is already fully cleared").format(
                v=version["version"], s=statement
            ),
            hint=f"crisiscomm release {incident.id} {statement}",
        )
    role = waiting[0]
    if not playbook.may_act_for(actor, role):
        chain = playbook.statements[statement].get("clearance") or []
        later = [r for r in waiting[1:] if playbook.may_act_for(actor, r)]
        raise RefusedError(
            (
                _("`{s}` waits for approval by {role} first (clearance order: {chain})")
                if later
                else _("`{s}` waits for approval by {role}; {actor} is not a member of it")
            ).format(s=statement, role=role, chain=", ".join(chain), actor=actor),
            hint=_("members of {role}: {names}").format(
                role=role, names=", ".join(m["name"] for m in playbook.members(role))
            ),
        )
    data = own_data(incident)
    own_record(data, statement)["approvals"].append(
        {
            "version": version["version"],
            "hash": version["hash"],
            "role": role,
            "actor": actor,
            "at": format_utc(now),
        }
    )
    event = NewEvent(
        now,
        actor,
        "statement.approved",
        {
            "statement": statement,
            "version": version["version"],
            "hash": version["hash"],
            "role": role,
        },
    )
    event = signed(playbook, incident, event, signer)
    # the version now waits for the next step, whose deadlines start counting
    chase = step_timers(
        playbook,
        incident,
        statement=statement,
        version=version,
        role=waiting[1] if len(waiting) > 1 else None,
        now=now,
    )
    return Outcome(replace(incident, data=data), [event], chase, statements_changed=True)


def _approve_trigger(
    playbook: Playbook,
    incident: IncidentRow,
    trigger: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    signer: Signer | None,
) -> Outcome:
    name = trigger["trigger"]
    needed = (trigger.get("guards") or {}).get("approvals") or []
    if not needed:
        raise RefusedError(
            _("`{t}` needs no approval").format(t=name),
            hint=f"crisiscomm advance {incident.id} {name}",
        )
    given = [
        a
        for a in incident.data.get("approvals", {}).get(name, [])
        if a.get("generation") == incident.generation
    ]
    done = {a["role"] for a in given}
    missing = [r for r in needed if r not in done]
    open_roles = [r for r in missing if playbook.may_act_for(actor, r)]
    mine = next((a for a in given if playbook.same_person(a["actor"], actor)), None)
    if mine is not None:
        raise RefusedError(
            _("{actor} has already approved `{t}` (for {role}); one approval per person").format(
                actor=actor, t=name, role=mine["role"]
            )
        )
    if not missing:
        raise RefusedError(
            _("`{t}` has every approval it needs").format(t=name),
            hint=f"crisiscomm advance {incident.id} {name}",
        )
    if not open_roles:
        people = [str(m["name"]) for role in missing for m in playbook.members(role)]
        raise RefusedError(
            _(
                "{actor} cannot approve `{t}`: it still needs an approval from {roles}, a role "
                "{actor} does not hold"
            ).format(actor=actor, t=name, roles=_(" or ").join(missing)),
            hint=_("who can: {people} (use --as NAME)").format(
                people=", ".join(dict.fromkeys(people)) or "-"
            ),
        )
    data = own_data(incident)
    role = open_roles[0]
    data["approvals"].setdefault(name, []).append(
        {"role": role, "actor": actor, "at": format_utc(now), "generation": incident.generation}
    )
    # a signature covers the state entry it was given in (its generation)
    about = {"trigger": name, "role": role, "state": incident.state, "entry": incident.generation}
    event = signed(playbook, incident, NewEvent(now, actor, "trigger.approved", about), signer)
    return Outcome(replace(incident, data=data), [event])


def _refuse_unless_writer(
    playbook: Playbook, incident: IncidentRow, statement: str, actor: str, *, act: str
) -> None:
    """Drafting and editing belong to the statement's author role (else the state's owner)."""
    from crisiscomm.engine.permissions import owner, refuse_unless_holder

    author = playbook.statements[statement].get("author")
    roles = [author] if author else owner(playbook, incident)
    refuse_unless_holder(playbook, actor, roles, act=act.format(s=statement))


def text_problem(text: str, language: str) -> str | None:
    """Why a statement text may not go out to the public, or None: it must have something
    visible (not only spaces or zero-width characters) and no placeholder left unfilled."""
    if not has_visible_text(text):
        return _(
            "the {lang} text is empty: it has no visible character (only spaces or invisible "
            "characters such as zero-width spaces)"
        ).format(lang=language)
    left = placeholders(text).names
    if left:
        return _("the {lang} text still contains the placeholder ${name}").format(
            lang=language, name=left[0]
        )
    return None


def _promised_update(
    playbook: Playbook, incident: IncidentRow, version: dict[str, Any], now: datetime
) -> datetime | None:
    """When the next public update is due once this version is out: when its text said
    (`$next_update_at`), else one cadence of the current state on; None if neither."""
    promised = version["values"].get("_next_update_utc")
    if promised and parse_utc(promised) > now:
        return parse_utc(promised)
    every = cadence_interval(playbook, incident.state)
    return now + every if every is not None else None


def release(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    statement: str,
    actor: str,
    now: datetime,
    signer: Signer | None = None,
) -> Outcome:
    """Release the newest version: fully cleared, in every language; re-arms the cadence."""
    from crisiscomm.engine.permissions import owner, refuse_unless_holder

    refuse_if_closed(playbook, incident)
    statement = resolve_statement(playbook, statement)
    definition = playbook.statements[statement]
    releasers = definition.get("release_by") or (
        [definition["author"]] if definition.get("author") else owner(playbook, incident)
    )
    refuse_unless_holder(playbook, actor, releasers, act=_("release `{s}`").format(s=statement))
    version = latest_version(incident, statement)
    if version is None:
        raise RefusedError(
            _("statement `{s}` has no draft to release").format(s=statement),
            hint=f"crisiscomm statement draft {incident.id} {statement}",
        )
    for language in playbook.languages:
        written = version["texts"].get(language, "")
        problem = text_problem(written, language) if written.strip() else None
        if problem is not None:
            raise RefusedError(
                _("version {v} of `{s}` cannot go out: {problem}").format(
                    v=version["version"], s=statement, problem=problem
                ),
                hint=f"crisiscomm statement edit {incident.id} {statement} "
                f"--lang {language} --file FILE",
            )
    missing = [lang for lang in playbook.languages if not version["texts"].get(lang, "").strip()]
    if missing:
        raise RefusedError(
            _("version {v} of `{s}` has no text in: {langs}").format(
                v=version["version"], s=statement, langs=", ".join(missing)
            ),
            hint=f"crisiscomm statement edit {incident.id} {statement} "
            f"--lang {missing[0]} --file FILE",
        )
    waiting = pending_approvers(playbook, incident, statement) or []
    if waiting:
        raise RefusedError(
            _("version {v} of `{s}` is not cleared: waiting for {roles}").format(
                v=version["version"], s=statement, roles=", ".join(waiting)
            ),
            hint=f"crisiscomm approve {incident.id} {statement}",
        )
    record = incident.data["statements"][statement]
    approvers = [a["actor"] for a in _approvals_of(incident, statement, version["hash"])]
    refuse_one_person_release(playbook, statement, version, approvers, actor)
    if any(r["hash"] == version["hash"] for r in record.get("released") or []):
        raise RefusedError(
            _("version {v} of `{s}` was already released").format(
                v=version["version"], s=statement
            ),
            hint=_("draft a new version for the next update"),
        )
    data = own_data(incident)
    release_record: dict[str, Any] = {
        "version": version["version"],
        "hash": version["hash"],
        "at": format_utc(now),
        "actor": actor,
    }
    own_record(data, statement)["released"].append(release_record)
    timers: list[NewTimer] = []
    next_due = _promised_update(playbook, incident, version, now)
    if next_due is not None:
        data["next_update_at"] = format_utc(next_due)
        release_record["next_update_at"] = data["next_update_at"]
        # the promise belongs to the incident, not to this state: it is kept (or escalated
        # as missed) whatever state the incident moves to, until a later release
        timers.append(
            NewTimer(
                "promise",
                f"promise:{statement}:v{version['version']}",
                next_due,
                {"state": incident.state, "statement": statement, "armed_at": format_utc(now)},
            )
        )
    definition = playbook.statements[statement]
    payload = {
        "incident_id": incident.id,
        "kind": "statement",
        "statement": statement,
        "version": version["version"],
        "subject": f"{playbook.statement_title(statement)} ({incident.id})",
        # the released version's texts are read when the row is (a released version never
        # changes): "texts", and "text" joined in these languages (store/outbox.py)
        "texts_from": list(playbook.languages),
    }
    outbox = []
    for channel in definition.get("channels") or []:
        settings = playbook.channels.get(channel) or {}
        # e-mail goes to the channel's distribution list, one message per address
        recipients = (
            list(settings.get("to") or []) if settings.get("type") == "smtp" else ["public"]
        )
        for recipient in recipients:
            key = f"{incident.id}:{statement}:v{version['version']}:{channel}:{recipient}"
            outbox.append(OutboxMessage(key, channel, recipient, payload))
    event = NewEvent(
        now,
        actor,
        "statement.released",
        {
            "statement": statement,
            "version": version["version"],
            "hash": version["hash"],
            "channels": list(definition.get("channels") or []),
            "next_update_at": release_record.get("next_update_at"),
            "role": next((r for r in releasers if playbook.may_act_for(actor, r)), ""),
        },
    )
    event = signed(playbook, incident, event, signer)
    return Outcome(
        replace(incident, data=data), [event], timers, False, outbox, statements_changed=True
    )


def rebuts(playbook: Playbook, statement: str) -> bool:
    """Whether releasing `statement` rebuts the posts linked to the incident: the
    playbook's `rebuttal`, or any statement of a playbook that has none so named."""
    return statement == REBUTTAL or REBUTTAL not in playbook.statements


def released_at(incident: IncidentRow, statement: str) -> datetime | None:
    """When a statement was first released, or None."""
    releases = (incident.data.get("statements", {}).get(statement) or {}).get("released") or []
    return parse_utc(releases[0]["at"]) if releases else None
