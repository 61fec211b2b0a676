"""What the register tells people: reminders, missed deadlines, a post spreading.

    rows = timer_notices(office, item, timer_kind="reminder", key="inbox:INB-...:t12", now=now)

A notice reaches each person in their own `language` (office.yaml people), its texts made
under `i18n.speaking`, once per channel of the office (`channels`; the console when the
office has none). Rows carry the channel's name, never its settings, and their idempotency
key is derived from what caused them (a timer, the post's crossing), so a repeated firing
adds nothing. A notice names the item, its kind, subject and deadline: never the citizen,
nor how to reach them (that stays in `inbox_people`, for the assignee alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crisiscomm import i18n
from crisiscomm.i18n import _
from crisiscomm.office.model import Office, Person
from crisiscomm.store.inbox import InboxItem
from crisiscomm.store.rows import OutboxMessage

__all__ = [
    "DEFAULT_CHANNELS",
    "ESCALATE_TO",
    "FALSE_RUMOUR",
    "Proposal",
    "channels_of",
    "escalation_notices",
    "proposal_line",
    "timer_notices",
]

# where register notices go when office.yaml names no channels
DEFAULT_CHANNELS: Mapping[str, Mapping[str, Any]] = {"console": {"type": "console"}}
ESCALATE_TO = "head_of_press"  # the role a missed deadline and a spreading post go to
DUTY = "duty_officer"  # who is reminded of an item nobody is assigned to
FALSE_RUMOUR = "false-rumour"  # the playbook a spreading post may call for


@dataclass(frozen=True)
class Proposal:
    """What a notice about a spreading post proposes: the open incidents it is linked to,
    else the open false-rumour incidents it could be linked to, else a new one."""

    linked: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()


def channels_of(office: Office | None) -> Mapping[str, Mapping[str, Any]]:
    """The channels register notices leave through: the office's, else the console."""
    if office is not None and office.channels:
        return office.channels
    return DEFAULT_CHANNELS


def _told(office: Office, role: str, now: datetime) -> list[Person]:
    on_duty = office.on_duty(role, now)
    if on_duty is not None:
        return [on_duty]
    return office.members(role) or office.deputies(role)


def _kind_name(kind: str) -> str:
    names = {
        "media_query": _("media query"),
        "question": _("question"),
        "appeal": _("appeal"),
        "post": _("post"),
    }
    return names.get(kind, kind)


def _local(moment: datetime | None, office: Office) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(office.timezone)).strftime("%Y-%m-%d %H:%M")


def _rows(
    office: Office,
    item: InboxItem,
    people: Sequence[Person],
    *,
    kind: str,
    key: str,
    texts: Any,
) -> list[OutboxMessage]:
    """A row per person and channel; `texts()` gives (subject, text) in the language in use."""
    channels = channels_of(office)
    rows: list[OutboxMessage] = []
    for person in dict.fromkeys(people):
        code = person.language if person.language in i18n.LANGUAGE_NAMES else i18n.language()
        with i18n.speaking(code):
            subject, text = texts()
        payload = {
            "item_id": item.id,
            "kind": kind,
            "subject": subject,
            "text": text,
            "people": [person.name],
            "language": code,
        }
        for channel, settings in channels.items():
            if settings.get("type") == "smtp":
                if not person.email:
                    continue
                recipient = person.email
            elif settings.get("type") == "telegram":
                if not person.telegram:
                    continue
                recipient = person.telegram
            else:
                recipient = person.id
            rows.append(OutboxMessage(f"{key}:{channel}:{person.id}", channel, recipient, payload))
    return rows


def timer_notices(
    office: Office, item: InboxItem, *, timer_kind: str, key: str, now: datetime
) -> list[OutboxMessage]:
    """The notices of an item's timer: a reminder to the assignee (the duty officer while
    nobody is assigned), or, at the deadline, to the assignee and the head of press."""
    assignee = office.people.get(item.assignee or "")
    people = [assignee] if assignee is not None else _told(office, DUTY, now)
    overdue = timer_kind == "deadline"
    if overdue:
        people = [*people, *_told(office, ESCALATE_TO, now)]

    def texts() -> tuple[str, str]:
        values = {
            "id": item.id,
            "kind": _kind_name(item.kind),
            "subject": item.subject,
            "due": _local(item.due_at, office),
        }
        if overdue:
            subject = _("Overdue: {kind} {id}").format(**values)
            text = _("The {kind} {id} “{subject}” was due {due} and is not answered yet.").format(
                **values
            )
        else:
            subject = _("Reminder: {kind} {id} is due {due}").format(**values)
            text = _("The {kind} {id} “{subject}” must be answered by {due}.").format(**values)
        return subject, text + "\n" + _("See it: crisiscomm inbox show {id}").format(**values)

    kind = "inbox.overdue" if overdue else "inbox.reminder"
    return _rows(office, item, people, kind=kind, key=key, texts=texts)


def proposal_line(item_id: str, proposal: Proposal) -> str:
    """What to do about a spreading post, in the language in use."""
    if proposal.linked:
        return _("It is linked to the open incident {incident}.").format(
            incident=", ".join(proposal.linked)
        )
    if proposal.candidates:
        return _("Link it to the open incident: crisiscomm inbox link {id} {incident}").format(
            id=item_id, incident=proposal.candidates[0]
        )
    return _(
        "If it is false, open a false-rumour incident: crisiscomm open-incident "
        "{playbook} --title TITLE, then crisiscomm inbox link {id} INCIDENT"
    ).format(playbook=FALSE_RUMOUR, id=item_id)


def escalation_notices(
    office: Office, item: InboxItem, *, proposal: Proposal, now: datetime
) -> list[OutboxMessage]:
    """The notice of a post whose reach crossed the threshold: to the head of press (and
    the assignee), proposing a false-rumour incident or naming the one to link it to."""
    people = _told(office, ESCALATE_TO, now)
    assignee = office.people.get(item.assignee or "")
    if assignee is not None:
        people = [*people, assignee]

    def texts() -> tuple[str, str]:
        values: dict[str, Any] = {
            "id": item.id,
            "subject": item.subject,
            "source": item.source,
            "views": item.reach or 0,
            "due": _local(item.due_at, office),
        }
        subject = _("Post {id} is spreading: {views} views").format(**values)
        lines = [
            _("The post {id} “{subject}” ({source}) has {views} views; check it by {due}.").format(
                **values
            )
        ]
        lines.append(proposal_line(item.id, proposal))
        return subject, "\n".join(lines)

    key = f"inbox:{item.id}:threshold"
    return _rows(office, item, people, kind="inbox.escalation", key=key, texts=texts)
