"""Period reports: the office's indicators over the incidents of a period, against its norms.

report = period_report(store=store, period=month_period("2027-04", zone), norms=norms_of())
text = to_text(report)                                      # render.py: text, md, json, csv
page = to_html(report)                                      # html.py: one self-contained file

period.py   periods as officers write them (--from/--to, --month) and the one before
figures.py  per-incident KPIs (engine/kpis.py, the drills' own) and their summaries, per
            person, the register's indicators (inbox/kpis.py)
render.py   text, Markdown, JSON and CSV
charts.py   SVG charts (pygal): first statement per incident, monthly trend, approvers
html.py     the HTML page (Jinja2, autoescaped; no JavaScript; A4 print stylesheet), its
            incidents linked to their pages when written into a folder
incident.py one real incident's after-action report (`report INCIDENT`), in the drill's
            format: the record's tables are engine/record.py's and engine/after_action.py's

Built on the store (store/reports.py reads only the period's incidents and their KPI
events) and the engine's KPIs; beside drill/, ui/ and serve/.
"""
