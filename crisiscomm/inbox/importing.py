"""Items from a CSV or JSON file (an e-mail export, the e-government portal): all or none.

Columns (CSV header or JSON keys): kind, received_at, channel, source, language, subject,
text; optionally external_id, incident, name, contact, reach. `received_at` is the office's
local time unless it carries an offset. Any problem refuses the whole file, naming the row
(the CSV line, the header being row 1; the JSON list's position from 1) and the column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.inbox.service import Entry

__all__ = ["COLUMNS", "OPTIONAL", "entries_from", "local_time"]

COLUMNS = ("kind", "received_at", "channel", "source", "language", "subject", "text")
OPTIONAL = ("external_id", "incident", "name", "contact", "reach")


def local_time(text: str, zone: str) -> datetime:
    """A typed time: `2027-03-02 14:30` in the office's zone, or with its own offset."""
    moment = datetime.fromisoformat(text.strip().replace("T", " "))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment


def _bad(row: int, column: str, message: str) -> UsageError:
    return UsageError(
        _("row {row}, column {column}: {message}").format(row=row, column=column, message=message),
        hint=_("nothing was imported; correct the file and import it again"),
    )


def _rows_of_csv(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = raw[: error.start].count(b"\n") + 1
        raise UsageError(
            _("row {row}: the file is not in UTF-8 (saved from Excel as cp1251?)").format(row=row),
            hint=_('save it as "CSV UTF-8" and import it again; nothing was imported'),
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    unknown = [name for name in header if name not in COLUMNS + OPTIONAL]
    if unknown:
        raise _bad(1, unknown[0], _("unknown column"))
    for name in COLUMNS:
        if name not in header:
            raise _bad(1, name, _("the column is missing"))
    width = len(header)
    rows = []
    for values in reader:  # a plain reader: csv.DictReader costs a third of an import's parsing
        if not values:
            continue  # a blank line
        if len(values) > width:
            raise _bad(reader.line_num, "-", _("more values than columns"))
        if len(values) < width:
            values += [""] * (width - len(values))
        rows.append((reader.line_num, dict(zip(header, values, strict=True))))
    return rows


def _rows_of_json(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        content = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(
            _("the file is not JSON in UTF-8: {reason}").format(reason=error)
        ) from None
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, list):
        raise UsageError(_("the JSON file must hold a list of items"))
    rows = []
    for index, record in enumerate(content, start=1):
        if not isinstance(record, Mapping):
            raise _bad(index, "-", _("not an object"))
        for name in record:
            if name not in COLUMNS + OPTIONAL:
                raise _bad(index, str(name), _("unknown column"))
        rows.append((index, {str(k): "" if v is None else str(v) for k, v in record.items()}))
    return rows


def entries_from(raw: bytes, *, zone: str, kinds: tuple[str, ...]) -> list[Entry]:
    """Every row of a CSV or JSON file as an Entry; a UsageError for the first bad one."""
    is_json = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")
    rows = _rows_of_json(raw) if is_json else _rows_of_csv(raw)
    entries = []
    for row, record in rows:
        for name in COLUMNS:
            if not record.get(name, "").strip():
                raise _bad(row, name, _("empty"))
        if record["kind"] not in kinds:
            raise _bad(
                row,
                "kind",
                _("unknown kind `{kind}` (the kinds: {kinds})").format(
                    kind=record["kind"], kinds=", ".join(kinds)
                ),
            )
        try:
            received = local_time(record["received_at"], zone)
        except ValueError:
            raise _bad(
                row,
                "received_at",
                _("`{value}` is not a date and time like 2027-03-02 14:30").format(
                    value=record["received_at"]
                ),
            ) from None
        reach: int | None = None
        if record.get("reach", "").strip():
            try:
                reach = int(record["reach"])
            except ValueError:
                raise _bad(row, "reach", _("not a whole number")) from None
        incident = record.get("incident", "").strip()
        fields: dict[str, Any] = {"row": row}
        entries.append(
            Entry(
                kind=record["kind"],
                received_at=received,
                channel=record["channel"],
                source=record["source"],
                language=record["language"],
                subject=record["subject"],
                text=record["text"],
                external_id=record.get("external_id", "").strip() or None,
                incidents=(incident,) if incident else (),
                name=record.get("name", "").strip() or None,
                contact=record.get("contact", "").strip() or None,
                reach=reach,
                fields=fields,
            )
        )
    return entries
