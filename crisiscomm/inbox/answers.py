"""Answers to register items, drafted in the asker's language (the item's `language`).

    draft(...)          a new version of an item's draft answer: from the linked incident's
                        latest released statement, from a template of inbox.yaml, or as the
                        officer wrote it; one commit (`inbox.drafted`, with its text)
    source_line(...)    where a draft came from, as an officer reads it

A draft is never silently in another language than the item's: a statement without text
in it is passed over for the kind's first template, and said so (`Drafted.note`); a
template without it is refused. Templates fill the item's values (check.ITEM_PLACEHOLDERS)
and, from the linked incident, its built-ins and facts as its statements in that language
write them. The draft lives in the item's data (`draft`: version, text, language, source,
author, the authors of every version, its approvals: clearance.py) and `inbox answer`
sends it.
"""

from __future__ import annotations

import hashlib
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, format_utc, parse_utc
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.inbox.clearance import refuse_unless_answerable
from crisiscomm.inbox.register import Register
from crisiscomm.store.inbox import InboxItem
from crisiscomm.store.rows import NewEvent
from crisiscomm.templates import BUILTIN_PLACEHOLDERS, missing_values, render
from crisiscomm.texts import has_visible_text

if TYPE_CHECKING:
    from crisiscomm.office.model import Office
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store import Store
    from crisiscomm.store.rows import IncidentRow

__all__ = ["Drafted", "draft", "source_line"]


@dataclass(frozen=True)
class Drafted:
    """A recorded draft: the item as stored, its draft, and what was passed over for it
    (`note`: a statement without text in the asker's language), if anything."""

    item: InboxItem
    draft: dict[str, Any]
    note: str | None = None


def draft(
    *,
    store: Store,
    register: Register,
    office: Office,
    clock: Clock,
    actor: str,
    item_id: str,
    template: str | None = None,
    from_statement: bool = False,
    text: str | None = None,
    incident: str | None = None,
    entered_by: str | None = None,
) -> Drafted:
    """Record a new version of an item's draft answer, in the item's language.

    `text`: the officer's own wording. `template`: that template of the kind. Else the
    linked incident's latest released statement in the item's language (`from_statement`
    asks for it explicitly), falling back, said so in `note`, to the kind's first template.
    `incident` picks one of several linked incidents; `entered_by`: who typed it for
    `actor` (service.acting_person), on the record.
    """
    if sum(bool(x) for x in (template, from_statement, text is not None)) > 1:
        raise UsageError(_("give one of --template, --from-statement and --text/--file"))
    now = clock.now()
    before = store.get_inbox_item(item_id)
    refuse_unless_answerable(register, before)
    incidents = _linked(store, before, incident)
    note = None
    source: dict[str, Any]
    if text is not None:
        if not has_visible_text(text):
            raise RefusedError(
                _("the answer is empty: it has no visible character"),
                hint=_("write the answer's text with --text, or in the file given with --file"),
            )
        written, source = text.strip(), {"written": True}
    elif template is not None:
        written = _from_template(store, register, office, before, template, incidents, now)
        source = {"template": template}
    else:
        written, source, note = _from_statement(
            store, register, office, before, incidents, now, asked=from_statement
        )
    return _record(
        store, before, written, source, actor=actor, entered_by=entered_by, now=now, note=note
    )


def _from_statement(
    store: Store,
    register: Register,
    office: Office,
    item: InboxItem,
    incidents: Sequence[str],
    now: datetime,
    *,
    asked: bool,
) -> tuple[str, dict[str, Any], str | None]:
    """The latest released statement's text in the item's language, else the kind's first
    template; with what was passed over for it, worded for the officer (or None)."""
    language = item.language
    found = _latest_release(store, incidents)
    if found is not None and found.texts.get(language, "").strip():
        source = {
            "statement": found.statement,
            "incident": found.incident_id,
            "version": found.version,
        }
        return found.texts[language].strip(), source, None
    reason = None
    if found is not None:
        reason = _(
            "the latest released statement of {incident} (`{s}`, version {v}) has no text in "
            "`{lang}`, the asker's language"
        ).format(incident=found.incident_id, s=found.statement, v=found.version, lang=language)
    elif asked:
        reason = _("{id} is linked to no incident with a released statement").format(id=item.id)
    name = _default_template(register, item, reason)
    try:
        written = _from_template(store, register, office, item, name, incidents, now)
    except RefusedError as error:
        if reason is None:
            raise
        raise RefusedError(f"{reason}; {error.message}", hint=error.hint) from None
    if reason is None:
        return written, {"template": name}, None
    passed_over = {"incident": found.incident_id, "statement": found.statement} if found else {}
    note = _("{reason}: drafted from the template `{name}` instead").format(
        reason=reason, name=name
    )
    return written, {"template": name, "instead_of_statement": passed_over}, note


def _record(
    store: Store,
    before: InboxItem,
    text: str,
    source: dict[str, Any],
    *,
    actor: str,
    entered_by: str | None,
    now: datetime,
    note: str | None,
) -> Drafted:
    """Commit `text` as the item's next draft version (refused if it reads as the last)."""
    current = before.data.get("draft")
    if current is not None and current["text"] == text:
        raise RefusedError(
            _("the draft answer of {id} already reads exactly so: version {v}").format(
                id=before.id, v=current["version"]
            ),
            hint=_("see it with `crisiscomm inbox show {id}`").format(id=before.id),
        )
    authors = list((current or {}).get("authors") or [])
    record = {
        "version": (current or {}).get("version", 0) + 1,
        "text": text,
        "language": before.language,
        "hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "source": source,
        "author": actor,
        "authors": authors if actor in authors else [*authors, actor],
        "at": format_utc(now),
        "approvals": [],
    }
    about = {k: record[k] for k in ("version", "hash", "language", "source", "text")}
    if entered_by is not None:
        about["entered_by"] = entered_by
    event = NewEvent(now, actor, "inbox.drafted", about)
    item = replace(before, data={**before.data, "draft": record})
    stored = store.commit_inbox_item(item=item, before=before, events=[event])
    return Drafted(stored, record, note)


def _linked(store: Store, item: InboxItem, chosen: str | None) -> list[str]:
    """The incidents the draft may draw on: `chosen` (one the item is linked to) or all."""
    links = store.inbox_links(item.id)
    if chosen is None:
        return links
    wanted = chosen.strip().upper()
    if wanted not in links:
        raise RefusedError(
            _("{id} is not linked to {incident}").format(id=item.id, incident=wanted),
            hint=_(
                "its incidents: {ids}; link it with `crisiscomm inbox link {id} {incident}`"
            ).format(ids=", ".join(links) or "-", id=item.id, incident=wanted),
        )
    return [wanted]


@dataclass(frozen=True)
class _Release:
    incident_id: str
    statement: str
    version: int
    at: datetime
    texts: Mapping[str, str]


def _latest_release(store: Store, incident_ids: Sequence[str]) -> _Release | None:
    """The statement version released last by any of the incidents, with its texts."""
    latest: _Release | None = None
    for incident_id in incident_ids:
        incident = store.get_incident(incident_id)
        for statement, record in (incident.data.get("statements") or {}).items():
            versions = {v["version"]: v for v in record.get("versions") or []}
            for release in record.get("released") or []:
                at = parse_utc(release["at"])
                if latest is None or at > latest.at:
                    texts = versions[release["version"]]["texts"]
                    latest = _Release(incident_id, statement, release["version"], at, texts)
    return latest


def _default_template(register: Register, item: InboxItem, reason: str | None) -> str:
    """The kind's first template; a refusal (with why no statement served) if it has none."""
    templates = register.answer_rules(item.kind).templates
    if templates:
        return next(iter(templates))
    message = _("inbox.yaml has no answer template for `{kind}`").format(kind=item.kind)
    raise RefusedError(
        message if reason is None else f"{reason}; {message}",
        hint=_(
            "write the answer yourself: crisiscomm inbox draft {id} --text ... (or --file FILE)"
        ).format(id=item.id),
    )


def _from_template(
    store: Store,
    register: Register,
    office: Office,
    item: InboxItem,
    name: str,
    incidents: Sequence[str],
    now: datetime,
) -> str:
    """Template `name` of the item's kind, in the item's language, filled from the item and
    the linked incident; refused naming what it lacks (the language, a value)."""
    templates = register.answer_rules(item.kind).templates
    if name not in templates:
        raise RefusedError(
            _("`{kind}` has no answer template `{name}`").format(kind=item.kind, name=name),
            hint=_("its templates: {names}").format(names=", ".join(templates) or "-"),
        )
    language = item.language
    template = templates[name].get(language)
    if template is None:
        raise RefusedError(
            _(
                "the template `{name}` has no text in `{lang}`, the asker's language (it has: "
                "{langs})"
            ).format(name=name, lang=language, langs=", ".join(templates[name])),
            hint=_(
                "write the answer yourself: crisiscomm inbox draft {id} --text ... (or --file "
                "FILE), or add `{lang}` to the template in inbox.yaml"
            ).format(id=item.id, lang=language),
        )
    context = _incident_context(store, incidents)
    values = _values(office, item, context, now)
    missing = missing_values(template, values)
    if missing:
        raise RefusedError(
            _("the template `{name}` needs {names}, which have no value for {id}").format(
                name=name, names=", ".join(f"${n}" for n in missing), id=item.id
            ),
            hint=_missing_hint(item, context, missing[0]),
        )
    return render(template, values).strip()


def _incident_context(
    store: Store, incidents: Sequence[str]
) -> tuple[Playbook, IncidentRow] | None:
    """The linked incident a template's incident values come from: of several, the open
    one opened last (else the one opened last); None for an item linked to none."""
    if not incidents:
        return None
    from crisiscomm.engine.service import pinned_playbook

    rows = [store.get_incident(incident_id, statements=False) for incident_id in incidents]
    chosen = max(rows, key=lambda row: (row.closed_at is None, row.opened_at))
    return pinned_playbook(store, chosen.playbook_hash), chosen


def _values(
    office: Office,
    item: InboxItem,
    context: tuple[Playbook, IncidentRow] | None,
    now: datetime,
) -> Mapping[str, str]:
    """What the placeholders stand for, written in the item's language."""
    from zoneinfo import ZoneInfo

    from crisiscomm.formats import datetime_text
    from crisiscomm.formats.dates import date_text

    language = item.language
    own = {
        "item_id": item.id,
        "subject": item.subject,
        "source": item.source,
        "received_at": datetime_text(item.received_at, language, office.timezone),
        "received_on": date_text(
            item.received_at.astimezone(ZoneInfo(office.timezone)).date(), language
        ),
        "office": office.title(language),
    }
    if context is None:
        return own
    from crisiscomm.engine.context import template_values

    playbook, incident = context
    promised = incident.data.get("next_update_at")
    if promised and parse_utc(promised) > now:  # the update the last release promised
        own["next_update_at"] = datetime_text(parse_utc(promised), language, playbook.timezone)
    incident_values: Any = template_values(playbook, incident, now, language)  # a Mapping
    return ChainMap(own, incident_values)


def _missing_hint(item: InboxItem, context: tuple[Playbook, IncidentRow] | None, name: str) -> str:
    if context is None:
        return _(
            "${name} comes from the incident the item is about: link it with `crisiscomm inbox "
            "link {id} INCIDENT`, or choose another template"
        ).format(name=name, id=item.id)
    playbook, incident = context
    if name in playbook.facts:
        return f"crisiscomm set {incident.id} {name}=..."
    if name in BUILTIN_PLACEHOLDERS:
        return _("`{name}` has no value in state {s}").format(name=name, s=incident.state)
    return _("choose another template, or write the answer with --text or --file")


def source_line(draft_record: Mapping[str, Any]) -> str:
    """Where a draft's text came from, as an officer reads it."""
    source = draft_record["source"]
    if "template" in source:
        return _("the template `{name}`").format(name=source["template"])
    if "statement" in source:
        return _("statement `{s}` of {incident}, version {v} as released").format(
            s=source["statement"], incident=source["incident"], v=source["version"]
        )
    return _("the text {who} wrote").format(who=draft_record["author"])
