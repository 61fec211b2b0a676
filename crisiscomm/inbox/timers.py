"""What an item's timers do when due: remind the assignee, then record the missed deadline.

Each firing is claimed in the transaction that records it (store/inbox.py), so it happens
exactly once however many `serve` processes woke up for it. A timer of an earlier deadline
(the item was extended or answered since: another generation) does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crisiscomm.clock import Clock, format_utc
from crisiscomm.inbox.register import Register
from crisiscomm.store.rows import NewEvent, TimerRow

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = ["SYSTEM", "fire_due", "fire_register_due", "fire_timer"]

SYSTEM = "crisiscomm"


def fire_timer(*, store: Store, register: Register, clock: Clock, timer: TimerRow) -> bool:
    """Fire one due timer of an item; False when another wake-up had it first or it no
    longer applies."""
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
    try:
        store.commit_inbox_item(
            item=item, before=item, events=[event], claim=timer, late_by_seconds=late
        )
    except TimerAlreadyFired:
        return False
    return True


def fire_due(*, store: Store, register: Register, clock: Clock, limit: int = 100) -> int:
    """Fire every timer of the register due now; how many this call fired."""
    fired = 0
    while True:
        due = store.due_inbox_timers(clock.now(), limit)
        for timer in due:
            fired += fire_timer(store=store, register=register, clock=clock, timer=timer)
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
    return fire_due(store=store, register=register, clock=clock)
