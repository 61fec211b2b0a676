"""The playbook kind's lint rules, one module per family (ansible-lint's `rules/` is the model).

core.py        the walker over a merged document (`Linter`), its helpers, the `rule` decorator
structure.py   states and transitions: initial, reachability, dead ends, final states, triggers
references.py  names used but not defined: roles, channels, statements, facts, checklist
               items, actions, severities, template placeholders
timing.py      deadlines, escalation order, durations, the time zone
statements.py  statements: languages, the next-update promise, cadence, clearance
channels.py    channels: literal secrets, settings a type does not take, e-mail addresses
texts.py       texts officers read, written per language: none may leave a language out

Each rule is a small function with its id, severity and summary in its decorator and a
docstring saying what it finds. `crisiscomm.playbook.lint` runs them in a fixed order and
registers them; nothing here imports it.
"""
