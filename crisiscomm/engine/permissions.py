"""Who may do what to an incident, where the playbook has an office.

Only a holder of the role an act belongs to (a member, or a deputy standing in) may do it:

    check an item        the item's `role` or the state's owner
    advance              the transition's `roles`, else the state's owner
    acknowledge          someone the state's notices reach (owner, escalation, deadline, cadence)
    draft or edit        the statement's `author` role, else the state's owner
    release              the statement's `release_by` roles, else its author role or the owner

A refusal names the role and who holds it. Without an office (a playbook with its own
inline team) these acts stay open to anyone, as before; four-eyes holds everywhere
(statements.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow

__all__ = ["notified_roles", "refuse_unless_holder"]


def refuse_unless_holder(playbook: Playbook, actor: str, roles: Iterable[str], *, act: str) -> None:
    """Refuse `act` unless `actor` holds one of `roles`; nothing to check without an office
    or when no role is named."""
    wanted = [r for r in dict.fromkeys(roles) if r]
    if not playbook.people or not wanted:
        return
    if any(playbook.may_act_for(actor, role) for role in wanted):
        return
    holders = [
        f"{role}: " + (", ".join(str(m.get("name")) for m in playbook.members(role)) or "-")
        for role in wanted
    ]
    raise RefusedError(
        _("{actor} may not {act}: that is for {roles}, which {actor} does not hold").format(
            actor=playbook.display_name(actor), act=act, roles=_(" or ").join(wanted)
        ),
        hint=_("who holds it now: {holders}").format(holders="; ".join(holders)),
    )


def owner(playbook: Playbook, incident: IncidentRow) -> list[str]:
    """The current state's owner role, as a list (empty if the state has none)."""
    role = playbook.state(incident.state).get("owner")
    return [str(role)] if role else []


def notified_roles(playbook: Playbook, incident: IncidentRow) -> list[str]:
    """Every role the current state's notices reach."""
    state: Any = playbook.state(incident.state)
    roles = owner(playbook, incident)
    for step in state.get("escalation") or []:
        roles += list(step.get("notify") or [])
    for key in ("on_deadline", "cadence"):
        if isinstance(state.get(key), dict):
            roles += list(state[key].get("notify") or [])
    return list(dict.fromkeys(roles))
