"""The period report as one self-contained HTML file: tables, SVG charts inline, a print
stylesheet for A4, no JavaScript and nothing fetched. Jinja2 escapes every value; only the
charts' SVG, which pygal writes with its own escaping, is put in as markup."""

from __future__ import annotations

from pathlib import Path

from crisiscomm import pages
from crisiscomm.i18n import _, language
from crisiscomm.report.charts import charts
from crisiscomm.report.figures import PeriodReport
from crisiscomm.report.render import MISSED, lead, sections, title

__all__ = ["to_html"]

TEMPLATE = "report.html.j2"


def to_html(report: PeriodReport) -> str:
    """The report as an HTML page."""
    from markupsafe import Markup

    environment = pages.environment(Path(__file__).parent)
    drills = {_("Drills (EXERCISE, not counted above)"), _("Drills against the norms")}
    return environment.get_template(TEMPLATE).render(
        lang=language(),
        title=title(report),
        lead=lead(report),
        charts=[(name, Markup(svg)) for name, svg in charts(report)],
        sections=[
            {"heading": heading, "header": header, "rows": rows, "exercise": heading in drills}
            for heading, header, rows in sections(report)
        ],
        missed=MISSED,
        footer=_("Figures from crisiscomm's record; norms from the office configuration."),
    )
