from __future__ import annotations

from datetime import timedelta

import pytest

from crisiscomm.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("PT15M", timedelta(minutes=15)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("pt90s", timedelta(seconds=90)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "15", "15 m", "m", "1.5h", "P", "PT", "P1M", "P1Y", "1h-5m", "soon"]
)
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert (
        str(caught.value)
        == f"`{text}` is not a duration; write e.g. 30s, 15m, 2h, 1d, 1h30m or PT15M"
    )


@pytest.mark.parametrize("text", ["0m", "PT0S", "0d0h"])
def test_zero_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is zero; a duration must be longer"):
        parse_duration(text)


def test_format_round_trips() -> None:
    for text in ["30s", "15m", "1h30m", "1d2h"]:
        assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("text", ["P9999999999W", "99999999999999999999d", "400d", "P53W"])
def test_longer_than_a_year_is_refused_without_overflow(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert (
        str(caught.value) == f"`{text}` is longer than a year; no crisis protocol waits that long"
    )
