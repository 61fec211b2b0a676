"""The engine: incidents moved through a compiled playbook, one committed change at a time.

Functions here are pure: given the pinned playbook, the incident as read from the store and
the time, they return an `Outcome` (the new incident row, its events, timers and outbox
messages) or raise `RefusedError` saying exactly why. The service module commits outcomes.
"""
