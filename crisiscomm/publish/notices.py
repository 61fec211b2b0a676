"""What a page, a feed entry and a CAP message say about a withdrawn, corrected or
superseded release: its notice, in the page's language, with the time it happened.

Never a silent change: the notice goes above the text, the feed entry's `updated` moves to
the notice's time and its content begins with it.
"""

from __future__ import annotations

from typing import Any

from crisiscomm.publish.pages import local_time, rfc3339, words
from crisiscomm.publish.record import PublicStatement

__all__ = ["notice_text", "notice_view"]


def notice_view(
    statement: PublicStatement, code: str, zone: str, title: str = ""
) -> dict[str, Any]:
    """The keys a statement's view gains: each notice split around its time (so the page
    can write a `<time>` element there), the plain notice and when the entry last changed."""
    w = words(code, title)
    view: dict[str, Any] = {
        "updated_iso": rfc3339(statement.updated_at),
        "notice": notice_text(statement, code, zone, title),
        "withdrawn": None,
        "corrected": None,
        "superseded": None,
    }
    for key, moment, word, note in (
        ("withdrawn", statement.withdrawn_at, "withdrawn_at", statement.withdrawal_reason),
        (
            "corrected",
            statement.released_at if statement.corrects else None,
            "corrected_at",
            statement.correction_note,
        ),
        ("superseded", statement.superseded_at, "superseded_at", ""),
    ):
        if moment is None:
            continue
        before, _mark, after = w[word].partition("{time}")
        view[key] = {
            "before": before,
            "after": after,
            "time": local_time(moment, code, zone),
            "iso": rfc3339(moment),
            "note": note,
        }
    return view


def notice_text(statement: PublicStatement, code: str, zone: str, title: str = "") -> str:
    """The notices of a statement as plain text, newest first ("" when there is none)."""
    w = words(code, title)
    lines = []
    if statement.withdrawn_at is not None:
        at = local_time(statement.withdrawn_at, code, zone)
        lines.append(f"{w['withdrawn_at'].replace('{time}', at)} {statement.withdrawal_reason}")
    if statement.superseded_at is not None:
        lines.append(
            w["superseded_at"].replace("{time}", local_time(statement.superseded_at, code, zone))
        )
    if statement.corrects:
        at = local_time(statement.released_at, code, zone)
        lines.append(f"{w['corrected_at'].replace('{time}', at)} {statement.correction_note}")
    return "\n".join(lines)
