"""Clearance of answers where the office says so, and what `inbox answer` sends.

    approve(...)        one step of the kind's clearance (`answers: KIND: clearance` in
                        inbox.yaml), in order, by a holder of the role (member or deputy)
                        who wrote no version of the draft (four-eyes); one commit
                        (`inbox.approved`: version, hash, role)
    text_to_send(...)   what `answer` sends (service.act): the text typed or the draft,
                        refused while a kind that needs clearance has no fully cleared
                        draft of that very text

The approvals are in the item's draft (answers.py) and bind to its version: a new version
starts with none, as an edited statement does. Like a statement's clearance, the roles
approve in order and the author may not approve; unlike it, a register item has no
playbook: the roles and people are the office's (office.yaml), by person id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, format_utc
from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.inbox.register import Register
from crisiscomm.store.inbox import InboxItem
from crisiscomm.store.rows import NewEvent

if TYPE_CHECKING:
    from crisiscomm.office.model import Office
    from crisiscomm.store import Store

__all__ = ["approve", "pending_roles", "refuse_unless_answerable", "text_to_send"]


def refuse_unless_answerable(register: Register, item: InboxItem) -> None:
    """Drafting and approving are for an item that can still be answered."""
    lifecycle = register.lifecycle(item.kind)
    if lifecycle.final(item.status):
        raise RefusedError(
            _("{id} is closed: its answer can no longer be drafted or approved").format(id=item.id),
            hint=_("a closed item keeps its record as it was closed"),
        )
    if not lifecycle.may_still("answer", item.status):
        raise RefusedError(
            _(
                "{id} is `{state}` and takes no answer any more: its answer can no longer be "
                "drafted or approved"
            ).format(id=item.id, state=item.status),
            hint=_("see its record: crisiscomm inbox show {id}").format(id=item.id),
        )


def pending_roles(register: Register, item: InboxItem) -> list[str]:
    """The clearance roles still to approve the item's draft, in order (all of them
    without a draft; none for a kind the office clears nothing of)."""
    chain = register.answer_rules(item.kind).clearance
    draft_record = item.data.get("draft") or {}
    given = {approval["role"] for approval in draft_record.get("approvals") or []}
    return [role for role in chain if role not in given]


# -- approving ------------------------------------------------------------------------------


def approve(
    *,
    store: Store,
    register: Register,
    office: Office,
    clock: Clock,
    actor: str,
    item_id: str,
    version: int | None = None,
    entered_by: str | None = None,
) -> tuple[InboxItem, str, list[str]]:
    """Approve the item's draft answer for the next role of its kind's clearance; the item,
    the role approved for and the roles still waiting. Refused, with nothing changed, for an
    item that can no longer be answered, a kind cleared by nobody, no draft, another version
    than `version`, an author of the draft, a second approval by one person, or a person who
    does not hold the role next in order. `entered_by`: who typed it for `actor`."""
    now = clock.now()
    before = store.get_inbox_item(item_id)
    refuse_unless_answerable(register, before)
    chain = register.answer_rules(before.kind).clearance
    if not chain:
        raise RefusedError(
            _("answers to a {kind} need no approval: inbox.yaml clears none").format(
                kind=before.kind
            ),
            hint=_("send it with `crisiscomm inbox answer {id}`").format(id=item_id),
        )
    current = before.data.get("draft")
    if current is None:
        raise RefusedError(
            _("{id} has no draft answer to approve").format(id=item_id),
            hint=f"crisiscomm inbox draft {item_id}",
        )
    if version is not None and version != current["version"]:
        raise RefusedError(
            _("the draft answer of {id} is version {v} now, not version {read}").format(
                id=item_id, v=current["version"], read=version
            ),
            hint=_("read it again with `crisiscomm inbox show {id}`").format(id=item_id),
        )
    if actor in current["authors"]:
        raise RefusedError(
            _(
                "{actor} wrote a version of the answer to {id} and may not approve it (four-eyes)"
            ).format(actor=_name(office, actor), id=item_id),
            hint=_("another holder of {roles} must approve it").format(roles=", ".join(chain)),
        )
    approvals = current["approvals"]
    if any(a["actor"] == actor for a in approvals):
        raise RefusedError(
            _("{actor} has already approved version {v} of the answer to {id}").format(
                actor=_name(office, actor), v=current["version"], id=item_id
            )
        )
    waiting = pending_roles(register, before)
    if not waiting:
        raise RefusedError(
            _("version {v} of the answer to {id} is already cleared").format(
                v=current["version"], id=item_id
            ),
            hint=_("send it with `crisiscomm inbox answer {id}`").format(id=item_id),
        )
    role = waiting[0]
    if role not in office.roles_of(actor):
        raise _not_holder(office, actor, item_id, role, waiting, chain)
    approval = {"role": role, "actor": actor, "at": format_utc(now)}
    record = {**current, "approvals": [*approvals, approval]}
    about = {"version": current["version"], "hash": current["hash"], "role": role}
    if entered_by is not None:
        about["entered_by"] = entered_by
    event = NewEvent(now, actor, "inbox.approved", about)
    item = replace(before, data={**before.data, "draft": record})
    stored = store.commit_inbox_item(item=item, before=before, events=[event])
    return stored, role, waiting[1:]


def _name(office: Office, person_id: str) -> str:
    person = office.people.get(person_id)
    return person.name if person is not None else person_id


def _not_holder(
    office: Office,
    actor: str,
    item_id: str,
    role: str,
    waiting: list[str],
    chain: Sequence[str],
) -> RefusedError:
    holders = [p.name for p in (*office.members(role), *office.deputies(role))]
    if not holders:
        return RefusedError(
            _(
                "nobody of the office holds {role}, which inbox.yaml names in the clearance of "
                "answers"
            ).format(role=role),
            hint=_(
                "give the role its people in office.yaml, or change the clearance in "
                "inbox.yaml (`crisiscomm validate inbox.yaml` checks it)"
            ),
        )
    later = [r for r in waiting[1:] if r in office.roles_of(actor)]
    message = (
        _("the answer to {id} waits for approval by {role} first (clearance order: {chain})")
        if later
        else _("the answer to {id} waits for approval by {role}; {actor} does not hold that role")
    )
    return RefusedError(
        message.format(id=item_id, role=role, chain=", ".join(chain), actor=_name(office, actor)),
        hint=_("who holds it: {names}").format(names=", ".join(dict.fromkeys(holders))),
    )


# -- sending ----------------------------------------------------------------------------------


def text_to_send(
    register: Register, item: InboxItem, typed: str | None
) -> tuple[str, dict[str, Any] | None]:
    """The answer `answer` sends and, when it is the draft, what the record keeps of it
    (version, hash, who cleared it). Without a typed text: the draft (refused without one).
    A kind the office clears sends only its fully cleared draft: a typed text must be it."""
    current = item.data.get("draft")
    chain = register.answer_rules(item.kind).clearance
    text = typed.strip() if typed is not None and typed.strip() else None
    if text is None:
        if current is None:
            raise RefusedError(
                _("`{trigger}` needs the {what}").format(trigger="answer", what="answer"),
                hint=_(
                    "give it with --answer, or draft it first: crisiscomm inbox draft {id}"
                ).format(id=item.id),
            )
        text = current["text"]
    if current is None or text != current["text"]:
        if chain:
            raise RefusedError(
                _(
                    "the answer to a {kind} goes out only as cleared by {roles}; this text is "
                    "not the cleared draft"
                ).format(kind=item.kind, roles=", ".join(chain)),
                hint=_(
                    "record it as the draft (`crisiscomm inbox draft {id} --text ...`), have "
                    "it approved, then send it with `crisiscomm inbox answer {id}`"
                ).format(id=item.id),
            )
        return text, None
    waiting = pending_roles(register, item)
    if waiting:
        raise RefusedError(
            _("version {v} of the answer to {id} is not cleared: waiting for {roles}").format(
                v=current["version"], id=item.id, roles=", ".join(waiting)
            ),
            hint=_("a holder of {role} approves it with `crisiscomm inbox approve {id}`").format(
                role=waiting[0], id=item.id
            ),
        )
    sent = {"version": current["version"], "hash": current["hash"]}
    if current["approvals"]:
        sent["cleared_by"] = [
            {"role": a["role"], "actor": a["actor"]} for a in current["approvals"]
        ]
    return text, sent
