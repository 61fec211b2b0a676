"""The values templates may use: worked out on demand, the same as a plain dict of them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.engine.context import template_values
from crisiscomm.store import Store
from crisiscomm.templates import BUILTIN_PLACEHOLDERS, missing_values, render_lenient

from .conftest import START, open_press

BENCH_PLAYBOOK = Path(__file__).parents[1] / "benchmarks" / "timers-playbook.yaml"


def test_every_value_of_an_open_incident(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    playbook, incident = service.load(store=store, incident_id=incident_id)
    values = template_values(playbook, incident, START + timedelta(minutes=5))
    assert dict(values) == {
        "incident_id": incident_id,
        "incident_title": incident.title,
        "playbook_title": "Press test playbook",
        "severity": "medium",
        "state": "detection",
        "state_title": playbook.state_title("detection"),
        "owner": "Duty press officer",
        "now": "03.04.2026 06:05",  # Asia/Tashkent
        "opened_at": "03.04.2026 06:00",
        "deadline": "03.04.2026 06:20",
        "next_update_at": "03.04.2026 08:05",  # the playbook's cadence: every 2h
        "region": "Nukus",
    }
    assert len(values) == 12
    assert "evacuated" not in values  # a fact with no value yet
    assert missing_values("$region, $evacuated", values) == ["evacuated"]
    assert render_lenient("$incident_id $region $evacuated", values) == (
        f"{incident_id} Nukus $evacuated"
    )
    with pytest.raises(KeyError):
        values["evacuated"]


def test_no_deadline_or_cadence_no_value(store: Store, clock: SimulatedClock) -> None:
    incident_id = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=str(BENCH_PLAYBOOK),
        title="T",
        severity=None,
        facts=[],
        actor="bench",
    ).id
    service.advance(
        store=store, clock=clock, incident_id=incident_id, trigger="close", note=None, actor="b"
    )
    playbook, incident = service.load(store=store, incident_id=incident_id)
    values = template_values(playbook, incident, START)
    assert "deadline" not in values  # closed has none
    assert "next_update_at" not in values  # the playbook has no cadence
    assert set(values) == BUILTIN_PLACEHOLDERS - {"deadline", "next_update_at"}
    assert render_lenient("$deadline", values) == "$deadline"
