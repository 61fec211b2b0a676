"""The errors crisiscomm raises. Library code raises these; the CLI renders them.

    CrisisCommError                 exit 3 unless a subclass says otherwise
    ├── UsageError                  exit 2: bad arguments, a path that does not exist
    ├── NotFoundError               exit 2: a playbook, protocol or incident that is nowhere
    ├── PlaybookError               exit 1: a file that cannot be used as written
    │   └── LoadError               YAML that is unsafe or malformed (carries file:line:col)
    ├── RefusedError                exit 1: the engine refuses an action (a guard, four-eyes ...)
    │   ├── ConflictError           exit 1: the incident changed since it was read
    │   └── SignatureError          exit 1: a signature or signing key that cannot be trusted
    └── StoreError                  exit 1: the database cannot be opened, read or written

Every message is written for a press officer or a playbook author: it says what is wrong
and how to fix it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crisiscomm.documents.source import Location

__all__ = [
    "ConflictError",
    "CrisisCommError",
    "LoadError",
    "NotFoundError",
    "PlaybookError",
    "RefusedError",
    "SignatureError",
    "StoreError",
    "UsageError",
]


class CrisisCommError(Exception):
    """Base of every error crisiscomm raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CrisisCommError):
    """The command was called wrongly."""

    exit_code = 2


class NotFoundError(CrisisCommError):
    """A named playbook, protocol or file does not exist."""

    exit_code = 2


class PlaybookError(CrisisCommError):
    """A playbook or protocol cannot be used as written."""

    exit_code = 1


class LoadError(PlaybookError):
    """A YAML file is malformed or unsafe; `location` points at the offending spot."""

    def __init__(
        self,
        message: str,
        *,
        location: Location,
        rule: str = "yaml-syntax",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.location = location
        self.rule = rule


class RefusedError(CrisisCommError):
    """The engine refuses an action; the message says exactly why and what would help."""

    exit_code = 1


class ConflictError(RefusedError):
    """Another officer changed the incident between our read and our write."""


class SignatureError(RefusedError):
    """A signature that is malformed, for another purpose, by another key or for another
    text; or a signing key that cannot be used (wrong passphrase, not Ed25519, damaged)."""


class StoreError(CrisisCommError):
    """The database cannot be opened, read or written (locked, corrupt, newer, unwritable)."""

    exit_code = 1
