"""The read model the UI draws: plain frozen data built from the store, no rendering."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import parse_utc
from crisiscomm.i18n import _
from crisiscomm.lazy import names_on_first_use
from crisiscomm.store.listing import MORE_COUNTED
from crisiscomm.ui.lines import Clearance, Detail, IncidentLine, TimerLine

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store import Store
    from crisiscomm.store.rows import IncidentRow, OutboxRow, TimerRow
    from crisiscomm.ui.board import Board, FeedItem

__all__ = [
    "Board",
    "BoardReader",
    "Clearance",
    "Detail",
    "FeedItem",
    "IncidentLine",
    "TimerLine",
    "board",
    "detail",
]

PHASES = ("initial", "maintenance", "resolution", "evaluation")
FEED_SIZE = 20
EVERY_TIMER = datetime(9999, 1, 1, tzinfo=UTC)  # `due_timers` up to here: every pending one
ALL_TIMERS = 1_000_000
LAST_EVENTS = 10


# the board's classes live in board.py, built on first use: `show` needs none of them
__getattr__ = names_on_first_use(
    __name__, dict.fromkeys(("Board", "FeedItem"), "crisiscomm.ui.board")
)


def _role_text(playbook: Playbook, role: str) -> str:
    title = playbook.role_title(role)
    names = ", ".join(str(m["name"]) for m in playbook.members(role)[:2])
    return f"{title} ({names})" if names else title


def _label(timer: TimerRow) -> str:
    """What a timer is, in words."""
    if timer.kind == "escalation" and "step" in timer.data:
        return _("escalation step {n}").format(n=int(timer.data["step"]) + 1)
    labels = {
        "deadline": _("deadline"),
        "reminder": _("reminder"),
        "cadence": _("update due"),
        "promise": _("promised update"),
        "clearance": _("clearance"),
    }
    return labels.get(timer.kind, timer.kind)


def _timer_line(playbook: Playbook, state: str, timer: TimerRow) -> TimerLine:
    return TimerLine(
        timer.kind,
        timer.key,
        timer.due_at,
        _reaches(playbook, state, timer),
        timer.next_try_at,
        _label(timer),
    )


def _reaches(playbook: Playbook, state: str, timer: TimerRow) -> str:
    definition = playbook.states.get(state, {})
    if timer.kind == "clearance":
        return _clearance_reaches(playbook, timer)
    if timer.kind in ("promise", "cadence"):
        # as the engine picks them: the current state's cadence, else the promise's state's
        made_in = str(timer.data.get("state") or state)
        for name in dict.fromkeys([state, made_in]):
            cadence = playbook.states.get(name, {}).get("cadence")
            if isinstance(cadence, dict) and cadence.get("notify"):
                return ", ".join(_role_text(playbook, r) for r in cadence["notify"])
    if timer.kind in ("escalation", "reminder") and "step" in timer.data:
        steps = definition.get("escalation") or []
        index = int(timer.data["step"])
        if index < len(steps):
            return ", ".join(_role_text(playbook, r) for r in steps[index].get("notify") or [])
    owner = definition.get("owner")
    return _role_text(playbook, str(owner)) if owner else "-"


def _clearance_reaches(playbook: Playbook, timer: TimerRow) -> str:
    """Who a clearance deadline tells, and for which statement step and stage."""
    statement, role, stage = (str(timer.data.get(k)) for k in ("statement", "role", "stage"))
    deadlines = (playbook.statements.get(statement, {}).get("clearance_deadlines") or {}).get(
        role
    ) or {}
    roles = (deadlines.get("escalate_to") or [role]) if stage == "escalate" else [role]
    told = ", ".join(_role_text(playbook, r) for r in roles)
    return _("{told}: {statement} v{version} waits for {role} ({stage})").format(
        told=told,
        statement=statement,
        version=timer.data.get("version"),
        role=playbook.role_title(role),
        stage=stage,
    )


def _clearances(playbook: Playbook, incident: IncidentRow) -> list[Clearance]:
    found = []
    for name, record in (incident.data.get("statements") or {}).items():
        versions = (record or {}).get("versions") or []
        if not versions or name not in playbook.statements:
            continue
        newest = versions[-1]
        given = [a for a in record.get("approvals") or [] if a["hash"] == newest["hash"]]
        roles_given = {a["role"] for a in given}
        chain = playbook.statements[name].get("clearance") or []
        released = [r for r in record.get("released") or [] if r.get("hash") == newest["hash"]]
        found.append(
            Clearance(
                statement=name,
                version=int(newest.get("version", len(versions))),
                approved=[
                    (
                        playbook.role_title(str(a["role"])),
                        playbook.display_name(str(a["actor"])),
                        parse_utc(a["at"]),
                    )
                    for a in given
                ],
                waiting=[_role_text(playbook, r) for r in chain if r not in roles_given],
                released_at=parse_utc(released[-1]["at"]) if released else None,
                texts=dict(newest.get("texts") or {}),
            )
        )
    return found


PUBLIC_CHANNEL_TYPES = frozenset({"site", "telegram", "webhook"})


def not_published(
    store: Store, playbook_of: Any, rows: list[OutboxRow] | None = None
) -> dict[str, int]:
    """Per incident, the released statement versions whose copy to a public channel is
    dead or failed and waits for its next try; `playbook_of(incident_id)` gives the
    playbook whose channels say which are public. From `rows` when given (one incident's
    failed ones), else from every pending and dead row."""
    failing: dict[str, set[tuple[str, str]]] = {}
    if rows is None:
        rows = store.list_outbox(statuses=["pending", "dead"])
    for row in rows:
        if row.item_id is not None or row.payload.get("kind") != "statement":
            continue
        if row.status == "pending" and not row.last_error:
            continue  # not tried yet, or on its first try
        playbook = playbook_of(row.incident_id)
        kind = (playbook.channels.get(row.channel) or {}).get("type") if playbook else None
        if kind in PUBLIC_CHANNEL_TYPES:
            version = (str(row.payload.get("statement")), str(row.payload.get("version")))
            failing.setdefault(row.incident_id, set()).add(version)
    return {incident_id: len(versions) for incident_id, versions in failing.items()}


def _line(
    playbook: Playbook,
    incident: IncidentRow,
    timers: list[TimerRow],
    dead: int,
    unpublished: int = 0,
) -> IncidentLine:
    definition = playbook.states.get(incident.state, {})
    owner = definition.get("owner")
    pending = [t for t in timers if t.fired_at is None and t.retired_at is None]
    fired_here = [
        t
        for t in timers
        if t.fired_at is not None
        and t.generation == incident.generation
        and t.kind in ("escalation", "reminder")
    ]
    acks = incident.data.get("acks") or {}
    # a missed deadline of this state entry stays the thing to show, as OVERDUE
    missed = [
        t
        for t in timers
        if t.kind == "deadline" and t.fired_at is not None and t.generation == incident.generation
    ]
    # the state's own deadline; a state without one shows its next timer (e.g. the
    # promised update), never an escalation step labelled as the deadline
    deadlines = [t for t in pending if t.kind == "deadline"] or pending
    first = (
        missed[0]
        if missed and incident.closed_at is None
        else (deadlines[0] if deadlines else None)
    )
    return IncidentLine(
        id=incident.id,
        title=incident.title,
        playbook=incident.playbook_id,
        timezone=playbook.timezone,
        severity=incident.severity,
        state=incident.state,
        state_title=playbook.state_title(incident.state),
        phase=str(definition.get("phase") or "-"),
        state_entered_at=incident.state_entered_at,
        opened_at=incident.opened_at,
        opened_by=playbook.display_name(incident.opened_by),
        closed_at=incident.closed_at,
        owner=_role_text(playbook, str(owner)) if owner else "-",
        next_due=_timer_line(playbook, incident.state, first) if first else None,
        clearances=_clearances(playbook, incident),
        escalations=len(fired_here),
        acknowledged_by=(
            list(acks.get("by") or []) if acks.get("generation") == incident.generation else []
        ),
        dead_letters=dead,
        owner_role=playbook.role_title(str(owner)) if owner else "-",
        not_published=unpublished,
    )


class BoardReader:
    """Reads the board again and again (the dashboard, each second) cheaply: an incident's
    statements and fired timers are read again only when its version moved; the pending
    timers of all incidents come in one query."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, IncidentRow, list[TimerRow]]] = {}

    def read(
        self,
        store: Store,
        *,
        open_only: bool = True,
        limit: int | None = None,
        after: str | None = None,
    ) -> Board:
        """Every (open) incident with its next deadline, clearances and dead letters, and a
        feed of the latest escalations and releases; with `limit`, a page of them, from the
        one after the incident `after`."""
        from crisiscomm.engine.service import pinned_playbook
        from crisiscomm.ui.board import Board

        dead: dict[str, int] = {}
        for row in store.list_outbox(statuses=["dead"]):
            dead[row.incident_id] = dead.get(row.incident_id, 0) + 1
        pending: dict[str, list[TimerRow]] = {}
        for timer in store.due_timers(EVERY_TIMER, ALL_TIMERS):
            pending.setdefault(timer.incident_id, []).append(timer)
        lines: list[IncidentLine] = []
        feed: list[FeedItem] = []
        seen: dict[str, tuple[int, IncidentRow, list[TimerRow]]] = {}
        more = 0
        if limit is None:
            listed_incidents = store.list_incidents(open_only=open_only)
        else:
            listed_incidents = store.incident_page(limit=limit, open_only=open_only, after=after)
            if len(listed_incidents) == limit:
                more = store.count_incidents(
                    open_only=open_only, after=listed_incidents[-1].id, up_to=MORE_COUNTED
                )
        hashes = {listed.id: listed.playbook_hash for listed in listed_incidents}
        unpublished = not_published(
            store,
            lambda i: pinned_playbook(store, hashes[i]) if i in hashes else None,
        )
        for listed in listed_incidents:
            playbook = pinned_playbook(store, listed.playbook_hash)
            if listed.closed_at is not None:
                lines.append(
                    _line(
                        playbook,
                        listed,
                        [],
                        dead.get(listed.id, 0),
                        unpublished.get(listed.id, 0),
                    )
                )
                continue
            cached = self._seen.get(listed.id)
            if cached is None or cached[0] != listed.version:
                fired = [t for t in store.timers(listed.id, pending_only=False) if t.fired_at]
                cached = (listed.version, store.get_incident(listed.id), fired)
            seen[listed.id] = cached
            _version, incident, fired = cached
            line = _line(
                playbook,
                incident,
                [*fired, *pending.get(listed.id, [])],
                dead.get(listed.id, 0),
                unpublished.get(listed.id, 0),
            )
            lines.append(line)
            feed.extend(_feed(playbook, line, fired))
        self._seen = seen
        feed.sort(key=lambda item: item.at, reverse=True)
        return Board(lines, feed[:FEED_SIZE], store.outbox_counts(), more=more)


def _feed(playbook: Playbook, line: IncidentLine, fired: list[TimerRow]) -> list[FeedItem]:
    from crisiscomm.ui.board import FeedItem

    items = [
        FeedItem(
            timer.fired_at,
            line.id,
            f"{_label(timer)} → {_reaches(playbook, str(timer.data.get('state')), timer)}",
            playbook.timezone,
        )
        for timer in fired
        if timer.fired_at is not None and timer.kind in ("escalation", "reminder")
    ]
    items.extend(
        FeedItem(
            clearance.released_at,
            line.id,
            _("released {statement} v{version}").format(
                statement=clearance.statement, version=clearance.version
            ),
            playbook.timezone,
        )
        for clearance in line.clearances
        if clearance.released_at is not None
    )
    return items


def board(
    *,
    store: Store,
    open_only: bool = True,
    now: datetime | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Board:
    """Every (open) incident with its next deadline, clearances and dead letters, and a feed
    of the latest escalations and releases; with `now`, the register's overdue items and
    widest-spread rumours too; with `limit`, a page of incidents from the one after `after`."""
    from crisiscomm.ui.register import register_summary

    read = BoardReader().read(store, open_only=open_only, limit=limit, after=after)
    if now is None:
        return read
    return replace(read, register=register_summary(store=store, now=now))


def detail(*, store: Store, incident_id: str) -> Detail:
    """One incident in full: the status line plus checklist, facts, timers and last events."""
    from crisiscomm.engine import service
    from crisiscomm.engine.facts import fact_display
    from crisiscomm.engine.narrative import event_text
    from crisiscomm.i18n import language

    view = service.view(store=store, incident_id=incident_id)
    playbook = view.playbook
    incident = store.get_incident(view.incident.id)
    dead = store.dead_letters(incident.id)
    timers = store.timers(incident.id, pending_only=False)
    done = incident.data.get("checklist", {}).get(incident.state, {})
    checklist = [
        (
            item_id,
            text,
            required,
            playbook.display_name(str(done[item_id]["by"])) if item_id in done else "",
            item_id in done,
        )
        for item_id, text, required in playbook.checklist(incident.state)
    ]
    return Detail(
        line=_line(
            playbook,
            incident,
            timers,
            dead,
            not_published(
                store,
                lambda i: playbook if i == incident.id else None,
                store.failed_outbox(incident.id),  # its own: not every pending notification
            ).get(incident.id, 0),
        ),
        phases=list(PHASES),
        checklist=checklist,
        facts={
            name: fact_display(playbook, name, value, language())
            for name, value in (incident.data.get("facts") or {}).items()
        },
        timers=[_timer_line(playbook, incident.state, t) for t in view.timers],
        possible=list(view.possible),
        events=[
            (event, playbook.display_name(event.actor), event_text(playbook, event, now=event.at))
            for event in store.events(incident.id)[-LAST_EVENTS:]
        ],
        languages=playbook.languages,
    )
