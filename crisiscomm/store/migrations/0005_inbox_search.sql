-- 0005: full-text search over the register (`crisiscomm inbox search`, `inbox list --text`).
-- The index holds each item's subject, text and answer as folded words (crisiscomm/store/
-- search.py: lower case, no diacritics, Karakalpak ı as i, Uzbek oʻ gʻ without their
-- apostrophe), so `Qonirat` finds `Qońırat` and `ogil` finds `oʻgʻil` alike on both
-- databases. It is written in the transaction that writes the item; items stored before
-- this migration are indexed as it is applied (Store.migrate, `_after_migration`).

-- only sqlite
-- an FTS5 table whose rowid is the item's rowid in inbox_items
CREATE VIRTUAL TABLE inbox_search USING fts5 (
    subject, text, answer, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
-- end only

-- only postgresql
CREATE TABLE inbox_search (
    item_id   TEXT PRIMARY KEY REFERENCES inbox_items (id),
    document  tsvector NOT NULL
);
CREATE INDEX inbox_search_document ON inbox_search USING GIN (document);
-- end only
