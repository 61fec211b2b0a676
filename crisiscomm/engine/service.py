"""Service functions: read the incident, run one engine step, commit it in one transaction.

The CLI, the dashboard and drills call these, never the engine and store separately.
Every function is keyword-only and returns data; refusals raise RefusedError.

The engine modules are imported inside the functions that use them: `crisiscomm list`
and `show` must not pay for the state machine and the statement code.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

# possible_triggers from the engine's floor, not its incident steps (engine/incident.py):
# those build Outcome and the templates at import, which `show` never uses
from crisiscomm.engine.context import possible_triggers
from crisiscomm.engine.identity import current_actor, resolve_actor
from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook

if TYPE_CHECKING:
    from crisiscomm.clock import Clock
    from crisiscomm.engine.outcome import Outcome
    from crisiscomm.engine.signatures import KeySource
    from crisiscomm.store import Store
    from crisiscomm.store.rows import EventRow, IncidentRow, TimerRow

__all__ = [
    "Firing",
    "IncidentView",
    "acknowledge",
    "add_note",
    "advance",
    "approve",
    "check_item",
    "current_actor",
    "draft_statement",
    "edit_statement",
    "fire_batch",
    "fire_due",
    "fire_timer",
    "list_incidents",
    "load",
    "mark_correction",
    "open_incident",
    "release_statement",
    "set_facts",
    "timeline",
    "view",
    "withdraw_statement",
]

_PLAYBOOKS: dict[str, Playbook] = {}


def pinned_playbook(store: Store, content_hash: str) -> Playbook:
    """The playbook an incident pinned, read once per process."""
    if content_hash not in _PLAYBOOKS:
        _PLAYBOOKS[content_hash] = Playbook.from_json(store.playbook_content(content_hash))
    return _PLAYBOOKS[content_hash]


def load(
    *, store: Store, incident_id: str, statements: bool = True
) -> tuple[Playbook, IncidentRow]:
    """An incident and the playbook it pinned (without statement texts if not needed)."""
    incident = store.get_incident(incident_id.strip().upper(), statements=statements)
    return pinned_playbook(store, incident.playbook_hash), incident


def _commit(
    store: Store,
    before: IncidentRow,
    outcome: Outcome,
    *,
    claim: TimerRow | None = None,
    late_by_seconds: float = 0.0,
) -> IncidentRow:
    return store.commit(
        incident=outcome.incident,
        expected_version=before.version,
        events=outcome.events,
        timers=outcome.timers,
        retire_timers=outcome.retire_timers,
        outbox=outcome.outbox,
        statements_changed=outcome.statements_changed,
        claim=claim,
        late_by_seconds=late_by_seconds,
        before=before,
    )


def _step(
    store: Store,
    incident_id: str,
    run: Callable[[Playbook, IncidentRow, str], Outcome],
    *,
    actor: str,
    statements: bool = True,
) -> IncidentRow:
    """Run one engine step as `actor` (resolved to the office's person) and commit it."""
    playbook, incident = load(store=store, incident_id=incident_id, statements=statements)
    who, entered_by = resolve_actor(store, playbook, actor)
    return _commit(store, incident, _entered(run(playbook, incident, who), who, entered_by))


def _entered(outcome: Outcome, who: str, entered_by: str | None) -> Outcome:
    """The outcome with `entered_by` on the acts one person entered for another."""
    if entered_by is None:
        return outcome
    events = [
        replace(e, data={**e.data, "entered_by": entered_by}) if e.actor == who else e
        for e in outcome.events
    ]
    return replace(outcome, events=events)


def open_incident(
    *,
    store: Store,
    clock: Clock,
    playbook_ref: str,
    title: str,
    severity: str | None,
    facts: list[str] | tuple[str, ...],
    actor: str,
    playbook: Playbook | None = None,
) -> IncidentRow:
    """Open an incident of a playbook (path or id), pinning the playbook's content; or of
    `playbook` as given (a drill's, with the exercise's overrides applied)."""
    from zoneinfo import ZoneInfo

    from crisiscomm.documents.library import Library
    from crisiscomm.engine import incident as steps
    from crisiscomm.engine.facts import parse_assignments
    from crisiscomm.playbook.compile import compiled_playbook

    playbook = playbook or compiled_playbook(Library().find_playbook(playbook_ref))
    actor, entered_by = resolve_actor(store, playbook, actor)
    values = parse_assignments(facts)
    now = clock.now()
    # the number and the incident in one transaction: one fsync, and a refused opening
    # (a bad fact, an unknown severity) rolls its number back with it, so it leaves no gap;
    # numbered by the office's own calendar year (1 January 03:00 in Tashkent is the new year)
    with store.batch():
        incident_id = store.allocate_incident_id(now.astimezone(ZoneInfo(playbook.timezone)).year)
        outcome = steps.open_incident(
            playbook,
            incident_id=incident_id,
            title=title,
            severity=severity,
            facts=values,
            actor=actor,
            now=now,
        )
        _PLAYBOOKS[playbook.content_hash] = playbook
        outcome = _entered(outcome, actor, entered_by)
        return store.create_incident(
            incident=outcome.incident,
            playbook_content=playbook.canonical_json(),
            events=outcome.events,
            timers=outcome.timers,
            outbox=outcome.outbox,
        )


def advance(
    *, store: Store, clock: Clock, incident_id: str, trigger: str, note: str | None, actor: str
) -> IncidentRow:
    """Fire a trigger."""
    from crisiscomm.engine import incident as steps

    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: steps.advance(
            p, i, trigger=trigger, note=note, actor=who, now=clock.now()
        ),
    )


def check_item(
    *, store: Store, clock: Clock, incident_id: str, item: str, actor: str
) -> IncidentRow:
    """Tick a checklist item of the current state."""
    from crisiscomm.engine import incident as steps

    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: steps.check_item(p, i, item=item, actor=who, now=clock.now()),
        statements=False,
    )


def set_facts(
    *,
    store: Store,
    clock: Clock,
    incident_id: str,
    assignments: list[str] | tuple[str, ...],
    actor: str,
) -> IncidentRow:
    """Record facts given as key=value."""
    from crisiscomm.engine import incident as steps
    from crisiscomm.engine.facts import parse_assignments

    values = parse_assignments(assignments)
    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: steps.set_facts(p, i, values=values, actor=who, now=clock.now()),
        statements=False,
    )


def acknowledge(*, store: Store, clock: Clock, incident_id: str, actor: str) -> IncidentRow:
    """Acknowledge: stop reminders to this person for the current state."""
    from crisiscomm.engine import incident as steps

    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: steps.acknowledge(p, i, actor=who, now=clock.now()),
        statements=False,
    )


def add_note(*, store: Store, clock: Clock, incident_id: str, text: str, actor: str) -> IncidentRow:
    """Put a note on the record."""
    from crisiscomm.engine import incident as steps

    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda _p, i, who: steps.add_note(i, text=text, actor=who, now=clock.now()),
        statements=False,
    )


def draft_statement(
    *, store: Store, clock: Clock, incident_id: str, statement: str, actor: str
) -> IncidentRow:
    """Draft a statement from its template in every language."""
    from crisiscomm.engine import statements

    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: statements.draft(
            p, i, statement=statement, actor=who, now=clock.now()
        ),
    )


def edit_statement(
    *,
    store: Store,
    clock: Clock,
    incident_id: str,
    statement: str,
    language: str,
    file: Path,
    actor: str,
) -> IncidentRow:
    """Store a new version with one language's text taken from a file (`-` for stdin)."""
    from crisiscomm.engine import statements

    text = _read_text(file)
    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: statements.edit(
            p, i, statement=statement, language=language, text=text, actor=who, now=clock.now()
        ),
    )


def _read_text(file: Path) -> str:
    import sys

    try:
        if str(file) == "-":
            return sys.stdin.read()
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(_("{path}: no such file").format(path=file)) from None
    except UnicodeDecodeError:
        raise UsageError(_("{path} is not UTF-8 text").format(path=file)) from None
    except OSError as error:
        raise UsageError(
            _("cannot read {path}: {reason}").format(path=file, reason=error.strerror)
        ) from None


def approve(
    *,
    store: Store,
    clock: Clock,
    incident_id: str,
    name: str,
    actor: str,
    signing_key: KeySource | None = None,
) -> IncidentRow:
    """Approve a statement (next in its clearance chain) or a trigger; signed with
    `signing_key` where the office requires it."""
    from crisiscomm.engine import statements
    from crisiscomm.engine.signatures import signer_from

    signer = signer_from(signing_key)
    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: statements.approve(
            p, i, name=name, actor=who, now=clock.now(), signer=signer
        ),
    )


def release_statement(
    *,
    store: Store,
    clock: Clock,
    incident_id: str,
    statement: str,
    actor: str,
    signing_key: KeySource | None = None,
) -> IncidentRow:
    """Release a fully cleared statement through its channels; signed with `signing_key`
    where the office requires it; a rebuttal marks the posts linked to the incident
    rebutted (store/rebuttals.py)."""
    from crisiscomm.engine import statements
    from crisiscomm.engine.signatures import signer_from
    from crisiscomm.store.rebuttals import rebut_linked_posts

    signer = signer_from(signing_key)
    now = clock.now()
    rebuttals: list[tuple[str, str]] = []

    def run(playbook: Playbook, incident: IncidentRow, who: str) -> Outcome:
        outcome = statements.release(
            playbook, incident, statement=statement, actor=who, now=now, signer=signer
        )
        name = statements.resolve_statement(playbook, statement)
        if statements.rebuts(playbook, name):
            rebuttals.append((name, who))
        return outcome

    with store.batch():  # the posts it rebuts are marked in the release's transaction
        released = _step(store, incident_id, actor=actor, run=run)
        for name, who in rebuttals:
            rebut_linked_posts(store, incident_id=released.id, statement=name, at=now, actor=who)
    return released


def withdraw_statement(
    *,
    store: Store,
    clock: Clock,
    incident_id: str,
    statement: str,
    reason: str | None,
    actor: str,
    signing_key: KeySource | None = None,
) -> IncidentRow:
    """Propose the withdrawal of a released statement, or confirm another person's
    proposal (engine/corrections.py); signed with `signing_key` where the office requires it."""
    from crisiscomm.engine import corrections
    from crisiscomm.engine.signatures import signer_from

    signer = signer_from(signing_key)
    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: corrections.withdraw(
            p, i, statement=statement, reason=reason, actor=who, now=clock.now(), signer=signer
        ),
    )


def mark_correction(
    *, store: Store, clock: Clock, incident_id: str, statement: str, note: str, actor: str
) -> IncidentRow:
    """Mark the newest version of a released statement, before its clearance, as a
    correction of the released text, with a public note."""
    from crisiscomm.engine import corrections

    return _step(
        store,
        incident_id,
        actor=actor,
        run=lambda p, i, who: corrections.mark_correction(
            p, i, statement=statement, note=note, actor=who, now=clock.now()
        ),
    )


def timeline(*, store: Store, incident_id: str) -> list[EventRow]:
    """The incident's events, oldest first."""
    _playbook, incident = load(store=store, incident_id=incident_id)
    return store.events(incident.id)


def list_incidents(*, store: Store, open_only: bool = False) -> list[IncidentRow]:
    """Incidents, newest first."""
    return store.list_incidents(open_only=open_only)


@dataclass(frozen=True)
class IncidentView:
    """Everything `show` displays about one incident."""

    playbook: Playbook
    incident: IncidentRow
    timers: list[TimerRow]
    possible: list[str]


def view(*, store: Store, incident_id: str) -> IncidentView:
    """An incident with its playbook, pending timers and possible triggers."""
    playbook, incident = load(store=store, incident_id=incident_id, statements=False)
    return IncidentView(
        playbook,
        incident,
        store.timers(incident.id, pending_only=True),
        possible_triggers(playbook, incident.state) if incident.closed_at is None else [],
    )


FIRE_ATTEMPTS = 5
# Due timers fired in one transaction: one commit (one fsync) for all of them, while the
# database stays locked for officers' commands only milliseconds.
FIRE_BATCH = 200


@dataclass(frozen=True)
class Firing:
    """A due timer a pass took: fired by this process, or not (another wake-up had it first,
    or it no longer applies), or failed with `error` (nothing written; it stays due)."""

    timer: TimerRow
    fired: bool
    late_by_seconds: float
    error: Exception | None = None


def _fire(store: Store, clock: Clock, timer: TimerRow) -> Firing:
    from crisiscomm.engine import timers
    from crisiscomm.errors import ConflictError
    from crisiscomm.store import TimerAlreadyFired

    for _attempt in range(FIRE_ATTEMPTS):
        with_statements = timer.kind in timers.STATEMENT_TIMER_KINDS
        playbook, incident = load(
            store=store, incident_id=timer.incident_id, statements=with_statements
        )
        if not with_statements and timers.needs_statements(playbook, incident, timer):
            incident = store.get_incident(incident.id, statements=True)
        now = clock.now()
        late = timers.late_by(timer, now)
        outcome = timers.fire_timer(playbook, incident, timer, now=now)
        try:
            if outcome is None:
                return Firing(timer, store.claim_timer(timer.id, timer.generation, now, late), late)
            _commit(store, incident, outcome, claim=timer, late_by_seconds=late)
            return Firing(timer, True, late)
        except TimerAlreadyFired:
            return Firing(timer, False, late)
        except ConflictError:
            continue  # an officer acted in between: read the incident again and re-decide
    raise ConflictError(
        _("timer {id} of {incident} kept meeting concurrent changes; it stays due").format(
            id=timer.id, incident=timer.incident_id
        )
    )


def fire_timer(*, store: Store, clock: Clock, timer: TimerRow) -> bool:
    """Fire one due timer exactly once (invariant 4); False when another wake-up had it first
    or it no longer applies (the incident moved on, or the promised update went out)."""
    return _fire(store, clock, timer).fired


def fire_batch(
    *, store: Store, clock: Clock, limit: int = FIRE_BATCH, skip: AbstractSet[int] = frozenset()
) -> list[Firing]:
    """Fire up to `limit` timers due now in one transaction, each firing all-or-nothing on
    its own (a savepoint around all it reads and writes): one that fails is undone alone,
    stays due with its next try put off (`record_timer_failure`), and carries its error.
    Timers in `skip` (those that failed earlier in the same pass) are left for a later
    pass, so they cannot hold back the ones behind them.

    A failure of the database itself (StoreError) undoes the whole batch and is raised.
    """
    from crisiscomm.errors import StoreError

    firings: list[Firing] = []
    with store.batch():
        # taken inside the batch: on PostgreSQL it locks their incidents and passes over
        # those another `serve` holds, so replicas share the work instead of queueing
        taken = store.due_timers(clock.now(), limit + len(skip), take=True)
        due = [timer for timer in taken if timer.id not in skip][:limit]
        # incident order: batches of concurrent processes lock incident rows in the same
        # order, so they wait for each other instead of deadlocking (PostgreSQL)
        due.sort(key=lambda timer: (timer.incident_id, timer.due_at, timer.id))
        for timer in due:
            try:
                with store.savepoint():
                    firings.append(_fire(store, clock, timer))
            except StoreError:
                raise
            except Exception as error:  # one broken firing must not hold back the rest
                firings.append(Firing(timer, False, 0.0, error))
                # and it is not tried at every pass: its next try backs off
                store.record_timer_failure(timer, clock.now())
    return firings


def fire_due(*, store: Store, clock: Clock, limit: int = FIRE_BATCH) -> int:
    """Fire every timer due now (late ones marked late), batch after batch; how many this
    process fired. A firing that failed is raised once the others are committed."""
    fired = 0
    failed: list[Exception] = []
    skip: set[int] = set()
    while True:
        firings = fire_batch(store=store, clock=clock, limit=limit, skip=skip)
        fired += sum(firing.fired for firing in firings)
        for firing in firings:
            if firing.error is not None:
                failed.append(firing.error)
                skip.add(firing.timer.id)
        if len(firings) < limit:  # each full batch fired, claimed or skipped its timers
            if failed:
                raise failed[0]
            return fired
