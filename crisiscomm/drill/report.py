"""The after-action report: injects met/late/missed, KPIs against targets, escalations,
objectives rated on the HSEEP scale, and an improvement plan to fill in.

`after_action(run)` returns plain data (`to_json()` for scripts); `to_markdown(report)`
renders it for people. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.durations import format_duration
from crisiscomm.engine.kpis import LEADERSHIP_ROLES, compute_kpis, escalations
from crisiscomm.engine.timefmt import zoned_text
from crisiscomm.i18n import N_, _

if TYPE_CHECKING:
    from crisiscomm.drill.runner import DrillRun
    from crisiscomm.drill.scenario import Target
    from crisiscomm.store.rows import EventRow

__all__ = [
    "AfterAction",
    "Check",
    "after_action",
    "to_json",
    "to_markdown",
]

# HSEEP's four ratings of an objective, best first
HSEEP = {
    "P": _("Performed without challenges"),
    "S": _("Performed with some challenges"),
    "M": _("Performed with major challenges"),
    "U": _("Unable to be performed"),
}
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

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return all(check.passed for check in self.checks)


def show(kpi: str, value: float | None) -> str:
    """A KPI value as a person reads it."""
    if value is None:
        return _("never")
    base = kpi.split(".")[0]
    if base in ("cadence_adherence",):
        return f"{value:.0%}"
    if base in ("escalations_fired", "updates_missed"):
        return str(int(value))
    return format_duration(timedelta(seconds=value))


def _offset(run: DrillRun, moment: datetime) -> str:
    return "T+" + format_duration(moment - run.scenario.start)


def _rating(target: Target, value: float | None) -> str:
    if value is None:
        return "U"
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
            "offset": _offset(run, at),
            "source": inject.source,
            "channel": inject.channel,
            "text": inject.text,
            "expected": None,
            "outcome": None,
            "detail": "",
        }
        if inject.expect_action and inject.expect_within is not None:
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
                    offset=_offset(run, done.at),
                    actor=done.actor,
                    spare=format_duration(due - done.at),
                )
            else:
                entry["outcome"] = "late"
                entry["detail"] = _("late by {late} (at {offset} by {actor})").format(
                    late=format_duration(done.at - due),
                    offset=_offset(run, done.at),
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


def _targets(report: AfterAction) -> None:
    scenario = report.run.scenario
    for objective in scenario.objectives:
        value = report.kpis.get(objective.target.kpi)
        rating = _rating(objective.target, value)
        report.objectives.append(
            {
                "id": objective.id,
                "text": objective.text,
                "target": objective.target.text,
                "measured": show(objective.target.kpi, value),
                "rating": rating,
                "rating_text": HSEEP[rating],
            }
        )
        report.checks.append(
            Check(
                "objective",
                f"{objective.id}: {objective.target.text}",
                rating == "P",
                _("measured {value}; rated {rating} ({text})").format(
                    value=show(objective.target.kpi, value), rating=rating, text=HSEEP[rating]
                ),
                str(objective.target.location),
            )
        )
    for target in scenario.kpi_targets:
        value = report.kpis.get(target.kpi)
        report.checks.append(
            Check(
                "kpi",
                target.text,
                target.holds(value),
                _("measured {value}").format(value=show(target.kpi, value)),
                str(target.location),
            )
        )


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
            detail = _("reached at {offset}").format(offset=_offset(run, reached))
        else:
            detail = _("reached at {offset}, late by {late}").format(
                offset=_offset(run, reached), late=format_duration(reached - due)
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
                    offsets=", ".join(_offset(run, e.at) for e in matching)
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
                    offset=_offset(run, refusal.at), message=refusal.message
                ),
                str(refusal.location),
            )
        )


def after_action(run: DrillRun) -> AfterAction:
    """Rate a run against its scenario."""
    leadership = next((d.at for d in run.deliveries if LEADERSHIP_ROLES & set(d.roles)), None)
    report = AfterAction(run, compute_kpis(run.events, leadership_notified_at=leadership))
    _inject_outcomes(report)
    _targets(report)
    _states_and_escalations(report)
    return report


def _step_text(event: EventRow) -> str:
    """Which rung fired: a state's step number, or a stuck clearance step's stage."""
    data = event.data
    if event.type == "clearance.overdue":
        return _("{statement} waits for {role}: {stage}").format(
            statement=data.get("statement"), role=data.get("role"), stage=data.get("stage")
        )
    return str(data.get("step"))


def _event_text(event: EventRow) -> str:
    data = event.data
    if event.type == "clearance.overdue":
        return f"{_step_text(event)} -> " + ", ".join(data.get("notified") or [])
    if event.type == "transition":
        return f"{data.get('trigger')}: {data.get('from')} -> {data.get('to')}"
    if event.type in ("escalation", "deadline.missed", "update.missed", "reminder"):
        people = ", ".join(data.get("people") or [])
        return (
            f"{data.get('state')}: "
            + ", ".join(data.get("notified") or [])
            + (f" ({people})" if people else "")
        )
    for key in ("statement", "item", "trigger", "text", "name"):
        if key in data:
            value = data[key]
            return f"{value}={data.get('value')}" if key == "name" else str(value)
    return ""


def to_json(report: AfterAction) -> dict[str, Any]:
    """The report as JSON-ready data."""
    run = report.run
    scenario = run.scenario
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "playbook": scenario.playbook.id,
        "incident": run.incident_id,
        "start": format_utc(scenario.start),
        "start_local": zoned_text(scenario.start, scenario.timezone),
        "duration": format_duration(scenario.duration),
        "passed": report.passed,
        "wall_seconds": round(run.wall_seconds, 4),
        "timeline": [
            {
                "at": format_utc(e.at),
                "offset": _offset(run, e.at),
                "actor": e.actor,
                "type": e.type,
                "text": _event_text(e),
            }
            for e in run.events
        ],
        "injects": report.injects,
        "kpis": report.kpis,
        "objectives": report.objectives,
        "escalations": [
            {
                "at": format_utc(e.at),
                "offset": _offset(run, e.at),
                "state": e.data.get("state"),
                "step": _step_text(e),
                "roles": e.data.get("notified") or [],
                "people": e.data.get("people") or [],
            }
            for e in escalations(run.events)
        ],
        "missed": [
            {
                "at": format_utc(e.at),
                "offset": _offset(run, e.at),
                "type": e.type,
                "state": e.data.get("state"),
                "due_offset": _offset(run, parse_utc(str(e.data["due_at"])))
                if e.data.get("due_at")
                else None,
                "roles": e.data.get("notified") or [],
            }
            for e in run.events
            if e.type in ("deadline.missed", "update.missed")
        ],
        "deliveries": len(run.deliveries),
        "checks": [
            {
                "kind": c.kind,
                "subject": c.subject,
                "passed": c.passed,
                "detail": c.detail,
                "where": c.where,
            }
            for c in report.checks
        ],
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def clean(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(report: AfterAction, *, timeline: bool = True) -> str:
    """The after-action report in Markdown (also what the terminal shows)."""
    data = to_json(report)
    verdict = (
        _("PASSED: every expectation met")
        if report.passed
        else _("FAILED: {n} expectation(s) not met").format(
            n=sum(not c.passed for c in report.checks)
        )
    )
    missed = data["missed"]
    if missed:
        deadlines = sum(m["type"] == "deadline.missed" for m in missed)
        verdict += " — " + _(
            "{d} deadline(s) and {u} promised update(s) missed (see below)"
        ).format(d=deadlines, u=len(missed) - deadlines)
    lines = [
        "# " + _("After-action report: {title}").format(title=data["title"]),
        "",
        _(
            "EXERCISE · scenario `{scenario}` · playbook `{playbook}` · {incident}"
            " · start {start} · {duration}"
        ).format(
            scenario=data["scenario"],
            playbook=data["playbook"],
            incident=data["incident"],
            start=data["start_local"],
            duration=data["duration"],
        ),
        "",
        f"**{verdict}**",
    ]
    if missed:
        lines += ["", "## " + _("Deadlines and updates missed"), ""]
        lines += _table(
            [_("offset"), _("missed"), _("due"), _("told")],
            [
                [m["offset"], _missed_text(m), m["due_offset"] or "-", ", ".join(m["roles"])]
                for m in missed
            ],
        )
    lines += ["", "## " + _("Injects"), ""]
    lines += _table(
        [_("inject"), _("offset"), _("source / channel"), _("expected"), _("outcome")],
        [
            [
                i["id"],
                i["offset"],
                f"{i['source']} / {i['channel']}",
                i["expected"] or "-",
                f"{word(i['outcome'])}: {i['detail']}" if i["outcome"] else "-",
            ]
            for i in data["injects"]
        ],
    )
    lines += ["", "## " + _("KPIs"), ""]
    targets = {t.kpi: t.text for t in report.run.scenario.kpi_targets}
    targets.update({o.target.kpi: o.target.text for o in report.run.scenario.objectives})
    lines += _table(
        [_("KPI"), _("measured"), _("target")],
        [[k, show(k, v), targets.get(k, "-")] for k, v in data["kpis"].items()],
    )
    lines += ["", "## " + _("Escalations fired"), ""]
    lines += _table(
        [_("offset"), _("state"), _("step"), _("to roles"), _("people")],
        [
            [
                e["offset"],
                str(e["state"]),
                str(e["step"]),
                ", ".join(e["roles"]),
                ", ".join(e["people"]),
            ]
            for e in data["escalations"]
        ],
    )
    lines += ["", "## " + _("Objectives (HSEEP rating)"), ""]
    lines += _table(
        [_("objective"), _("target"), _("measured"), _("rating")],
        [
            [
                f"{o['id']}: {o['text']}",
                o["target"],
                o["measured"],
                f"{o['rating']}: {o['rating_text']}",
            ]
            for o in data["objectives"]
        ],
    )
    lines += ["", "## " + _("Expectations"), ""]
    lines += _table(
        [_("result"), _("kind"), _("expectation"), _("details"), _("where")],
        [
            [_("met") if c.passed else _("NOT MET"), word(c.kind), c.subject, c.detail, c.where]
            for c in report.checks
        ],
    )
    lines += ["", "## " + _("Improvement plan"), ""]
    failed = [f"{c.subject}: {c.detail}" for c in report.checks if not c.passed]
    failed += [
        _("{what} at {offset} (due {due})").format(
            what=_missed_text(m), offset=m["offset"], due=m["due_offset"] or "-"
        )
        for m in missed
    ]
    lines += _table(
        [_("issue / area for improvement"), _("corrective action"), _("owner"), _("due")],
        [[issue, "", "", ""] for issue in failed] or [["", "", "", ""]],
    )
    if timeline:  # last: the summary comes first, the minute-by-minute record after it
        lines += ["", "## " + _("Timeline"), ""]
        lines += _table(
            [_("offset"), _("actor"), _("event"), _("details")],
            [[t["offset"], t["actor"], t["type"], t["text"]] for t in data["timeline"]],
        )
    return "\n".join(lines) + "\n"


def _missed_text(missed: dict[str, Any]) -> str:
    if missed["type"] == "update.missed":
        return _("promised update in {state}").format(state=missed["state"])
    return _("deadline of {state}").format(state=missed["state"])
