"""The register's service: each act on an item is one commit (row, chained events, timers).

    added = add(store=store, register=register, clock=clock, actor="asultanova",
                entries=[Entry(kind="question", ...)])
    act(store=store, register=register, clock=clock, actor="asultanova",
        item_id="INB-2027-0001", trigger="answer", answer="...")

A trigger moves an item through its kind's lifecycle (register.py); the deadline comes from
the kind's norm and the work calendar (calendar.py) and is kept by two timers of the item's
generation: a reminder to the assignee and the deadline itself (timers.py fires them).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, format_utc
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.inbox.calendar import deadline
from crisiscomm.inbox.clearance import text_to_send
from crisiscomm.inbox.notices import FALSE_RUMOUR, Proposal, escalation_notices
from crisiscomm.inbox.register import Register
from crisiscomm.store.inbox import InboxItem, PersonRecord, person_hash
from crisiscomm.store.rows import NewEvent, NewTimer, OutboxMessage

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = [
    "Entry",
    "act",
    "acting_person",
    "add",
    "deadline_of",
    "find",
    "link",
    "person_id",
    "record_reach",
    "rumour_proposal",
    "timers_for",
]


@dataclass(frozen=True)
class Entry:
    """A new item as typed or imported (received_at aware; name and contact are personal)."""

    kind: str
    received_at: datetime
    channel: str
    source: str
    language: str
    subject: str
    text: str
    external_id: str | None = None
    incidents: tuple[str, ...] = ()
    name: str | None = None
    contact: str | None = None
    reach: int | None = None
    assignee: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def _visible(text: str, what: str) -> str:
    stripped = text.strip()
    if stripped and stripped.isprintable():  # the common case, without a loop in Python
        return stripped
    if not text or not any(ch.isprintable() and not ch.isspace() for ch in text):
        raise RefusedError(_("{what} is empty").format(what=what))
    return stripped


def _span(duration: dict[str, int] | None) -> timedelta:
    if not duration:
        return timedelta(0)
    hours = duration.get("hours", 0) + 24 * (
        duration.get("days", 0) + duration.get("working_days", 0) + 30 * duration.get("months", 0)
    )
    return timedelta(hours=hours)


def deadline_of(register: Register, item: InboxItem, *, during_incident: bool) -> datetime | None:
    """When the item must be answered by its kind's norm (None: no norm runs for it)."""
    return _deadline(
        register,
        item.kind,
        item.received_at,
        item.data,
        extended=item.extended,
        during_incident=during_incident,
    )


def _deadline(
    register: Register,
    kind: str,
    received_at: datetime,
    data: dict[str, Any],
    *,
    extended: bool,
    during_incident: bool,
) -> datetime | None:
    norm = register.norms.get(kind)
    if norm is None:
        return None
    start = received_at
    duration = norm.within
    if norm.reach_threshold is not None:  # a post: checked within the norm once it spreads
        crossed = data.get("threshold_crossed_at")
        if crossed is None:
            return None
        start = datetime.fromisoformat(crossed)
    elif extended and norm.extended:
        duration = norm.extended
    elif during_incident and norm.during_incident:
        duration = norm.during_incident
    return deadline(start, duration, register.calendar)


def timers_for(register: Register, item: InboxItem, now: datetime) -> list[NewTimer]:
    """The reminder and deadline timers of an item's deadline (none once the norm is met)."""
    if item.due_at is None or register.lifecycle(item.kind).norm_met(item.status):
        return []
    norm = register.norms[item.kind]
    timers = [NewTimer("deadline", "deadline", item.due_at, {"due_at": format_utc(item.due_at)})]
    remind_at = item.due_at - _span(dict(norm.remind_before or {}))
    if norm.remind_before and remind_at > now:
        timers.append(NewTimer("reminder", "reminder", remind_at, {}))
    return timers


def _open_incidents(store: Store, incidents: Sequence[str]) -> bool:
    for incident_id in incidents:
        incident = store.get_incident(incident_id, statements=False)  # refuses an unknown id
        if incident.closed_at is None:
            return True
    return False


def add(
    *,
    store: Store,
    register: Register,
    clock: Clock,
    actor: str,
    entries: Sequence[Entry],
    entered_by: str | None = None,
) -> list[tuple[InboxItem, bool]]:
    """Register new items in one transaction; per entry the item and whether it is new
    (an external id the register has already is not added twice). `entered_by`: who
    typed it for `actor` on a shared workstation, kept on the record."""
    now = clock.now()
    prepared = []
    people: list[PersonRecord | None] = []
    # once per call, not per row: a file brings thousands of rows and few incidents
    what = {
        "channel": _("the channel"),
        "source": _("the source"),
        "language": _("the language"),
        "subject": _("the subject"),
        "text": _("the text"),
    }
    incident_open: dict[tuple[str, ...], bool] = {}
    for entry in entries:
        lifecycle = register.lifecycle(entry.kind)
        person = None
        if entry.name or entry.contact:
            person = PersonRecord(ref=secrets.token_hex(8), name=entry.name, contact=entry.contact)
        data: dict[str, Any] = {}
        threshold = register.norms.get(entry.kind)
        if entry.reach is not None:
            data["reach"] = [[format_utc(now), entry.reach]]
            limit = threshold.reach_threshold if threshold else None
            if limit is not None and entry.reach >= limit:
                data["threshold_crossed_at"] = now.isoformat()
        if person is not None:
            data["person"] = person.ref
        if entry.incidents not in incident_open:
            incident_open[entry.incidents] = _open_incidents(store, entry.incidents)
        item = InboxItem(  # built once: an import builds thousands (`replace` is slow)
            id="",
            kind=entry.kind,
            status=lifecycle.initial,
            received_at=entry.received_at,
            channel=_visible(entry.channel, what["channel"]),
            source=_visible(entry.source, what["source"]),
            language=_visible(entry.language, what["language"]),
            subject=_visible(entry.subject, what["subject"]),
            text=_visible(entry.text, what["text"]),
            external_id=entry.external_id or None,
            reach=entry.reach,
            due_at=_deadline(
                register,
                entry.kind,
                entry.received_at,
                data,
                extended=False,
                during_incident=incident_open[entry.incidents],
            ),
            data=data,
        )
        received: dict[str, Any] = {
            "kind": item.kind,
            "status": item.status,
            "received_at": format_utc(item.received_at),
            "channel": item.channel,
            "source": item.source,
            "language": item.language,
            "subject": item.subject,
            "text": item.text,
            "external_id": item.external_id,
            "incidents": list(entry.incidents),
            "due_at": None if item.due_at is None else format_utc(item.due_at),
            "reach": item.reach,
        }
        if person is not None:
            received["person"] = {"ref": person.ref, "hash": person_hash(person)}
        if entered_by is not None:
            received["entered_by"] = entered_by
        events = [NewEvent(now, actor, "inbox.received", received)]
        prepared.append((item, events, timers_for(register, item, now)))
        people.append(person)
    return store.add_inbox_items(
        prepared, people=people, links=[list(entry.incidents) for entry in entries]
    )


def act(
    *,
    store: Store,
    register: Register,
    clock: Clock,
    actor: str,
    item_id: str,
    trigger: str,
    answer: str | None = None,
    body: str | None = None,
    reason: str | None = None,
    assignee: str | None = None,
    entered_by: str | None = None,
) -> InboxItem:
    """Fire `trigger` on an item: refused, with nothing changed, where its lifecycle does
    not allow it, it was allowed once and used, or what it requires is missing.
    `entered_by`: who typed it for `actor` on a shared workstation, kept on the record."""
    now = clock.now()
    before = store.get_inbox_item(item_id)
    lifecycle = register.lifecycle(before.kind)
    target = lifecycle.fire(trigger, before.status, fired=tuple(before.data.get("fired") or ()))
    data: dict[str, Any] = {"from": before.status, "to": target}
    if trigger == "answer":  # the text typed, or the draft; cleared where inbox.yaml says so
        answer, sent = text_to_send(register, before, answer)
        if sent is not None:
            data["draft"] = sent
    given = {"answer": answer, "body": body, "reason": reason}
    for need in lifecycle.triggers[trigger].requires:
        value = given.get(need)
        if value is None or not value.strip():
            raise RefusedError(
                _("`{trigger}` needs the {what}").format(trigger=trigger, what=need),
                hint=_("give it with --{what}").format(what=need),
            )
        data[need] = _visible(value, need)
    item_data = dict(before.data)
    item_data["fired"] = [*(item_data.get("fired") or []), trigger]
    item = replace(before, status=target, data=item_data)
    if assignee is not None:
        item = replace(item, assignee=assignee)
        data["assignee"] = assignee
    if "answer" in data:
        item = replace(item, answer=data["answer"])
    if "body" in data:
        item_data["referred_to"] = data["body"]
    if trigger == "extend":
        item = replace(item, extended=True)
        item_data["extension"] = {"reason": data["reason"], "at": format_utc(now)}
    if lifecycle.final(target):
        item = replace(item, closed_at=now)
    timers: list[NewTimer] = []
    if trigger == "extend":
        due = deadline_of(register, item, during_incident=False)
        item = replace(item, due_at=due, generation=before.generation + 1)
        data["due_at"] = None if due is None else format_utc(due)
        timers = timers_for(register, item, now)
    elif lifecycle.norm_met(target) and not lifecycle.norm_met(before.status):
        item = replace(item, generation=before.generation + 1)  # retires its timers
        if before.due_at is not None:
            data["within_norm"] = now <= before.due_at
    if entered_by is not None:
        data["entered_by"] = entered_by
    event = NewEvent(now, actor, f"inbox.{trigger}", data)
    return store.commit_inbox_item(item=item, before=before, events=[event], timers=timers)


def link(
    *,
    store: Store,
    clock: Clock,
    actor: str,
    item_id: str,
    incident_id: str,
    entered_by: str | None = None,
) -> InboxItem:
    """Link an item to an incident (an unknown incident is refused); `entered_by` as for
    `act`."""
    before = store.get_inbox_item(item_id)
    store.get_incident(incident_id, statements=False)
    if incident_id in store.inbox_links(item_id):
        raise RefusedError(
            _("{item} is linked to {incident} already").format(item=item_id, incident=incident_id)
        )
    linked = {"incident": incident_id, **({"entered_by": entered_by} if entered_by else {})}
    event = NewEvent(clock.now(), actor, "inbox.linked", linked)
    return store.commit_inbox_item(item=before, before=before, events=[event], links=[incident_id])


def record_reach(
    *,
    store: Store,
    register: Register,
    clock: Clock,
    actor: str,
    item_id: str,
    views: int,
    office: Any = None,
    entered_by: str | None = None,
) -> InboxItem:
    """Record a post's reach now; past the threshold its check deadline starts to run and,
    with the `office`, the head of press is told (notices.py) in the same commit."""
    now = clock.now()
    before = store.get_inbox_item(item_id)
    norm = register.norms.get(before.kind)
    if before.kind != "post":
        raise RefusedError(_("only a post has a reach; {id} is not one").format(id=item_id))
    if views < 0:
        raise RefusedError(_("the reach is a number of views, 0 or more"))
    data = dict(before.data)
    data["reach"] = [*(data.get("reach") or []), [format_utc(now), views]]
    item = replace(before, reach=views, data=data)
    event: dict[str, Any] = {"views": views}
    if entered_by is not None:
        event["entered_by"] = entered_by
    timers: list[NewTimer] = []
    notices: list[OutboxMessage] = []
    threshold = norm.reach_threshold if norm else None
    if threshold is not None and views >= threshold and "threshold_crossed_at" not in data:
        data["threshold_crossed_at"] = now.isoformat()
        due = deadline_of(register, item, during_incident=False)
        item = replace(item, due_at=due, generation=before.generation + 1)
        event["threshold"] = threshold
        event["due_at"] = None if due is None else format_utc(due)
        timers = timers_for(register, item, now)
        if office is not None:
            notices = escalation_notices(
                office, item, proposal=rumour_proposal(store, item_id), now=now
            )
    return store.commit_inbox_item(
        item=item,
        before=before,
        events=[NewEvent(now, actor, "inbox.reach", event)],
        timers=timers,
        outbox=notices,
    )


def rumour_proposal(store: Store, item_id: str) -> Proposal:
    """The open incidents a post is linked to, else the open false-rumour incidents."""
    open_ids = {i.id: i.playbook_id for i in store.list_incidents(open_only=True)}
    linked = tuple(i for i in store.inbox_links(item_id) if i in open_ids)
    candidates = tuple(sorted(i for i, p in open_ids.items() if p == FALSE_RUMOUR))
    return Proposal(linked=linked, candidates=() if linked else candidates)


def person_id(office: Any, typed: str, *, what: str) -> str:
    """The office's id of the person `typed` names (id, login, alias, full name); a refusal
    for a name that matches nobody of the office."""
    person = office.person(typed)
    if person is None:
        raise RefusedError(
            _("{what} `{name}` is nobody of the office").format(what=what, name=typed),
            hint=_("use a person id from office.yaml, e.g. `crisiscomm oncall` lists them"),
        )
    return str(person.id)


def acting_person(*, store: Store, office: Any, actor: str) -> tuple[str, str | None]:
    """Who acts, as the office's person id, and who typed it for them (None: themselves),
    as incidents resolve it (engine/identity.py): `--as` names someone else only where the
    office allows acting for others; elsewhere the identity is who acts (a refusal)."""
    named = person_id(office, actor, what=_("the actor"))
    if not getattr(actor, "named", True):  # the login itself
        return named, None
    identity = store.identity()
    own = office.person(identity)
    if own is not None and own.id == named:
        return named, None
    if not office.acting_for_allowed:
        raise RefusedError(
            _(
                "you are {who}: the office does not let anyone act for someone else, so "
                "--as may only name yourself"
            ).format(who=own.id if own is not None else identity),
            hint=_(
                "act under your own login; a shared duty workstation has `settings: "
                "{acting_for: allowed}` in office.yaml"
            ),
        )
    return named, str(own.id) if own is not None else identity


def find(
    *,
    store: Store,
    register: Register,
    now: datetime,
    kind: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    incident: str | None = None,
    contains: str | None = None,
    overdue: bool = False,
) -> list[InboxItem]:
    """The items that match every filter given, newest first."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (("kind", kind), ("status", status), ("assignee", assignee)):
        if value is not None:
            conditions.append(f"{column} = :{column}")
            params[column] = value
    if incident is not None:
        conditions.append("id IN (SELECT item_id FROM inbox_links WHERE incident_id = :incident)")
        params["incident"] = incident
    if contains is not None:  # the full-text index (store/search.py): every word, any form
        matching = store.inbox_text_condition(contains)
        if matching is None:
            raise UsageError(
                _("`{text}` has no word to search for").format(text=contains),
                hint=_("give a word of the subject, text or answer"),
            )
        conditions.append(matching[0])
        params.update(matching[1])
    if overdue:
        conditions.append("closed_at IS NULL AND due_at IS NOT NULL AND due_at < :now")
        params["now"] = format_utc(now)
    items = store.inbox_items(" AND ".join(conditions), **params)
    if overdue:  # the norm is met in some states that are not closed (answered, referred)
        items = [i for i in items if not register.lifecycle(i.kind).norm_met(i.status)]
    return items
