"""The period report as one self-contained HTML file: tables, SVG charts inline, a print
stylesheet for A4, no JavaScript and nothing fetched. Jinja2 escapes every value; only the
charts' SVG, which pygal writes with its own escaping, is put in as markup.

Written into a folder (`report --format html -o DIR/`), each incident's row links to the
incident's own after-action page beside it (`links`: incident id -> file name).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crisiscomm import pages
from crisiscomm.i18n import _, language
from crisiscomm.report.charts import charts
from crisiscomm.report.figures import PeriodReport
from crisiscomm.report.render import MISSED, lead, sections, title

__all__ = ["to_html"]

TEMPLATE = "report.html.j2"


def to_html(report: PeriodReport, links: Mapping[str, str] | None = None) -> str:
    """The report as an HTML page; an incident's id links to `links[id]` where given."""
    from markupsafe import Markup

    environment = pages.environment(Path(__file__).parent)
    drills = {_("Drills (EXERCISE, not counted above)"), _("Drills against the norms")}
    incident = _("incident")
    return environment.get_template(TEMPLATE).render(
        lang=language(),
        title=title(report),
        lead=lead(report),
        charts=[(name, Markup(svg)) for name, svg in charts(report)],
        sections=[
            {
                "heading": heading,
                "header": header,
                "rows": [
                    [
                        {
                            "text": cell,
                            "miss": cell.endswith(MISSED),
                            "href": (links or {}).get(cell)
                            if n == 0 and header[0] == incident
                            else None,
                        }
                        for n, cell in enumerate(row)
                    ]
                    for row in rows
                ],
                "exercise": heading in drills,
            }
            for heading, header, rows in sections(report)
        ],
        footer=_("Figures from crisiscomm's record; norms from the office configuration."),
    )
