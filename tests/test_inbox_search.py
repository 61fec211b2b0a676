"""`crisiscomm inbox search`: the full-text index on both databases, in all four languages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.errors import UsageError
from crisiscomm.inbox.register import Register, compiled_register
from crisiscomm.inbox.search import search
from crisiscomm.inbox.service import Entry, act, add, find
from crisiscomm.store import Store, open_store
from crisiscomm.store.search import fold_words
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2027, 3, 5, 5, 0, tzinfo=UTC)
ASKED = [
    ("kaa", "Qońırat rayonı", "Awılımızda ishimlik suw qashan boladı?"),
    ("uz", "Oʻgʻil bolalar maktabi", "Maktabda suv yoʻq, nima qilamiz?"),
    ("ru", "Наводнение в Нукусе", "Когда будет вода? Ёмкости пусты."),
    ("en", "Dam safety", "Is the Takhiatash dam safe after the flood?"),
]


@pytest.fixture(name="register")
def register_fixture() -> Register:
    return compiled_register(REPO / "inbox.yaml")


def ask(store: Store, register: Register) -> list[str]:
    entries = [
        Entry(
            kind="question",
            received_at=T0,
            channel="telegram",
            source="@asker",
            language=language,
            subject=subject,
            text=text,
        )
        for language, subject, text in ASKED
    ]
    added = add(
        store=store, register=register, clock=SimulatedClock(T0), actor="a", entries=entries
    )
    return [item.id for item, _new in added]


def ids(store: Store, text: str) -> list[str]:
    return [item.id for item, _score in search(store=store, text=text)]


def test_words_are_folded_alike_in_every_language() -> None:
    assert fold_words("Qońırat") == fold_words("QONIRAT") == ["qonirat"]
    assert fold_words("oʻgʻil") == fold_words("o'g'il") == fold_words("o’g’il") == ["ogil"]
    assert fold_words("Ёмкости, вода!") == ["емкости", "вода"]
    assert fold_words("  ?! ") == []


def test_search_finds_in_four_languages_on_both_databases(store: Store, register: Register) -> None:
    kaa, uz, ru, en = ask(store, register)
    assert ids(store, "Qonirat") == [kaa]  # without Karakalpak letters
    assert ids(store, "QOŃIRAT rayoni") == [kaa]
    assert ids(store, "ishimlik suw") == [kaa]
    assert ids(store, "ogil") == ids(store, "o'g'il") == [uz]
    assert ids(store, "наводнение") == [ru]
    assert ids(store, "емкости") == [ru]  # ё typed as е
    assert ids(store, "вод") == [ru]  # a word finds the words it begins
    assert ids(store, "dam flood") == [en]
    assert ids(store, "dam Qonirat") == []  # every word must be there
    assert set(ids(store, "suv")) == {uz}


def test_the_best_match_comes_first_and_answers_are_indexed(
    store: Store, register: Register
) -> None:
    kaa, _uz, ru, en = ask(store, register)
    act(
        store=store,
        register=register,
        clock=SimulatedClock(T0),
        actor="a",
        item_id=ru,
        trigger="answer",
        answer="Вода будет в Qońırat завтра.",
    )
    assert ids(store, "завтра") == [ru]  # the answer, indexed in the same commit
    found = ids(store, "qonirat")
    assert found[0] == kaa and set(found) == {kaa, ru}  # the subject weighs most
    scores = [score for _item, score in search(store=store, text="qonirat")]
    assert scores == sorted(scores, reverse=True)
    assert [i.id for i in find(store=store, register=register, now=T0, contains="dam")] == [en]


def test_a_query_without_words_is_a_usage_error(store: Store, register: Register) -> None:
    ask(store, register)
    with pytest.raises(UsageError, match="has no word to search for"):
        search(store=store, text=" ?! ")
    with pytest.raises(UsageError, match="has no word to search for"):
        find(store=store, register=register, now=T0, contains="--")


def test_items_stored_before_the_index_are_indexed_by_the_migration(
    tmp_path: Path, register: Register
) -> None:
    db = tmp_path / "old.db"
    with open_store(db) as store:
        [kaa, *_rest] = ask(store, register)
    # as a database of schema 4 was: no index, no later migrations
    sql(str(db), "DROP TABLE inbox_search")
    sql(str(db), "DELETE FROM schema_version WHERE version >= 5")
    sql(str(db), "DROP TABLE IF EXISTS outbox_new")
    with open_store(db) as store:
        assert ids(store, "qonirat") == [kaa]
