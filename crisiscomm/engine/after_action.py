"""What every after-action report shows of one incident's record, a drill's (drill/report.py)
and a real incident's (report/incident.py) alike: the tables (deadlines missed, promised
updates broken, statements released, escalations fired, the improvement plan, the
timeline), the Markdown around them, and the HTML page with its chart of the incident
against its deadlines (after_action.html.j2: one self-contained file, no JavaScript, a
print stylesheet for A4).

Everything reads the JSON-ready record of engine/record.py (`record_json`); nothing here
prints. Jinja2 escapes every value; only the chart's SVG, which pygal writes with its own
escaping, is put in as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm import pages
from crisiscomm.clock import parse_utc
from crisiscomm.engine.record import local_times
from crisiscomm.i18n import _, language

if TYPE_CHECKING:
    from crisiscomm.store.rows import EventRow

__all__ = [
    "Table",
    "broken",
    "deadline_tables",
    "escalations_table",
    "improvement_table",
    "markdown_lines",
    "markdown_table",
    "page",
    "promise_text",
    "record_issues",
    "record_lanes",
    "record_verdict",
    "statements_table",
    "timeline_chart",
    "timeline_table",
]

Table = tuple[str, list[str], list[list[str]]]  # (heading, header, rows)
Lanes = list[tuple[str, list[datetime]]]
TEMPLATE = "after_action.html.j2"
# cells that say something went wrong, marked in red (the words as the reports write them)
MISS_WORDS = ("NOT MET", "late by", "never", "missed", "broken")


def missed_text(missed: dict[str, Any]) -> str:
    """`deadline of holding`, `promised update in monitoring`."""
    if missed["type"] == "update.missed":
        return _("promised update in {state}").format(state=missed["state"])
    return _("deadline of {state}").format(state=missed["state"])


def broken(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The promises of a next update that were kept late or never."""
    return [p for p in data["promises"] if p["outcome"] in ("late", "never")]


def promise_text(promise: dict[str, Any]) -> str:
    """`next update promised by Holding statement v1 (released T+40m)`."""
    return _("next update promised by {statement} v{version} (released {made})").format(
        statement=promise["title"], version=promise["version"], made=promise["made_offset"]
    )


def _deadlines(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in data["missed"] if m["type"] == "deadline.missed"]


def record_issues(data: dict[str, Any]) -> list[str]:
    """The record's issues for an improvement plan: each deadline missed, each broken
    promise once (however often its overdue notice repeated)."""
    issues = [
        _("{what} at {offset} (due {due})").format(
            what=missed_text(m), offset=m["offset"], due=m["due_offset"] or "-"
        )
        for m in _deadlines(data)
    ]
    issues += [
        _("{what}: due {due}, {detail}").format(
            what=promise_text(p), due=p["due_offset"], detail=p["detail"]
        )
        for p in broken(data)
    ]
    return issues


def record_verdict(data: dict[str, Any]) -> str:
    """What the verdict line adds about the record (` — 1 deadline(s) missed ...`), or ""."""
    deadlines = len(_deadlines(data))
    count = len(broken(data))
    due = [p for p in data["promises"] if p["outcome"] != "lapsed"]
    if count:  # the same promises as cadence_adherence: the two always agree
        return " — " + _(
            "{d} deadline(s) missed, {b} of {n} promised update(s) broken (see below)"
        ).format(d=deadlines, b=count, n=len(due))
    if deadlines:
        return " — " + _("{d} deadline(s) missed (see below)").format(d=deadlines)
    return ""


def deadline_tables(data: dict[str, Any]) -> list[Table]:
    """The deadlines missed and the promised updates broken (each table only if any)."""
    found: list[Table] = []
    deadlines = _deadlines(data)
    if deadlines:
        found.append(
            (
                _("Deadlines missed"),
                [_("local time"), _("offset"), _("missed"), _("due"), _("told")],
                [
                    [
                        m["local"],
                        m["offset"],
                        missed_text(m),
                        m["due_offset"] or "-",
                        ", ".join(m["roles"]),
                    ]
                    for m in deadlines
                ],
            )
        )
    promises = broken(data)
    if promises:
        found.append(
            (
                _("Promised updates broken"),
                [_("promise"), _("due (local)"), _("due"), _("kept"), _("overdue notices")],
                [
                    [
                        promise_text(p),
                        p["due_local"],
                        p["due_offset"],
                        p["detail"],
                        str(p["notices"]),
                    ]
                    for p in promises
                ],
            )
        )
    return found


def statements_table(data: dict[str, Any]) -> Table:
    """Each release: when, which version, who released and approved it, the next update."""
    return (
        _("Statements released"),
        [
            _("local time"),
            _("offset"),
            _("statement"),
            _("released by"),
            _("approved by"),
            _("next update promised"),
        ],
        [
            [
                s["local"],
                s["offset"],
                f"{s['title']} v{s['version']}",
                s["by"],
                "; ".join(f"{a['who']}, {a['local']}" for a in s["approvals"]) or "-",
                s["next_update_local"] or "-",
            ]
            for s in data["statements"]
        ],
    )


def escalations_table(data: dict[str, Any]) -> Table:
    """Each escalation step that fired, with the roles and people it reached."""
    return (
        _("Escalations fired"),
        [_("local time"), _("offset"), _("state"), _("step"), _("to roles"), _("people")],
        [
            [
                e["local"],
                e["offset"],
                str(e["state"]),
                str(e["step"]),
                ", ".join(e["roles"]),
                ", ".join(e["people"]),
            ]
            for e in data["escalations"]
        ],
    )


def improvement_table(issues: Sequence[str]) -> Table:
    """The improvement plan: each issue, with a corrective action, owner and due to fill in."""
    return (
        _("Improvement plan"),
        [_("issue / area for improvement"), _("corrective action"), _("owner"), _("due")],
        [[issue, "", "", ""] for issue in issues] or [["", "", "", ""]],
    )


def timeline_table(data: dict[str, Any], zone: str) -> Table:
    """The minute-by-minute record, the date shown only where the day changes."""
    rows = data["timeline"]
    shown = local_times([parse_utc(t["at"]) for t in rows], zone)
    return (
        _("Timeline"),
        [_("local time"), _("offset"), _("actor"), _("event"), _("details")],
        [
            [at, t["offset"], t["actor"], t["type"], t["text"]]
            for at, t in zip(shown, rows, strict=True)
        ],
    )


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, `|` and line breaks in cells escaped."""

    def clean(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return lines


def _text_heading(release: dict[str, Any]) -> str:
    return _("{statement} v{version}, {local} ({offset})").format(
        statement=release["title"],
        version=release["version"],
        local=release["local"],
        offset=release["offset"],
    )


def markdown_lines(
    title: str,
    lead: Sequence[str],
    verdict: str,
    tables: Sequence[Table],
    data: dict[str, Any],
    timeline: Table | None,
) -> list[str]:
    """The report in Markdown lines: title, lead, verdict, the tables, the released texts,
    then the timeline (if given)."""
    lines = ["# " + title, ""]
    for line in lead:
        lines += [line, ""]
    lines.append(f"**{verdict}**")
    for heading, header, rows in tables:
        lines += ["", "## " + heading, ""]
        lines += markdown_table(header, rows)
    texts = [s for s in data["statements"] if s["text"]]
    if texts:
        lines += ["", "## " + _("Released texts")]
        for release in texts:
            lines += [
                "",
                "### " + _text_heading(release),
                "",
                *("> " + line if line else ">" for line in release["text"].split("\n")),
                "",
            ]
    if timeline is not None:
        heading, header, rows = timeline
        lines += ["", "## " + heading, ""]
        lines += markdown_table(header, rows)
    return lines


def _hours(start: datetime, moment: datetime) -> float:
    return round((moment - start).total_seconds() / 3600, 2)


def record_lanes(data: dict[str, Any], events: Sequence[EventRow]) -> Lanes:
    """The record's lanes of the timeline chart: state changes, releases beside the
    updates promised, deadlines missed, promises broken, escalations."""
    return [
        (_("state changes"), [e.at for e in events if e.type == "transition"]),
        (_("statements released"), [parse_utc(s["at"]) for s in data["statements"]]),
        (_("updates promised for"), [parse_utc(p["due_at"]) for p in data["promises"]]),
        (_("deadlines missed"), [parse_utc(m["at"]) for m in _deadlines(data)]),
        (_("promised updates broken"), [parse_utc(p["due_at"]) for p in broken(data)]),
        (_("escalations"), [parse_utc(e["at"]) for e in data["escalations"]]),
    ]


def timeline_chart(start: datetime, span: timedelta, lanes: Lanes) -> str:
    """The incident on one time axis (hours from `start`, over `span`), a lane per kind."""
    options = pages.chart_options()
    pygal = options.pop("_pygal")
    chart = pygal.XY(
        **options,
        title=_("Timeline against the deadlines (hours from the start)"),
        stroke=False,
        dots_size=4,
        range=(0, len(lanes) + 1),
        xrange=(0, max(_hours(start, start + span), 1)),
        show_y_guides=True,
    )
    chart.y_labels = [{"label": name, "value": n + 1} for n, (name, _m) in enumerate(lanes)]
    for lane, (name, moments) in enumerate(lanes, start=1):
        points: list[tuple[float, int] | None] = [(_hours(start, m), lane) for m in moments]
        chart.add(name, points or [None])  # an empty lane keeps its place in the legend
    return pages.svg(chart)


def _is_miss(cell: str, words: Sequence[str]) -> bool:
    """Whether a cell says something went wrong: it starts with one of `words` (or has it
    after a colon); a word given as `…word` may stand anywhere in it."""
    return any(
        (w[1:] in cell) if w.startswith("…") else (cell.startswith(w) or f": {w}" in cell)
        for w in words
    )


def _miss_words() -> tuple[str, ...]:
    """MISS_WORDS and the same messages as the report's language writes them: the fixed
    part of each; where a translation puts the figure first ("{late} keshikti"), that part
    may stand anywhere in the cell (`…keshikti`)."""
    import re

    found = []
    for text in (_("NOT MET"), _("late by {late}"), _("never"), _("missed")):
        fixed = max(re.split(r"\{[^}]*\}", text), key=len).strip()
        if fixed:
            found.append(("…" + fixed) if text.startswith("{") else fixed)
    return tuple(dict.fromkeys((*MISS_WORDS, *found)))


def _marked(tables: Sequence[Table], words: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "heading": heading,
            "header": header,
            "rows": [[(cell, _is_miss(cell, words)) for cell in row] for row in rows],
        }
        for heading, header, rows in tables
    ]


def page(
    *,
    title: str,
    exercise: str,
    lead: Sequence[str],
    verdict: str,
    passed: bool,
    charts: Sequence[str],
    summary: Sequence[Table],
    data: dict[str, Any],
    timeline: Sequence[Table],
    marked: Sequence[str] = (),
) -> str:
    """The after-action report as one HTML page: `exercise` the marking above and below
    (empty for a real incident), cells that say something went wrong in red (those
    starting with `MISS_WORDS` or with one of the `marked` words)."""
    from markupsafe import Markup

    words = (*_miss_words(), *marked)
    return (
        pages.environment(Path(__file__).parent)
        .get_template(TEMPLATE)
        .render(
            lang=language(),
            title=title,
            exercise=exercise,
            lead=lead,
            verdict=verdict,
            passed=passed,
            chart=Markup("\n".join(charts)),
            sections=_marked(summary, words),
            texts_heading=_("Released texts"),
            texts=[
                {"heading": _text_heading(s), "text": s["text"]}
                for s in data["statements"]
                if s["text"]
            ],
            timeline=_marked(timeline, words),
        )
    )
