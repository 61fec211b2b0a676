"""Drills: scenario files run unattended on a simulated clock, and their after-action reports.

scenario = load_scenario(Path("drills/flood-amu-darya.yaml"))   # scenario.py; ScenarioError
run = run_drill(scenario, db=Path("/tmp/drill.db"))             # runner.py; never the officers' db
report = after_action(run)                                      # report.py; .passed, .checks
text = to_markdown(report)

scenario.py  the `crisiscomm-drill: 1` document kind: schema.json + meaning checks (imports
             only documents/ and playbook/, so `validate` does not load the engine)
runner.py    simulated clock, service functions, timers, recorder channels
report.py    injects met/late/missed, KPIs (engine/kpis.py) against targets, HSEEP
             ratings, improvement plan
coverage.py  states and transitions the drills exercised
generate.py  skeletons reaching every state by a shortest path

The package face imports nothing: import from the module that holds what you need.
"""
