"""Citizens' personal data in the register: who may see it, erasing it, a person's export.

    erase(store=store, clock=clock, actor="asultanova", item_id="INB-2027-0001",
          reason="the citizen asked, letter 12/3")
    erase_expired(store=store, register=register, clock=clock, actor="asultanova")
    export_person(store=store, clock=clock, actor="asultanova", typed="+998 90 111-22-33")

A name and contact are shown to the item's assignee only (`may_see`), and the assignee is
the person the authenticated identity is (the OS account on SQLite, the database login on
PostgreSQL), as the engine resolves actors: `--as` names someone else only where the office
allows acting for others. Erasing and exporting are recorded in the item's log (who, when,
why), which never holds the data itself.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, format_utc
from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.store.rows import NewEvent
from crisiscomm.store.search import fold_words

if TYPE_CHECKING:
    from crisiscomm.inbox.register import Register
    from crisiscomm.office.model import Office
    from crisiscomm.store import Store
    from crisiscomm.store.inbox import InboxItem, PersonRecord

__all__ = ["erase", "erase_expired", "export_person", "may_see", "person_view", "viewer"]


def viewer(*, store: Store, office: Office, actor: str) -> str | None:
    """The office's id of who is looking, on the identity's word (None: nobody of the
    office). `actor` is what `--as` / CRISISCOMM_ACTOR named: it counts where the office
    allows acting for others, or where it names the identity's own person."""
    own = office.person(store.identity())
    if getattr(actor, "named", True):  # library callers name the actor themselves
        named = office.person(actor)
        if named is not None and (office.acting_for_allowed or (own and own.id == named.id)):
            return str(named.id)
    return None if own is None else str(own.id)


def may_see(item: InboxItem, person_id: str | None) -> bool:
    """Whether `person_id` may see the name and contact of the citizen behind `item`."""
    return person_id is not None and item.assignee == person_id


def person_view(
    *, store: Store, office: Office, actor: str, item: InboxItem
) -> dict[str, str | None] | str | None:
    """The personal data behind `item` as `actor` may see it: the name and contact (the
    assignee), "withheld" (anyone else), "erased", or None when there is none."""
    ref = item.data.get("person")
    person = None if not ref else store.inbox_person(str(ref))
    if person is None:
        return None
    if person.erased_at is not None:
        return "erased"
    if not may_see(item, viewer(store=store, office=office, actor=actor)):
        return "withheld"
    return {"name": person.name, "contact": person.contact}


def erase(
    *,
    store: Store,
    clock: Clock,
    actor: str,
    item_id: str,
    reason: str,
    at: datetime | None = None,
    entered_by: str | None = None,
) -> InboxItem:
    """Erase the name and contact behind an item, recording who, when and why; refused,
    nothing changed, for an unknown item, one without personal data, or one erased."""
    now = at or clock.now()
    before = store.get_inbox_item(item_id)
    why = reason.strip()
    if not any(ch.isprintable() and not ch.isspace() for ch in why):
        raise RefusedError(
            _("give the reason for erasing (the request, or the retention period)"),
            hint=_('e.g. --reason "the citizen asked, letter 12/3"'),
        )
    ref = before.data.get("person")
    person = None if not ref else store.inbox_person(str(ref))
    if person is None:
        raise RefusedError(_("{id} holds no name or contact").format(id=item_id))
    if person.erased_at is not None:
        raise RefusedError(
            _("the personal data of {id} was erased already ({at})").format(
                id=item_id, at=format_utc(person.erased_at)
            )
        )
    data = {**before.data, "person_erased_at": format_utc(now)}
    erased = {"person": person.ref, "reason": why}
    if entered_by is not None:
        erased["entered_by"] = entered_by
    event = NewEvent(now, actor, "inbox.erased", erased)
    return store.erase_inbox_person(
        item=replace(before, data=data), before=before, event=event, ref=person.ref
    )


def erase_expired(
    *,
    store: Store,
    register: Register,
    clock: Clock,
    actor: str,
    entered_by: str | None = None,
) -> list[str]:
    """Erase the personal data of every item closed longer ago than the register's
    retention period; the ids erased, in one commit."""
    if not register.retention:
        raise RefusedError(
            _("the register sets no retention period for personal data"),
            hint=_("add `personal_data: {{retention: {{months: N}}}}` to {path}").format(
                path=register.path
            ),
        )
    now = clock.now()
    expired = store.inbox_people_expired(_back(now, dict(register.retention)))
    reason = _("the retention period ended")
    with store.batch():
        for item_id in expired:
            erase(
                store=store,
                clock=clock,
                actor=actor,
                item_id=item_id,
                reason=reason,
                at=now,
                entered_by=entered_by,
            )
    return expired


def export_person(
    *, store: Store, clock: Clock, actor: str, typed: str, entered_by: str | None = None
) -> list[dict[str, Any]]:
    """What the register holds on the person a name or contact names: per item, the
    personal data, the item and its log. Each item's log records the export."""
    matched = [(i, p) for i, p in store.inbox_people_held() if _names(p, typed)]
    now = clock.now()
    found: list[dict[str, Any]] = []
    with store.batch():
        for item_id, person in matched:
            item = store.get_inbox_item(item_id)
            exported = {"person": person.ref}
            if entered_by is not None:
                exported["entered_by"] = entered_by
            event = NewEvent(now, actor, "inbox.exported", exported)
            item = store.commit_inbox_item(item=item, before=item, events=[event])
            found.append(_export(store, item, person))
    return found


def _export(store: Store, item: InboxItem, person: PersonRecord) -> dict[str, Any]:
    return {
        "person": {"name": person.name, "contact": person.contact},
        "item": {
            "id": item.id,
            "kind": item.kind,
            "status": item.status,
            "received_at": format_utc(item.received_at),
            "channel": item.channel,
            "source": item.source,
            "language": item.language,
            "subject": item.subject,
            "text": item.text,
            "answer": item.answer,
            "assignee": item.assignee,
            "closed_at": None if item.closed_at is None else format_utc(item.closed_at),
            "incidents": store.inbox_links(item.id),
        },
        "log": [
            {"at": format_utc(e.at), "actor": e.actor, "type": e.type}
            for e in store.inbox_events(item.id)
        ],
    }


def _names(person: PersonRecord, typed: str) -> bool:
    """Whether `typed` is this person's name (any case, diacritics, word spacing) or
    contact (a phone number by its digits alone, an address or handle in any case)."""
    digits = "".join(ch for ch in typed if ch.isdigit())
    contact = person.contact or ""
    if len(digits) >= 5 and digits == "".join(ch for ch in contact if ch.isdigit()):
        return True
    if contact and typed.strip().casefold() == contact.strip().casefold():
        return True
    words = fold_words(typed)
    return bool(words) and words == fold_words(person.name or "")


def _back(moment: datetime, span: dict[str, int]) -> datetime:
    """`moment` minus a retention period of days or calendar months."""
    moment -= timedelta(days=span.get("days", 0))
    months = span.get("months", 0)
    if months:
        index = moment.year * 12 + moment.month - 1 - months
        year, month = divmod(index, 12)
        day = min(moment.day, monthrange(year, month + 1)[1])
        moment = moment.replace(year=year, month=month + 1, day=day)
    return moment
