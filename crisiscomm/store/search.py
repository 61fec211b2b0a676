"""Full-text search over the register: an item's subject, text and answer, in any language.

Words are folded the same way when an item is indexed and when it is searched
(`fold_words`): lower case, without diacritics (Karakalpak á ǵ ń ó ú, Russian ё й),
Karakalpak ı as i, and the Uzbek oʻ gʻ without their apostrophe, however it was typed
(ʻ ʼ ’ ‘ ' `). So `Qonirat` finds `Qońırat`, `ogil` finds `oʻgʻil`, and both databases
find the same items: SQLite through an FTS5 table (migration 0005), PostgreSQL through a
tsvector of the `simple` configuration under a GIN index. Each query word matches the
words it begins (`suw` finds `suwı`): Karakalpak and Uzbek add endings to their words.

`InboxSearchTables` rewrites an item's index row in the transaction that writes the item,
so the index never lags behind the register.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crisiscomm.store.inbox import ITEM_COLUMNS, InboxTables, _item
from crisiscomm.store.rows import NewTimer

if TYPE_CHECKING:
    from crisiscomm.store.inbox_rows import InboxItem

__all__ = ["SEARCH_MIGRATION", "InboxSearchTables", "fold_words"]

SEARCH_MIGRATION = 5  # the migration that makes the index: items before it are indexed then

# Karakalpak's dotless ı has no decomposition; the apostrophes of Uzbek oʻ and gʻ (and the
# ones typed in their place) would otherwise split or join words differently per database
_FOLD = str.maketrans({"ı": "i", "ʻ": None, "ʼ": None, "’": None, "‘": None, "'": None, "`": None})
_WORD = re.compile(r"[^\W_]+")

_INDEXED = [f"i.{name.strip()}" for name in ITEM_COLUMNS.split(",")]
_SQLITE_DELETE = """
    DELETE FROM inbox_search WHERE rowid = (SELECT rowid FROM inbox_items WHERE id = :id)
"""
# VALUES with a subquery, not INSERT ... SELECT: FTS5 takes the latter ~5x slower
_SQLITE_INSERT = """
    INSERT INTO inbox_search (rowid, subject, text, answer)
    VALUES ((SELECT rowid FROM inbox_items WHERE id = :id), :subject, :text, :answer)
"""
_SQLITE_SEARCH = f"""
    SELECT {", ".join(_INDEXED)}, bm25(inbox_search, 4.0, 2.0, 1.0) AS score
    FROM inbox_search JOIN inbox_items AS i ON i.rowid = inbox_search.rowid
    WHERE inbox_search MATCH :query
    ORDER BY score, i.received_at DESC, i.id DESC LIMIT :limit
"""
_SQLITE_MATCHING = "rowid IN (SELECT rowid FROM inbox_search WHERE inbox_search MATCH :text_query)"
_POSTGRES_UPSERT = """
    INSERT INTO inbox_search (item_id, document)
    VALUES (:id, setweight(to_tsvector('simple', CAST(:subject AS text)), 'A')
                 || setweight(to_tsvector('simple', CAST(:text AS text)), 'B')
                 || setweight(to_tsvector('simple', CAST(:answer AS text)), 'C'))
    ON CONFLICT (item_id) DO UPDATE SET document = excluded.document
"""
_POSTGRES_SEARCH = f"""
    SELECT {", ".join(_INDEXED)}, ts_rank(s.document, q.query) AS score
    FROM inbox_search AS s JOIN inbox_items AS i ON i.id = s.item_id,
         to_tsquery('simple', :query) AS q (query)
    WHERE s.document @@ q.query
    ORDER BY score DESC, i.received_at DESC, i.id DESC LIMIT :limit
"""
_POSTGRES_MATCHING = (
    "id IN (SELECT item_id FROM inbox_search WHERE document @@ to_tsquery('simple', :text_query))"
)
_ALL_TEXTS = "SELECT id, subject, text, answer FROM inbox_items"


def fold_words(text: str) -> list[str]:
    """The words of `text` as the index holds them: folded, in order."""
    return _folded_text(text).split()


def _folded_text(text: str) -> str:
    # folded a whitespace-separated piece at a time (no word spans whitespace, and folding
    # is per character), each piece once: an import's texts repeat most of their words
    return " ".join(filter(None, map(_folded, text.split())))


@functools.lru_cache(maxsize=65_536)
def _folded(piece: str) -> str:
    decomposed = unicodedata.normalize("NFKD", piece.casefold()).translate(_FOLD)
    return " ".join(_WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c))))


class InboxSearchTables(InboxTables):
    """The register's items with their full-text index (`inbox_search`)."""

    def search_inbox(self, text: str, *, limit: int = 50) -> list[tuple[InboxItem, float]]:
        """The items whose subject, text or answer hold every word of `text` (or words
        beginning with it), best first, each with its score (higher is better); [] when
        `text` has no word at all."""
        query = self._text_query(text)
        if query is None:
            return []
        sql = _POSTGRES_SEARCH if self.backend == "postgresql" else _SQLITE_SEARCH
        with self._transaction(write=False):
            rows = self._execute(sql, query=query, limit=limit).fetchall()
        sign = 1.0 if self.backend == "postgresql" else -1.0  # bm25: lower is better
        return [(_item(row[:-1]), sign * float(row[-1])) for row in rows]

    def inbox_text_condition(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """A condition for `inbox_items(where)` that keeps the items holding every word of
        `text`, and its parameters; None when `text` has no word."""
        query = self._text_query(text)
        if query is None:
            return None
        sql = _POSTGRES_MATCHING if self.backend == "postgresql" else _SQLITE_MATCHING
        return sql, {"text_query": query}

    # -- plumbing -------------------------------------------------------------------------

    def _text_query(self, text: str) -> str | None:
        words = fold_words(text)
        if not words:
            return None
        if self.backend == "postgresql":
            return " & ".join(f"{word}:*" for word in words)
        return " ".join(f'"{word}"*' for word in words)

    def _append_items(
        self, rows: Sequence[tuple[InboxItem, list[dict[str, Any]], Sequence[NewTimer]]]
    ) -> None:
        super()._append_items(rows)
        self._index_items(
            [
                (item.id, item.subject, item.text, item.answer, item.version == 1)
                for item, *_ in rows
            ]
        )

    def _index_items(self, items: Sequence[tuple[str, str, str, str | None, bool]]) -> None:
        """(Re)write the index rows of items (id, subject, text, answer, new), one statement
        per kind of write for all of them."""
        folded = [
            {
                "id": item_id,
                "subject": _folded_text(subject),
                "text": _folded_text(text),
                "answer": _folded_text(answer or ""),
            }
            for item_id, subject, text, answer, _new in items
        ]
        if self.backend == "postgresql":
            self._executemany(_POSTGRES_UPSERT, folded)
            return
        self._executemany(_SQLITE_DELETE, [{"id": item[0]} for item in items if not item[4]])
        self._executemany(_SQLITE_INSERT, folded)

    def _after_migration(self, version: int) -> None:
        """Inside the migration's transaction: index the items stored before the index."""
        super()._after_migration(version)
        if version != SEARCH_MIGRATION:
            return
        rows = self._execute(_ALL_TEXTS).fetchall()
        self._index_items(
            [(item_id, subject, text, answer, True) for item_id, subject, text, answer in rows]
        )
