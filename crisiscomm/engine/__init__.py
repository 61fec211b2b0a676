"""The engine: incidents moved through a compiled playbook, one committed change at a time.

Functions here are pure: given the pinned playbook, the incident as read from the store and
the time, they return an `Outcome` (the new incident row, its events, timers and outbox
messages) or raise `RefusedError` saying exactly why. The service module commits outcomes.

Modules, lowest first (each imports only those above it in this list):

    outcome.py     what one step produces: the incident row, events, timers, outbox rows
    timefmt.py     times as people read them, in the playbook's time zone
    facts.py       `key=value` facts typed by the playbook
    narrative.py   the record as a person reads it: each event in words
    machine.py     the `transitions` state machine of a playbook (imported only to advance)
    context.py     what every step reads: the data to change, template values, cadence,
                   the closed-incident refusal
    statements.py  statements: drafted, edited, cleared, released
    incident.py    incident steps: open, advance, check, set, acknowledge, note
    timers.py      what a timer does when it comes due
    kpis.py        KPIs from an incident's event log (drills, incidents, period reports)
    record.py      an incident's record as after-action reports list it: releases and
                   their approvers, promises, escalations, the folded timeline
    after_action.py  the tables, Markdown and HTML page (after_action.html.j2) every
                   after-action report shares, a drill's and a real incident's
    autopilot.py   the commands that take an incident along a playbook (tests, drills)
    service.py     read, run one step, commit it in one transaction

statements.py never imports incident.py; incident.py uses statements.py (lazily) to draft
on entering a state and to check clearance guards.
"""
