"""The after-action report's ratings: each inject met, late or missed, KPIs against
targets, objectives on the HSEEP scale, states reached, escalations that had to fire (or
not) and refused responses, each a `Check` with the file:line that states it.

report.py builds the report from these; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc
from crisiscomm.durations import format_duration
from crisiscomm.engine.kpis import escalations
from crisiscomm.engine.record import UNMEASURED_IS_NOT_APPLICABLE, kpi_text, offset_text
from crisiscomm.i18n import N_, _

if TYPE_CHECKING:
    from crisiscomm.drill.model import Inject, Target
    from crisiscomm.drill.runner import DrillRun
    from crisiscomm.store.rows import EventRow

__all__ = [
    "HSEEP",
    "NOT_APPLICABLE",
    "AfterAction",
    "Check",
    "offset",
    "rate_run",
    "rating",
    "word",
]

# HSEEP's four ratings of an objective, best first
HSEEP = {
    "P": _("Performed without challenges"),
    "S": _("Performed with some challenges"),
    "M": _("Performed with major challenges"),
    "U": _("Unable to be performed"),
}
# a KPI with nothing to measure yet (no promised update has come due): not a failure
NOT_APPLICABLE = {"N/A": _("Not applicable: nothing has come due to measure")}
SOME_CHALLENGES = 0.25  # missed a target by at most a quarter of it
INJECT_VERBS = {
    "advance": ("transition", "trigger"),
    "reach": ("transition", "to"),
    "check": ("checked", "item"),
    "set": ("fact.set", "name"),
    "draft": ("statement.drafted", "statement"),
    "release": ("statement.released", "statement"),
    "ack": ("acknowledged", None),
    "note": ("note", None),
}


# the words of outcomes and kinds of expectation, as a person reads them (the JSON report
# keeps these ids)
WORDS = {
    "met": N_("met"),
    "missed": N_("missed"),
    "late": N_("late"),
    "inject": N_("inject"),
    "kpi": N_("KPI"),
    "objective": N_("objective"),
    "state": N_("state"),
    "escalation": N_("escalation"),
    "response": N_("response"),
}


def word(value: str) -> str:
    """An outcome or kind of expectation in the language in use."""
    return _(WORDS[value]) if value in WORDS else value


@dataclass(frozen=True)
class Check:
    """One expectation and whether the run met it."""

    kind: str  # inject | kpi | objective | state | escalation | response
    subject: str
    passed: bool
    detail: str
    where: str


@dataclass
class AfterAction:
    """Everything the after-action report says about one run."""

    run: DrillRun
    kpis: dict[str, float | None]
    injects: list[dict[str, Any]] = field(default_factory=list)
    objectives: list[dict[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    tracks: list[AfterAction] = field(default_factory=list)  # the exercise's other incidents

    @property
    def passed(self) -> bool:
        """Whether every expectation held, in every incident of the exercise."""
        return all(check.passed for check in self.all_checks)

    @property
    def all_checks(self) -> list[Check]:
        """The checks of this incident and of the exercise's other incidents."""
        return [*self.checks, *(c for track in self.tracks for c in track.checks)]


def offset(run: DrillRun, moment: datetime) -> str:
    """`T+1h20m`: a moment as an offset from the start of the exercise."""
    return offset_text(run.scenario.start, moment)


def rating(target: Target, value: float | None) -> str:
    """The HSEEP rating of a measured KPI against its target (`N/A`: nothing to measure)."""
    if value is None:
        return "N/A" if target.kpi.split(".")[0] in UNMEASURED_IS_NOT_APPLICABLE else "U"
    if target.holds(value):
        return "P"
    if target.value == 0:
        return "M"
    miss = abs(value - target.value) / abs(target.value)
    return "S" if miss <= SOME_CHALLENGES else "M"


def _matches(event: EventRow, action: tuple[str, ...]) -> bool:
    verb = action[0]
    if verb == "approve":
        return event.type in ("statement.approved", "trigger.approved") and action[1] in (
            event.data.get("statement"),
            event.data.get("trigger"),
        )
    kind, key = INJECT_VERBS[verb]
    if event.type != kind:
        return False
    if verb == "note":
        return not str(event.data.get("text", "")).startswith("INJECT ")
    return key is None or event.data.get(key) == action[1]


def _inject_outcomes(report: AfterAction) -> None:
    run = report.run
    for inject in run.scenario.injects:
        at = run.inject_times.get(inject.id, run.scenario.start + inject.at)
        entry: dict[str, Any] = {
            "id": inject.id,
            "at": format_utc(at),
            "offset": offset(run, at),
            "source": inject.source,
            "channel": inject.channel,
            "text": inject.text,
            "expected": None,
            "outcome": None,
            "detail": "",
        }
        if inject.register is not None:
            _register_outcome(report, inject, at, entry)
        elif inject.expect_action and inject.expect_within is not None:
            action, due = inject.expect_action, at + inject.expect_within
            entry["expected"] = _("{action} within {within}").format(
                action=" ".join(action), within=format_duration(inject.expect_within)
            )
            done = next((e for e in run.events if e.at >= at and _matches(e, action)), None)
            if done is None:
                entry["outcome"], entry["detail"] = "missed", _("never done")
            elif done.at <= due:
                entry["outcome"] = "met"
                entry["detail"] = _("at {offset} by {actor}, {spare} to spare").format(
                    offset=offset(run, done.at),
                    actor=done.actor,
                    spare=format_duration(due - done.at),
                )
            else:
                entry["outcome"] = "late"
                entry["detail"] = _("late by {late} (at {offset} by {actor})").format(
                    late=format_duration(done.at - due),
                    offset=offset(run, done.at),
                    actor=done.actor,
                )
            report.checks.append(
                Check(
                    "inject",
                    f"{inject.id}: {entry['expected']}",
                    entry["outcome"] == "met",
                    f"{word(entry['outcome'])}: {entry['detail']}",
                    str(inject.location),
                )
            )
        report.injects.append(entry)


def _register_outcome(
    report: AfterAction, inject: Inject, at: datetime, entry: dict[str, Any]
) -> None:
    """A register inject: answered (or settled) by its deadline, the inject's `expect` or
    else the register's norm; a post's rebuttal and correction latency besides."""
    run = report.run
    outcome = next((a for a in run.answered if a.inject_id == inject.id), None)
    if outcome is None:
        return  # the inject was refused: its refusal is a check of its own
    due = at + inject.expect_within if inject.expect_within is not None else outcome.due_at
    entry["item"] = outcome.item_id
    entry["expected"] = (
        _("{item} settled within {within}").format(
            item=outcome.item_id, within=format_duration(due - at)
        )
        if due is not None
        else _("{item} settled").format(item=outcome.item_id)
    )
    done = outcome.settled_at
    if done is None:
        entry["outcome"] = "missed"
        entry["detail"] = _("never settled (status {status})").format(status=outcome.status)
    elif due is None or done <= due:
        entry["outcome"] = "met"
        entry["detail"] = _("{status} at {offset} by {actor}").format(
            status=outcome.status, offset=offset(run, done), actor=outcome.settled_by
        ) + (
            ", " + _("{spare} to spare").format(spare=format_duration(due - done))
            if due is not None
            else ""
        )
    else:
        entry["outcome"] = "late"
        entry["detail"] = _("late by {late} (at {offset} by {actor})").format(
            late=format_duration(done - due), offset=offset(run, done), actor=outcome.settled_by
        )
    if outcome.rebutted_at is not None:
        entry["detail"] += "; " + _("rebutted at {offset}, {latency} after it was seen").format(
            offset=offset(run, outcome.rebutted_at),
            latency=format_duration(outcome.rebutted_at - outcome.received_at),
        )
    report.checks.append(
        Check(
            "inject",
            f"{inject.id}: {entry['expected']}",
            entry["outcome"] == "met",
            f"{word(entry['outcome'])}: {entry['detail']}",
            str(inject.location),
        )
    )


def _targets(report: AfterAction) -> None:
    scenario = report.run.scenario
    for objective in scenario.objectives:
        value = report.kpis.get(objective.target.kpi)
        rated = rating(objective.target, value)
        text = {**HSEEP, **NOT_APPLICABLE}[rated]
        report.objectives.append(
            {
                "id": objective.id,
                "text": objective.text,
                "target": objective.target.text,
                "measured": kpi_text(objective.target.kpi, value),
                "rating": rated,
                "rating_text": text,
            }
        )
        report.checks.append(
            Check(
                "objective",
                f"{objective.id}: {objective.target.text}",
                rated in ("P", "N/A"),
                _("measured {value}; rated {rating} ({text})").format(
                    value=kpi_text(objective.target.kpi, value), rating=rated, text=text
                ),
                str(objective.target.location),
            )
        )
    for target in scenario.kpi_targets:
        value = report.kpis.get(target.kpi)
        if rating(target, value) == "N/A":
            passed, detail = True, NOT_APPLICABLE["N/A"]
        else:
            passed = target.holds(value)
            detail = _("measured {value}").format(value=kpi_text(target.kpi, value))
        report.checks.append(Check("kpi", target.text, passed, detail, str(target.location)))


def _states_and_escalations(report: AfterAction) -> None:
    run = report.run
    scenario, events = run.scenario, run.events
    entered: dict[str, datetime] = {scenario.playbook.initial: events[0].at}
    for event in events:
        if event.type == "transition":
            entered.setdefault(str(event.data.get("to")), event.at)
    for state, by, location in scenario.states_by:
        due = scenario.start + by
        reached = entered.get(state)
        if reached is None:
            detail = _("never reached")
        elif reached <= due:
            detail = _("reached at {offset}").format(offset=offset(run, reached))
        else:
            detail = _("reached at {offset}, late by {late}").format(
                offset=offset(run, reached), late=format_duration(reached - due)
            )
        report.checks.append(
            Check(
                "state",
                _("{state} by T+{by}").format(state=state, by=format_duration(by)),
                reached is not None and reached <= due,
                detail,
                str(location),
            )
        )
    fired = escalations(events)
    for must, rules in ((True, scenario.must_fire), (False, scenario.must_not_fire)):
        for rule in rules:
            matching = [
                e
                for e in fired
                if ("state" not in rule or e.data.get("state") == rule["state"])
                and ("role" not in rule or rule["role"] in (e.data.get("notified") or []))
                and ("statement" not in rule or e.data.get("statement") == rule["statement"])
                and ("by" not in rule or e.at <= scenario.start + rule["by"])
            ]
            described = ", ".join(
                f"{k}={format_duration(v) if k == 'by' else v}"
                for k, v in rule.items()
                if k != "location"
            )
            subject = (_("must fire: {rule}") if must else _("must not fire: {rule}")).format(
                rule=described or _("any")
            )
            detail = (
                _("fired at {offsets}").format(
                    offsets=", ".join(offset(run, e.at) for e in matching)
                )
                if matching
                else _("did not fire")
            )
            report.checks.append(
                Check("escalation", subject, bool(matching) == must, detail, str(rule["location"]))
            )
    for refusal in run.refusals:
        report.checks.append(
            Check(
                "response",
                refusal.command,
                False,
                _("refused at {offset}: {message}").format(
                    offset=offset(run, refusal.at), message=refusal.message
                ),
                str(refusal.location),
            )
        )


def rate_run(report: AfterAction) -> None:
    """Rate the run: every inject, target, state, escalation rule and refusal, in order."""
    _inject_outcomes(report)
    _targets(report)
    _states_and_escalations(report)
