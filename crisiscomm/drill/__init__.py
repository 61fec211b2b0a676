"""Drills: scenario files run unattended on a simulated clock, and their after-action reports.

scenario = load_scenario(Path("drills/flood-amu-darya.yaml"))   # scenario.py; ScenarioError
run = run_drill(scenario, db=Path("/tmp/drill.db"))             # runner.py; never the officers' db
report = after_action(run)                                      # report.py; .passed, .checks
text = to_markdown(report)

scenario.py  the `crisiscomm-drill: 1` document kind: schema.json + meaning checks (imports
             only documents/ and playbook/, so `validate` does not load the engine)
checker.py   the checks' common ground: offsets, targets, names, the tracks themselves
model.py     what a checked scenario is: tracks (one incident each), injects, responses
tracks.py    a track's playbook as played: the timings the exercise overrides, added facts
runner.py    simulated clock, the tracks' incidents, register injects, timers
channels.py  where deliveries go: recorded and marked EXERCISE, or live and still marked
ratings.py   injects met/late/missed, KPI targets, states, escalations, HSEEP ratings
report.py    the after-action report per incident (engine/record.py: its record), md/json
report_html.py  the same as one HTML page with a chart of the run against its deadlines
interactive.py  playing a drill at the console on an accelerated clock
coverage.py  states and transitions the drills exercised
generate.py  skeletons reaching every state by a shortest path

The package face imports nothing: import from the module that holds what you need.
"""
