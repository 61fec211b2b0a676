"""The hash chain of an incident's events (DESIGN.md invariant 2), without SQL.

    hash(event) = sha256_hex(prev_hash + canonical_json({
        "incident_id": ..., "seq": ..., "at": format_utc(at), "actor": ..., "type": ...,
        "data": ...}))

`prev_hash` is the previous event's hash, "" for event 1; canonical JSON is sorted keys, no
spaces, UTF-8 (`ensure_ascii=False`), the same function that hashes playbooks. The incident
row keeps `event_count` and `last_hash`, so removing events from the end is caught too.

This is accountability, not protection: someone who may write the database can recompute
the whole chain and the incident row. It shows an edit made by hand or by a stray tool.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any

from crisiscomm.i18n import _
from crisiscomm.store.rows import ChainProblem

__all__ = ["StoredEvent", "canonical_text", "event_hash", "event_hash_of_json", "first_problem"]

# (seq, at as stored, actor, type, data as stored JSON, prev_hash, hash)
StoredEvent = tuple[int, str, str, str, str, str, str]

# `canonical_json` (the same options, so the same text: test_store_chain checks it) from an
# encoder made once: json.dumps with options builds a new encoder on every call, which is
# about half its time for an event's small data, and every commit encodes a few of those
canonical_text = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False
).encode


def event_hash(
    prev_hash: str, *, incident_id: str, seq: int, at: str, actor: str, type: str, data: Any
) -> str:
    """The hash of one event, chained to the one before it."""
    return event_hash_of_json(
        prev_hash,
        incident_id=incident_id,
        seq=seq,
        at=at,
        actor=actor,
        type=type,
        data_json=canonical_text(data),
    )


def event_hash_of_json(
    prev_hash: str, *, incident_id: str, seq: int, at: str, actor: str, type: str, data_json: str
) -> str:
    """`event_hash` with the data already as canonical JSON (the text the row stores).

    The body is the canonical JSON of the object in the module docstring, put together
    with the data's text as it is instead of encoding the data a second time.
    """

    text = encode_basestring  # json.dumps(value, ensure_ascii=False) of a str, without its set-up
    body = (
        f'{{"actor":{text(actor)},"at":{text(at)},"data":{data_json},'
        f'"incident_id":{text(incident_id)},"seq":{int(seq)},"type":{text(type)}}}'
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def first_problem(
    incident_id: str, events: Sequence[StoredEvent], *, event_count: int, last_hash: str
) -> ChainProblem | None:
    """The first event of the incident whose chain does not hold, or None."""

    def problem(seq: int, text: str) -> ChainProblem:
        return ChainProblem(incident_id=incident_id, seq=seq, problem=text)

    def rehash(event: StoredEvent, seq: int) -> str:
        _seq, at, actor, type_, data, prev, _hash = event
        return event_hash(
            prev,
            incident_id=incident_id,
            seq=seq,
            at=at,
            actor=actor,
            type=type_,
            data=json.loads(data),
        )

    expected_prev = ""
    for expected, event in enumerate(events, start=1):
        seq, prev, digest = event[0], event[5], event[6]
        if seq != expected:
            return problem(
                expected,
                _("event {seq} was removed: the log jumps from event {before} to {after}").format(
                    seq=expected, before=expected - 1, after=seq
                ),
            )
        if rehash(event, seq) != digest:
            moved_from = next(
                (
                    other
                    for other in range(1, max(len(events), event_count) + 1)
                    if other != seq and rehash(event, other) == digest
                ),
                None,
            )
            if moved_from is not None:
                return problem(
                    seq,
                    _(
                        "event {seq} was recorded as event {original}: events were reordered "
                        "or renumbered"
                    ).format(seq=seq, original=moved_from),
                )
            return problem(
                seq,
                _("event {seq} was edited: its content no longer matches its hash").format(seq=seq),
            )
        if prev != expected_prev:
            if seq == 1:
                return problem(1, _("event 1 does not start the chain: it was replaced"))
            # this event is intact and chained to another version of the one before it
            return problem(
                seq - 1,
                _(
                    "event {seq} was replaced: event {next} was chained to a different event {seq}"
                ).format(seq=seq - 1, next=seq),
            )
        expected_prev = digest
    stored = len(events)
    if event_count > stored:
        return problem(
            stored + 1,
            _(
                "event {seq} was removed: the incident has {count} events, the log ends at {last}"
            ).format(seq=stored + 1, count=event_count, last=stored),
        )
    if event_count < stored:
        return problem(
            event_count + 1,
            _(
                "event {seq} was added outside crisiscomm: the incident has only {count} events"
            ).format(seq=event_count + 1, count=event_count),
        )
    if stored and last_hash != expected_prev:
        return problem(
            stored,
            _("event {seq} was replaced: the incident recorded a different last event").format(
                seq=stored
            ),
        )
    return None
