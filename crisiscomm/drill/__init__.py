"""Drills: scenario files run unattended on a simulated clock, and their after-action reports.

scenario = load_scenario(Path("drills/flood-amu-darya.yaml"))   # ScenarioError: file:line
run = run_drill(scenario, db=Path("/tmp/drill.db"))             # never the officers' db
report = after_action(run)                                      # .passed, .checks
text = to_markdown(report)

scenario.py  the `crisiscomm-drill: 1` format: schema.json + meaning checks
runner.py    simulated clock, service functions, timers, recorder channels
kpis.py      KPIs from an incident's event log
report.py    injects met/late/missed, targets, HSEEP ratings, improvement plan
coverage.py  states and transitions the drills exercised
generate.py  skeletons reaching every state by a shortest path
"""

from __future__ import annotations

from crisiscomm.drill.report import AfterAction, after_action, to_json, to_markdown
from crisiscomm.drill.runner import DrillRun, run_drill
from crisiscomm.drill.scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "AfterAction",
    "DrillRun",
    "Scenario",
    "ScenarioError",
    "after_action",
    "load_scenario",
    "run_drill",
    "to_json",
    "to_markdown",
]
