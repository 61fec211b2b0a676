"""The register's rows: an item and a citizen's personal data, plain frozen dataclasses.

Importable from `crisiscomm.store.inbox` as well; kept apart so that a command that never
reads the register (`show`, `list`) does not build these classes when the store loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["InboxItem", "PersonRecord"]


@dataclass(frozen=True)
class InboxItem:
    """One register item: where it stands. `data` holds what only some kinds have (the
    body referred to, the extension's reason, a post's verdict and reach over time, the
    reference of the personal data); the store never looks inside it."""

    id: str  # "INB-2027-0001"; "" before the store allocates it
    kind: str  # "media_query" | "question" | "appeal" | "post"
    status: str
    received_at: datetime
    channel: str
    source: str
    language: str
    subject: str
    text: str
    assignee: str | None = None
    answer: str | None = None
    external_id: str | None = None
    due_at: datetime | None = None
    extended: bool = False
    reach: int | None = None
    closed_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
    generation: int = 1  # +1 whenever the deadline changes: the fencing token of its timers
    version: int = 0
    event_count: int = 0
    last_hash: str = ""


def _new_hash_key() -> str:
    import secrets  # only here: a new person's key

    return secrets.token_hex(32)


@dataclass(frozen=True)
class PersonRecord:
    """A citizen's name and contacts: personal data, kept out of the log."""

    ref: str
    name: str | None
    contact: str | None
    hash_key: str = field(default_factory=_new_hash_key)
    erased_at: datetime | None = None
