"""Four-eyes on release: at least two different people stand behind every statement that
goes out (its author, its approvers and who releases it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crisiscomm.engine.context import SYSTEM_ACTOR
from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook

__all__ = ["refuse_one_person_release"]


def refuse_one_person_release(
    playbook: Playbook,
    statement: str,
    version: dict[str, Any],
    approvers: Iterable[str],
    actor: str,
) -> None:
    """Refuse unless the version's author, its approvers and who releases it are at least
    two people, counted as people (the system's name is nobody)."""
    people: list[str] = []
    for name in [version["author"], *approvers, actor]:
        if name != SYSTEM_ACTOR and not any(playbook.same_person(name, p) for p in people):
            people.append(name)
    if len(people) < 2:
        raise RefusedError(
            _(
                "version {v} of `{s}` has only {who} behind it: a release needs at least two "
                "people (its author and another who cleared or releases it)"
            ).format(
                v=version["version"],
                s=statement,
                who=playbook.display_name(people[0]) if people else "-",
            ),
            hint=_("another member of its clearance chain approves it, or releases it"),
        )
