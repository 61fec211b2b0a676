"""Durations as playbooks write them: `30s`, `15m`, `2h`, `1d`, `1h30m`, or ISO-8601 `PT15M`."""

from __future__ import annotations

import re
from datetime import timedelta

from crisiscomm.i18n import _

__all__ = ["format_duration", "parse_duration"]

MAX_DURATION = timedelta(days=366)
_SHORT = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _seconds(total: int) -> timedelta:
    # timedelta overflows past ~2.7 million years; anything past the cap is refused anyway
    return timedelta(seconds=min(total, int(MAX_DURATION.total_seconds()) + 1))


def parse_duration(text: str) -> timedelta:
    """Parse a duration; raise ValueError with a readable message when it is not one."""
    value = text.strip()
    short = _SHORT.match(value)
    if value and short:
        days, hours, minutes, seconds = (int(part or 0) for part in short.groups())
        result = _seconds(days * 86400 + hours * 3600 + minutes * 60 + seconds)
    else:
        iso = _ISO.match(value.upper())
        if not (iso and value.upper() not in ("P", "PT") and not value.upper().endswith("T")):
            raise ValueError(
                _("`{text}` is not a duration; write e.g. 30s, 15m, 2h, 1d, 1h30m or PT15M").format(
                    text=text
                )
            )
        weeks, days, hours, minutes, seconds = (int(part or 0) for part in iso.groups())
        result = _seconds(weeks * 604800 + days * 86400 + hours * 3600 + minutes * 60 + seconds)
    if result > MAX_DURATION:
        raise ValueError(
            _("`{text}` is longer than a year; no crisis protocol waits that long").format(
                text=text
            )
        )
    if result <= timedelta(0):
        raise ValueError(_("`{text}` is zero; a duration must be longer").format(text=text))
    return result


def format_duration(value: timedelta) -> str:
    """A duration in the short form (`1h30m`)."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
