"""Personal data of the register: finding a person's records, and erasing them.

A citizen's name and contact are only in `inbox_people` (inbox.py); the item's log holds
the row's reference and a hash keyed by the row's own key. Erasing clears the name, the
contact and the key, and marks the row erased, in the transaction that appends the item's
`inbox.erased` event: the chain stays whole, and the hash left in the log can no longer be
tied to anyone (the key to test a guess against it is gone).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from crisiscomm.clock import format_utc
from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.store.inbox import InboxTables
from crisiscomm.store.rows import NewEvent

if TYPE_CHECKING:
    from crisiscomm.store.inbox_rows import InboxItem, PersonRecord

__all__ = ["InboxPeopleTables"]

ERASE = """
    UPDATE inbox_people SET name = NULL, contact = NULL, hash_key = NULL, erased_at = :at
    WHERE ref = :ref AND erased_at IS NULL
"""
HELD = """
    SELECT item_id, ref, name, contact FROM inbox_people
    WHERE erased_at IS NULL ORDER BY item_id, ref
"""
EXPIRED = """
    SELECT p.item_id FROM inbox_people AS p JOIN inbox_items AS i ON i.id = p.item_id
    WHERE p.erased_at IS NULL AND i.closed_at IS NOT NULL AND i.closed_at < :before
    ORDER BY p.item_id
"""


class InboxPeopleTables(InboxTables):
    """Reads and erasure of `inbox_people`."""

    def erase_inbox_person(
        self, *, item: InboxItem, before: InboxItem, event: NewEvent, ref: str
    ) -> InboxItem:
        """Erase the personal data `ref` of an item and record `event`, in one transaction;
        a refusal, nothing changed, when it was erased already (meanwhile, too)."""
        with self._transaction():
            stored = self.commit_inbox_item(item=item, before=before, events=[event])
            cursor = self._execute(ERASE, ref=ref, at=format_utc(event.at))
            if cursor.rowcount != 1:
                raise RefusedError(
                    _("the personal data of {id} was erased already").format(id=before.id)
                )
        return stored

    def inbox_people_held(self) -> list[tuple[str, PersonRecord]]:
        """Every name and contact the register holds (not erased), with its item's id."""
        with self._driver_errors():
            rows = self._execute(HELD).fetchall()
        from crisiscomm.store.inbox_rows import PersonRecord

        return [
            (str(item_id), PersonRecord(ref=ref, name=name, contact=contact, hash_key=""))
            for item_id, ref, name, contact in rows
        ]

    def inbox_people_expired(self, closed_before: datetime) -> list[str]:
        """The items closed before `closed_before` whose personal data is still held."""
        with self._driver_errors():
            rows = self._execute(EXPIRED, before=format_utc(closed_before)).fetchall()
        return [str(row[0]) for row in rows]
