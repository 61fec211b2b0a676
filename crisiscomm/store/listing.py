"""Incidents a page at a time, newest first: `list` and `status --all` on a long history.

Keyset paging: a page starts after the incident named (its `opened_at, id`), so each page
reads only its own rows from the `incidents_opened` index (the open ones from the partial
`incidents_open`), however many incidents came before it; the count of the rest is one
pass over an index, not over the rows, and stops at `up_to` (a million incidents are not
counted for a line that says "more than 10,000 more").
"""

from __future__ import annotations

from crisiscomm.store.connection import StoreConnection
from crisiscomm.store.incidents import INCIDENT_COLUMNS, _incident
from crisiscomm.store.rows import IncidentRow

__all__ = ["MORE_COUNTED", "IncidentPages"]

MORE_COUNTED = 10_000  # incidents after a page counted at most ("more than 10,000 more")

OPEN = "closed_at IS NULL"
AFTER = "(opened_at, id) < (SELECT opened_at, id FROM incidents WHERE id = :after)"
ORDER = "ORDER BY opened_at DESC, id DESC"


def _where(*, open_only: bool, after: str | None) -> str:
    conditions = [c for c, on in ((OPEN, open_only), (AFTER, after is not None)) if on]
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


class IncidentPages(StoreConnection):
    """Incidents a page at a time, and how many there are."""

    def incident_page(
        self, *, limit: int, open_only: bool = False, after: str | None = None
    ) -> list[IncidentRow]:
        """Up to `limit` incidents, newest first, from the one after the incident `after`
        (its id; from the newest without it). Their data has no "statements"."""
        query = f"SELECT {INCIDENT_COLUMNS} FROM incidents"
        query += _where(open_only=open_only, after=after) + f" {ORDER} LIMIT :limit"
        params: dict[str, object] = {"limit": limit}
        if after is not None:
            params["after"] = after
        with self._driver_errors():
            records = self._execute(query, **params).fetchall()
            return [_incident(record, parse=self._parsed) for record in records]

    def count_incidents(
        self, *, open_only: bool = False, after: str | None = None, up_to: int | None = None
    ) -> int:
        """How many incidents (open ones with `open_only`) come after the incident `after`
        in the newest-first order (all of them without it); counted up to `up_to` + 1 at
        most, when given."""
        query = "SELECT 1 FROM incidents" + _where(open_only=open_only, after=after)
        params: dict[str, object] = {"after": after} if after is not None else {}
        if up_to is not None:
            query += " LIMIT :up_to"
            params["up_to"] = up_to + 1
        query = f"SELECT count(*) FROM ({query}) counted"
        with self._driver_errors():
            return int(self._fetchone(query, **params)[0])

    def incident_versions(self) -> dict[str, int]:
        """Every incident's id and version (bumped by each commit): how a republish of the
        public site tells which incidents changed since it last looked."""
        with self._driver_errors():
            return {
                row[0]: int(row[1]) for row in self._execute("SELECT id, version FROM incidents")
            }
