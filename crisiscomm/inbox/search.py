"""`crisiscomm inbox search`: the register's items by the words of their subject, text or
answer, in any of the office's languages, best match first (the index: store/search.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.store.search import fold_words

if TYPE_CHECKING:
    from crisiscomm.store import Store
    from crisiscomm.store.inbox import InboxItem

__all__ = ["search"]


def search(*, store: Store, text: str, limit: int = 50) -> list[tuple[InboxItem, float]]:
    """The items holding every word of `text` (or words it begins), with their scores,
    best first; a usage error when `text` holds no word."""
    if not fold_words(text):
        raise UsageError(
            _("`{text}` has no word to search for").format(text=text),
            hint=_("give a word of the subject, text or answer"),
        )
    if limit < 1:
        raise UsageError(_("--limit is a number of items, 1 or more"))
    return store.search_inbox(text, limit=limit)
