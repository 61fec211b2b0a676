"""Posts rebutted by a released statement: the register's side of an incident's release.

When an incident releases its rebuttal (engine/service.py `release_statement`), each post
linked to the incident that is not yet settled is marked `rebutted`, in the release's
transaction (the caller's `Store.batch`), with the correction latency (first seen, the
post's `received_at`, to the release) and its reach at that moment: an `inbox.rebutted`
event in the post's own chain. The post's timers are retired (its norm is met).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc
from crisiscomm.store.inbox import InboxItem, InboxTables
from crisiscomm.store.rows import NewEvent

__all__ = ["REBUTTABLE", "REBUTTED", "rebut_linked_posts"]

# The shipped register's post states (inbox.yaml): a post still open to a verdict, or found
# false or misleading, is rebutted by the incident's statement; one found true or not the
# office's matter, or already rebutted or closed, is left as it is.
REBUTTABLE = ("new", "checking", "false", "misleading")
REBUTTED = "rebutted"
POSTS = (
    "kind = 'post' AND closed_at IS NULL"
    " AND id IN (SELECT item_id FROM inbox_links WHERE incident_id = :incident)"
)


def rebut_linked_posts(
    store: InboxTables, *, incident_id: str, statement: str, at: datetime, actor: str
) -> list[InboxItem]:
    """Mark the incident's open posts rebutted by `statement`, released `at`; the posts."""
    rebutted = []
    for before in store.inbox_items(POSTS, incident=incident_id):
        if before.status not in REBUTTABLE:
            continue
        record: dict[str, Any] = {
            "incident": incident_id,
            "statement": statement,
            "at": format_utc(at),
            "from": before.status,
            "latency_seconds": max(0.0, (at - before.received_at).total_seconds()),
            "reach": before.reach,
        }
        data = {**before.data, "rebuttal": record}
        item = replace(before, status=REBUTTED, data=data, generation=before.generation + 1)
        event = NewEvent(at, actor, "inbox.rebutted", record)
        rebutted.append(store.commit_inbox_item(item=item, before=before, events=[event]))
    return rebutted
