"""The office's norms: a target per indicator of its crisis communication (`norms:` in
office.yaml), with shipped defaults that follow the standard protocol's CERC timings.

    norms:
      time_to_first_statement: 1h      # at most, from the opening of the incident
      clearance_time: 15m              # at most, per approver
      clearance_time.legal: 20m        # one approver's own norm
      cadence_adherence: 100%          # at least: promised updates kept
      escalations_fired: 2             # at most, per incident
      answered_within_norm: 100%       # at least: register items answered by their deadline
      rumour_correction_latency: 1h30m # at most: a false post first seen -> rebuttal out

`norms_of` lays what the office wrote over the defaults; `norm_problems` says what in a
written `norms:` cannot be used (an unknown indicator, a value of the wrong kind, two
norms that contradict each other), by the keys that wrote it, for office/check.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crisiscomm.i18n import N_, _

__all__ = [
    "DEFAULTS",
    "INCIDENT_INDICATORS",
    "INDICATORS",
    "REGISTER_INDICATORS",
    "Norm",
    "norm_for",
    "norm_problems",
    "norms_of",
]

# indicator -> (kind, what it measures); duration and count norms are "at most", ratio
# norms "at least". `clearance_time.ROLE` is one approver's clearance time.
INDICATORS: dict[str, tuple[str, str]] = {
    "time_to_verification": ("duration", N_("time to verification")),
    "time_to_notify_leadership": ("duration", N_("time to notify leadership")),
    "time_to_first_statement": ("duration", N_("time to first public statement")),
    "clearance_time": ("duration", N_("clearance time per approver")),
    "cadence_adherence": ("ratio", N_("cadence adherence (promised updates kept)")),
    "escalations_fired": ("count", N_("escalations per incident")),
    # the register of questions and appeals (inbox/kpis.py), where the office keeps one
    "answered_within_norm": ("ratio", N_("register items answered within their deadline")),
    "rumour_correction_latency": (
        "duration",
        N_("rumour correction latency (first seen to rebuttal)"),
    ),
}
# measured per register item, not per incident
REGISTER_INDICATORS = ("answered_within_norm", "rumour_correction_latency")
INCIDENT_INDICATORS = tuple(name for name in INDICATORS if name not in REGISTER_INDICATORS)

# The standard protocol at `medium`: detection 10m + verification 15m; leadership hears
# within the detection step (10m); the holding statement within the first hour; a
# clearance step escalates at 10m and 20m; the update cadence is a public promise. The
# register: every item by the deadline its kind's norm (or the law) sets; a rumour
# rebutted within the rumour-response protocol's budget at `medium` (10m + 20m + 30m + 30m).
DEFAULTS: dict[str, str | int] = {
    "time_to_verification": "25m",
    "time_to_notify_leadership": "10m",
    "time_to_first_statement": "1h",
    "clearance_time": "15m",
    "cadence_adherence": "100%",
    "escalations_fired": 2,
    "answered_within_norm": "100%",
    "rumour_correction_latency": "1h30m",
}


# what the protocols do only once verified, so their norms cannot be shorter than
# verification's: (the finding, its hint)
AFTER_VERIFICATION = {
    "time_to_first_statement": (
        N_(
            "the first statement ({first}) is due before verification ({verified}), "
            "which comes first in the protocol"
        ),
        N_("give time_to_first_statement at least as long as time_to_verification"),
    ),
    "rumour_correction_latency": (
        N_(
            "a rumour is to be corrected ({rebuttal}) before verification ({verified}), "
            "and a rebuttal is only released once verified"
        ),
        N_("give rumour_correction_latency at least as long as time_to_verification"),
    ),
}


@dataclass(frozen=True)
class Norm:
    """An indicator's target: seconds, a share (0..1) or a count, as the office wrote it."""

    indicator: str
    target: float
    text: str

    @property
    def kind(self) -> str:
        """duration, ratio or count."""
        return INDICATORS[self.indicator.split(".")[0]][0]

    @property
    def at_least(self) -> bool:
        """Whether a value must reach the target (ratios) rather than stay under it."""
        return self.kind == "ratio"

    def holds(self, value: float) -> bool:
        """Whether a measured value is within the norm."""
        return value >= self.target if self.at_least else value <= self.target


def _known(indicator: str) -> bool:
    base, dot, role = indicator.partition(".")
    return base in INDICATORS and (not dot or (base == "clearance_time" and bool(role)))


def parse_norm(indicator: str, raw: Any) -> Norm:
    """A written norm; ValueError with a readable message when it cannot be one."""
    from crisiscomm.durations import parse_duration

    kind = INDICATORS[indicator.split(".")[0]][0]
    text = str(raw).strip()
    if kind == "duration":
        if isinstance(raw, int | float):  # bool too
            raise ValueError(_("`{value}` has no unit; write e.g. 15m or 1h").format(value=text))
        return Norm(indicator, parse_duration(text).total_seconds(), text)
    if kind == "ratio":
        number = text[:-1] if text.endswith("%") else text
        try:
            share = float(number) / (100 if text.endswith("%") else 1)
        except ValueError:
            share = -1.0
        if isinstance(raw, bool) or not 0 <= share <= 1:
            raise ValueError(
                _("`{value}` is not a share; write e.g. 90% or 0.9").format(value=text)
            )
        return Norm(indicator, share, text)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ValueError(
            _("`{value}` is not a count; write a whole number such as 2").format(value=text)
        )
    return Norm(indicator, float(raw), text)


def norms_of(written: Mapping[str, Any] | None = None) -> dict[str, Norm]:
    """The norms in force: the defaults with what the office wrote laid over them (a
    written norm that cannot be used is left out; `validate` reports it)."""
    norms = {name: parse_norm(name, raw) for name, raw in DEFAULTS.items()}
    for name, raw in (written or {}).items():
        if _known(str(name)):
            try:
                norms[str(name)] = parse_norm(str(name), raw)
            except ValueError:
                continue
    return norms


def norm_for(norms: Mapping[str, Norm], indicator: str) -> Norm | None:
    """The norm an indicator is measured against: its own, else its family's
    (`clearance_time.legal` falls back to `clearance_time`)."""
    return norms.get(indicator) or norms.get(indicator.split(".")[0])


def norm_problems(written: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """What cannot be used in a written `norms:`: (the key, message, hint)."""
    problems: list[tuple[str, str, str | None]] = []
    parsed: dict[str, Norm] = {}
    for name, raw in written.items():
        key = str(name)
        if not _known(key):
            close = difflib.get_close_matches(key.split(".")[0], list(INDICATORS), n=1)
            problems.append(
                (
                    key,
                    _("no indicator `{name}`").format(name=key),
                    _("did you mean `{name}`?").format(name=close[0])
                    if close
                    else _("indicators: {names}").format(
                        names=", ".join([*INDICATORS, "clearance_time.ROLE"])
                    ),
                )
            )
            continue
        try:
            parsed[key] = parse_norm(key, raw)
        except ValueError as error:
            problems.append((key, str(error), None))
    in_force = {**norms_of(), **parsed}
    first = in_force["time_to_first_statement"]
    verified = in_force["time_to_verification"]
    for name, (message, hint) in AFTER_VERIFICATION.items():
        norm = in_force[name]
        if norm.target < verified.target and {name, verified.indicator} & set(parsed):
            problems.append(
                (
                    name if name in parsed else verified.indicator,
                    _(message).format(first=norm.text, rebuttal=norm.text, verified=verified.text),
                    _(hint),
                )
            )
    for name, norm in in_force.items():
        if name.split(".")[0] != "clearance_time" or norm.target <= first.target:
            continue
        if name in parsed or first.indicator in parsed:
            problems.append(
                (
                    name if name in parsed else first.indicator,
                    _(
                        "one approver may take {clearance} ({name}), longer than the whole "
                        "time to the first statement ({first})"
                    ).format(clearance=norm.text, name=name, first=first.text),
                    _("the first statement waits for every approver: shorten the clearance norm"),
                )
            )
    return problems
