"""The record as a person reads it: each event in words, in the interface language.

The record keeps ids, hashes and UTC times (`crisiscomm timeline --json` prints them as
kept); here a state is its title, a fact `district = Beruniy`, a statement `holding v2`, a
person their full name, a time local to the playbook's zone (named once by the screen),
and a content hash its first eight characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import parse_utc
from crisiscomm.engine.facts import fact_display
from crisiscomm.engine.timefmt import local_text
from crisiscomm.i18n import _, language

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store.rows import EventRow

__all__ = ["entered_by", "event_text", "short_hash"]

SHOWN_PEOPLE = 3  # people named in a notice; the rest are counted
CHECKLIST_TEXT = 60  # characters of a checklist item's text in the record's line
_HASH = re.compile(r"^[0-9a-f]{64}$")

Describe = Callable[["Playbook", dict[str, Any], "datetime | None"], str]


def short_hash(value: str) -> str:
    """The first eight characters of a content hash: enough to tell versions apart."""
    return value[:8]


def _shortened(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with `…` if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _value(value: Any) -> str:
    """Any recorded value as words: lists joined, mappings as `key = value`, hashes short."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} = {_value(v)}" for k, v in value.items() if v not in (None, ""))
    text = str(value)
    return short_hash(text) if _HASH.match(text) else text


def _when(playbook: Playbook, value: Any, now: datetime | None) -> str:
    try:
        return local_text(parse_utc(str(value)), playbook.timezone, now=now)
    except ValueError:
        return str(value)


def _fact(playbook: Playbook, name: str, value: Any) -> str:
    return f"{name} = {fact_display(playbook, name, value, language())}"


def _told(playbook: Playbook, data: dict[str, Any]) -> str:
    """Who a notice reached: role titles, and the first people by name."""
    roles = ", ".join(playbook.role_title(str(role)) for role in data.get("notified") or [])
    people = [str(p) for p in data.get("people") or []]
    if not people:
        return roles or "-"
    named = ", ".join(people[:SHOWN_PEOPLE])
    if len(people) > SHOWN_PEOPLE:
        named = _("{names} and {n} more").format(names=named, n=len(people) - SHOWN_PEOPLE)
    return f"{roles} ({named})"


def _version(data: dict[str, Any]) -> str:
    return f"{data.get('statement')} v{data.get('version')}"


def _opened(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    text = _("opened “{title}”: playbook {playbook} ({hash}), severity {severity}, in {state}")
    text = text.format(
        title=data.get("title", ""),
        playbook=data.get("playbook", playbook.id),
        hash=short_hash(str(data.get("playbook_hash") or "")),
        severity=data.get("severity", ""),
        state=playbook.state_title(str(data.get("state") or "")),
    )
    facts = data.get("facts") or {}
    if facts:
        text += "; " + ", ".join(_fact(playbook, name, value) for name, value in facts.items())
    return text


def _transition(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    text = _("{trigger}: {source} → {target}").format(
        trigger=data.get("trigger"),
        source=playbook.state_title(str(data.get("from"))),
        target=playbook.state_title(str(data.get("to"))),
    )
    if data.get("note"):
        text += "; " + _("note: {text}").format(text=data["note"])
    return text


def _checked(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    state, item = str(data.get("state")), str(data.get("item"))
    texts = {item_id: text for item_id, text, _required in playbook.checklist(state)}
    if item not in texts or texts[item] == item:
        return _("checked {item}").format(item=item)
    return _("checked {item}: {text}").format(
        item=item, text=_shortened(texts[item], CHECKLIST_TEXT)
    )


def _fact_set(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    name = str(data.get("name"))
    text = _fact(playbook, name, data.get("value"))
    if data.get("previous") not in (None, ""):
        previous = fact_display(playbook, name, data["previous"], language())
        text += " " + _("(was {value})").format(value=previous)
    return text


def _released(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    channels = ", ".join(data.get("channels") or []) or "-"
    text = _("released statement {statement} via {channels}").format(
        statement=_version(data), channels=channels
    )
    if data.get("next_update_at"):
        text += "; " + _("next update promised by {at}").format(
            at=_when(playbook, data["next_update_at"], now)
        )
    if correction := data.get("correction"):  # kept on a signed release (signed_acts.py)
        text += "; " + _("a correction of v{corrects}").format(corrects=correction["corrects"])
    return text


def _as_role(playbook: Playbook, data: dict[str, Any]) -> str:
    """` as Head of press` for an act done in a role; "" for one that needed none."""
    role = data.get("role")
    return " " + _("as {role}").format(role=playbook.role_title(str(role))) if role else ""


def _withdrawal_proposed(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    return _(
        "proposed withdrawing released statement {statement}{as_role}, reason: “{reason}”; "
        "it stays public until a second person confirms"
    ).format(statement=_version(data), as_role=_as_role(playbook, data), reason=data.get("reason"))


def _withdrawn(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    proposer = playbook.display_name(str(data.get("proposed_by")))
    if data.get("proposed_at"):
        proposer = _("{who} at {at}").format(
            who=proposer, at=_when(playbook, data["proposed_at"], now)
        )
    return _(
        "withdrew released statement {statement}{as_role}, proposed by {proposer}, reason: "
        "“{reason}”; channels told: {channels}"
    ).format(
        statement=_version(data),
        as_role=_as_role(playbook, data),
        proposer=proposer,
        reason=data.get("reason"),
        channels=", ".join(data.get("channels") or []) or "-",
    )


def _correction_marked(playbook: Playbook, data: dict[str, Any], now: datetime | None) -> str:
    return _(
        "marked statement {statement} as the correction of released v{corrects}, which it "
        "replaces once released; public note: “{note}”"
    ).format(statement=_version(data), corrects=data.get("corrects"), note=data.get("note"))


def _notice(playbook: Playbook, data: dict[str, Any], now: datetime | None, kind: str) -> str:
    state = playbook.state_title(str(data.get("state")))
    due = _when(playbook, data.get("due_at"), now)
    told = _told(playbook, data)
    if kind == "escalation":
        return _("escalation step {step} in {state}: told {told}").format(
            step=data.get("step"), state=state, told=told
        )
    if kind == "reminder":
        return _("reminder {round} of step {step} in {state}: told {told}").format(
            round=data.get("round"), step=data.get("step"), state=state, told=told
        )
    if kind == "deadline.missed":
        return _("deadline of {state} missed (due {due}): told {told}").format(
            state=state, due=due, told=told
        )
    if kind == "update.missed":
        return _("promised public update missed (due {due}): told {told}").format(
            due=due, told=told
        )
    return _("statement {statement} waits for {role} ({stage}): told {told}").format(
        statement=_version(data),
        role=playbook.role_title(str(data.get("role"))),
        stage=data.get("stage"),
        told=told,
    )


def _noticed(kind: str) -> Describe:
    return lambda playbook, data, now: _notice(playbook, data, now, kind)


_DESCRIBE: dict[str, Describe] = {
    "opened": _opened,
    "transition": _transition,
    "checked": _checked,
    "fact.set": _fact_set,
    "note": lambda playbook, data, now: _("note: {text}").format(text=data.get("text", "")),
    "acknowledged": lambda playbook, data, now: _("acknowledged in {state}").format(
        state=playbook.state_title(str(data.get("state")))
    ),
    "statement.drafted": lambda playbook, data, now: _("drafted statement {statement}").format(
        statement=_version(data)
    ),
    "statement.edited": lambda playbook, data, now: _(
        "edited statement {statement} ({language})"
    ).format(statement=_version(data), language=data.get("language")),
    "statement.approved": lambda playbook, data, now: _(
        "approved statement {statement} as {role}"
    ).format(statement=_version(data), role=playbook.role_title(str(data.get("role")))),
    "statement.released": _released,
    "statement.withdrawal_proposed": _withdrawal_proposed,
    "statement.withdrawn": _withdrawn,
    "statement.correction_marked": _correction_marked,
    "trigger.approved": lambda playbook, data, now: _("approved {trigger} as {role}").format(
        trigger=data.get("trigger"), role=playbook.role_title(str(data.get("role")))
    ),
    "action.skipped": lambda playbook, data, now: _("{action} skipped: {reason}").format(
        action=data.get("action"), reason=data.get("reason")
    ),
    "closed": lambda playbook, data, now: _("closed in {state}").format(
        state=playbook.state_title(str(data.get("state")))
    ),
    **{
        kind: _noticed(kind)
        for kind in (
            "escalation",
            "reminder",
            "deadline.missed",
            "update.missed",
            "clearance.overdue",
        )
    },
}

# kept in the record for checking, not for reading
_NOT_SHOWN = frozenset({"entered_by", "signature", "generation", "entry"})


def event_text(playbook: Playbook, event: EventRow, *, now: datetime | None = None) -> str:
    """What happened, in words; times local, the same day as `now` as `17:40` alone."""
    data = dict(event.data)
    describe = _DESCRIBE.get(event.type)
    if describe is None:
        shown = {k: v for k, v in data.items() if k not in _NOT_SHOWN}
        text = f"{event.type}: {_value(shown)}" if shown else event.type
    else:
        text = describe(playbook, data, now)
    late = data.get("late_by_seconds")
    if isinstance(late, int | float) and late >= 60:
        text += "; " + _("fired {minutes} min late").format(minutes=int(late // 60))
    if data.get("signature"):
        text += "; " + _("signed")
    return text


def entered_by(playbook: Playbook, event: EventRow) -> str:
    """`entered by Ulugbek Sattarov` when someone typed the act in for its actor, else ""."""
    clerk = event.data.get("entered_by")
    if not clerk or clerk == event.actor:
        return ""
    return _("entered by {clerk}").format(clerk=playbook.display_name(str(clerk)))
