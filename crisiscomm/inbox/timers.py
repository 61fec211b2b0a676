"""What an item's timers do when due: remind the assignee, then record the missed deadline
and tell the assignee and the head of press (notices.py), through the outbox.

Each firing is claimed in the transaction that records it (store/inbox.py), so it happens
exactly once however many `serve` processes woke up for it. A timer of an earlier deadline
(the item was extended or answered since: another generation) does nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crisiscomm.clock import Clock, format_utc
from crisiscomm.errors import CrisisCommError
from crisiscomm.inbox.notices import timer_notices
from crisiscomm.inbox.register import Register
from crisiscomm.store.rows import NewEvent, TimerRow

if TYPE_CHECKING:
    from crisiscomm.office.model import Office
    from crisiscomm.store import Store

logger = logging.getLogger(__name__)

__all__ = ["SYSTEM", "fire_due", "fire_register_due", "fire_timer", "register_office"]

SYSTEM = "crisiscomm"


def fire_timer(
    *,
    store: Store,
    register: Register,
    clock: Clock,
    timer: TimerRow,
    office: Office | None = None,
) -> bool:
    """Fire one due timer of an item, queueing its notices to the `office`'s people; False
    when another wake-up had it first or it no longer applies."""
    from crisiscomm.store import TimerAlreadyFired

    now = clock.now()
    late = max(0.0, (now - timer.due_at).total_seconds())
    item = store.get_inbox_item(timer.incident_id)
    lifecycle = register.lifecycle(item.kind)
    if item.generation != timer.generation or lifecycle.norm_met(item.status):
        return store.claim_inbox_timer(timer, now, late)
    data = {"due_at": format_utc(timer.due_at), "assignee": item.assignee, "late_by": late}
    kind = "inbox.overdue" if timer.kind == "deadline" else "inbox.reminder"
    event = NewEvent(now, SYSTEM, kind, data)
    key = f"inbox:{item.id}:timer{timer.id}"  # the timer fires once: so do its notices
    notices = (
        []
        if office is None
        else timer_notices(office, item, timer_kind=timer.kind, key=key, now=now)
    )
    try:
        store.commit_inbox_item(
            item=item,
            before=item,
            events=[event],
            claim=timer,
            late_by_seconds=late,
            outbox=notices,
        )
    except TimerAlreadyFired:
        return False
    return True


def fire_due(
    *,
    store: Store,
    register: Register,
    clock: Clock,
    limit: int = 100,
    office: Office | None = None,
) -> int:
    """Fire every timer of the register due now; how many this call fired."""
    fired = 0
    while True:
        due = store.due_inbox_timers(clock.now(), limit)
        for timer in due:
            fired += fire_timer(
                store=store, register=register, clock=clock, timer=timer, office=office
            )
        if len(due) < limit:
            return fired


def fire_register_due(*, store: Store, clock: Clock) -> int:
    """`serve` and `tick`: fire the register's due timers, reading the office's register
    (register.py) only when one is due."""
    from crisiscomm.inbox.register import compiled_register, find_register

    soonest = store.next_inbox_timer()
    if soonest is None or soonest > clock.now():
        return 0
    register = compiled_register(find_register())
    return fire_due(store=store, register=register, clock=clock, office=register_office())


def register_office() -> Office | None:
    """The office whose people the register's notices reach (office/find.py's
    `find_office`); None, with a warning logged, when there is none to read: the
    deadlines are then recorded without notices rather than not at all."""
    from crisiscomm.office.find import compiled_office, find_office

    try:
        return compiled_office(find_office(None))
    except CrisisCommError as error:
        logger.warning("the register's notices are not sent: %s", error.message)
        return None
