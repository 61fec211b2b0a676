"""The event log is append-only in the database itself (migration 0003), and on PostgreSQL
each officer acts through a login of their own with only an officer's rights
(`crisiscomm db grant`): the server refuses them any change to the record, and records
what they do under the login it authenticated (issue 15)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.store import Store, open_store
from crisiscomm.store.dialect import PostgresDialect, SQLiteDialect
from crisiscomm.store.store import MIGRATIONS_DIR, Migration, migrations
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    PG_URL_ENV,
    disarm_event_guard,
    note,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)
from tests.test_office import OFFICE, without_team

from .conftest import FIXTURES

ID = "INC-2026-0001"
REFUSED = "the event log is append-only: {verb} of events is refused"


def refused(target: str, statement: str) -> str:
    """The server's message refusing the statement (it must refuse it)."""
    if target.startswith("postgresql://"):
        import psycopg

        with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
            sql(target, statement)
        return str(caught.value).splitlines()[0]
    with pytest.raises(sqlite3.IntegrityError) as raised:
        sql(target, statement)
    return str(raised.value)


@pytest.fixture
def two_events(store: Store) -> Store:
    note(store, open_incident(store), "Нукус")
    return store


@pytest.mark.parametrize(
    ("statement", "verb"),
    [
        (f"UPDATE events SET data = '{{}}' WHERE incident_id = '{ID}' AND seq = 2", "UPDATE"),
        (f"UPDATE events SET seq = seq + 10 WHERE incident_id = '{ID}'", "UPDATE"),
        (f"DELETE FROM events WHERE incident_id = '{ID}' AND seq = 2", "DELETE"),
        ("DELETE FROM events", "DELETE"),
    ],
)
def test_a_plain_update_or_delete_of_events_is_refused(
    two_events: Store, target: str, statement: str, verb: str
) -> None:
    assert refused(target, statement) == REFUSED.format(verb=verb)
    assert [e.seq for e in two_events.events(ID)] == [1, 2]
    assert two_events.verify_chain() == []


def test_truncate_of_events_is_refused_on_postgresql(two_events: Store, target: str) -> None:
    if not target.startswith("postgresql://"):
        pytest.skip("SQLite has no TRUNCATE (a DELETE without WHERE is refused above)")
    assert refused(target, "TRUNCATE events CASCADE") == REFUSED.format(verb="TRUNCATE")
    assert len(two_events.events(ID)) == 2


def test_crisiscomm_itself_still_appends(two_events: Store) -> None:
    incident = two_events.get_incident(ID)
    note(two_events, incident, "Қоңырат")
    assert [e.seq for e in two_events.events(ID)] == [1, 2, 3]
    assert two_events.verify_chain() == []


def test_an_older_database_gets_the_guard_when_upgraded(target: str) -> None:
    with open_store(target) as store:
        note(store, open_incident(store), "Нукус")
    disarm_event_guard(target)  # as it was before migration 0003
    if target.startswith("postgresql://"):
        sql(target, "DROP FUNCTION crisiscomm_events_append_only() CASCADE")
        # as the outbox was before migration 0006 (its items' rows)
        sql(target, "ALTER TABLE outbox DROP COLUMN item_id")
        sql(target, "ALTER TABLE outbox ALTER COLUMN incident_id SET NOT NULL")
    for table in (
        "inbox_search",
        "inbox_timers",
        "inbox_events",
        "inbox_people",
        "inbox_links",
        "inbox_items",
    ):
        sql(target, f"DROP TABLE {table}")  # made by the migrations after 0003
    sql(target, "DROP INDEX outbox_status")  # made by migration 0007
    sql(target, "DELETE FROM schema_version WHERE version >= 3")
    with open_store(target) as store:
        assert store.schema_version == migrations()[-1].version
    assert refused(target, "DELETE FROM events") == REFUSED.format(verb="DELETE")


def test_a_migration_keeps_bodies_whole_and_the_lines_of_its_own_database() -> None:
    migration = Migration(3, MIGRATIONS_DIR / "0003_append_only_events.sql")
    lite = migration.statements(SQLiteDialect(Path("x.db"), 1.0))
    assert [s.split(" BEFORE ")[0] for s in lite] == [
        "CREATE TRIGGER events_append_only_update",
        "CREATE TRIGGER events_append_only_delete",
    ]
    assert lite[0].endswith("SELECT RAISE(ABORT, '" + REFUSED.format(verb="UPDATE") + "'); END")
    postgres = migration.statements(PostgresDialect("postgresql://u@h/db", 1.0))
    assert len(postgres) == 2
    assert postgres[0].startswith("CREATE FUNCTION crisiscomm_events_append_only()")
    assert postgres[0].endswith("END\n$$")
    assert postgres[1].startswith("CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE")


# -- PostgreSQL: an officer's own login -------------------------------------------------------


@pytest.fixture(scope="module")
def officer_db(pg_admin: Any) -> Iterator[tuple[str, str, str]]:
    """A database of its own (made by the admin, who owns its tables), and a real login
    granted an officer's rights with `crisiscomm db grant`: (admin URL, officer URL, login)."""
    name = f"office_{uuid.uuid4().hex[:12]}"
    login = f"cc_officer_{uuid.uuid4().hex[:8]}"
    pg_admin.execute(f"CREATE DATABASE {name}")
    pg_admin.execute(f"CREATE ROLE {login} LOGIN")
    server = os.environ[PG_URL_ENV].rsplit("/", 1)[0]
    admin_url = f"{server}/{name}"
    officer_url = f"{server.replace('postgres@', f'{login}@')}/{name}"
    try:
        for _ in range(2):  # running it again changes nothing
            assert main(["db", "grant", login, "--db", admin_url]) == 0
        yield admin_url, officer_url, login
    finally:
        pg_admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        pg_admin.execute(f"DROP ROLE {login}")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            f"UPDATE events SET actor = 'x' WHERE incident_id = '{ID}'",
            "permission denied for table events",
        ),
        ("DELETE FROM events", "permission denied for table events"),
        ("TRUNCATE events", "permission denied for table events"),
        ("ALTER TABLE events DISABLE TRIGGER USER", "must be owner of table events"),
        ("ALTER TABLE events DISABLE TRIGGER events_append_only", "must be owner of table events"),
        ("DROP TRIGGER events_append_only ON events", "must be owner of relation events"),
        (
            "DROP FUNCTION crisiscomm_events_append_only() CASCADE",
            "must be owner of function crisiscomm_events_append_only",
        ),
        ("DROP TABLE events", "must be owner of table events"),
        ("UPDATE schema_version SET version = 3", "permission denied for table schema_version"),
        ("ALTER TABLE events RENAME TO old_events", "must be owner of table events"),
    ],
)
def test_an_officer_login_cannot_change_the_event_log(
    officer_db: tuple[str, str, str], statement: str, message: str
) -> None:
    import psycopg

    _admin, officer, _login = officer_db
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refusal:
        sql(officer, statement)
    assert str(refusal.value).splitlines()[0] == message


def test_an_officer_login_runs_commands_recorded_under_the_login(
    officer_db: tuple[str, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _admin, officer, login = officer_db
    (tmp_path / "playbooks").mkdir()
    office = OFFICE.format(acting_for="refused").replace(
        "logins: [aziz, akarimov]", f"logins: [aziz, akarimov, {login}]"
    )
    (tmp_path / "office.yaml").write_text(office, encoding="utf-8")
    press = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    book = tmp_path / "playbooks" / "press.yaml"
    book.write_text(without_team(press), encoding="utf-8")
    monkeypatch.setattr("crisiscomm.store.store.account_name", lambda: "dilnoza")  # not asked
    monkeypatch.delenv("CRISISCOMM_ACTOR", raising=False)

    opened = ["open-incident", str(book), "--title", "T", "--fact", "region=Nukus"]
    assert main([*opened, "--db", officer]) == 0
    incident_id = capsys.readouterr().out.split()[0].rstrip(":")
    assert main(["note", incident_id, "Hokimiyat confirms shelters", "--db", officer]) == 0
    assert main(["audit", "verify", "--db", officer]) == 0
    capsys.readouterr()
    with open_store(officer) as store:
        assert store.identity() == login
        assert [(e.type, e.actor) for e in store.events(incident_id)] == [
            ("opened", "aziz"),
            ("note", "aziz"),
        ]


def test_db_grant_refuses_what_would_not_protect_the_log(
    officer_db: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, _officer, _login = officer_db
    assert main(["db", "grant", "postgres", "--db", admin]) == 2
    assert "`postgres` is a superuser or owns crisiscomm's tables" in capsys.readouterr().err
    assert main(["db", "grant", "nobody_at_all", "--db", admin]) == 2
    err = capsys.readouterr().err
    assert "there is no PostgreSQL login `nobody_at_all`" in err
    assert "CREATE ROLE \"nobody_at_all\" LOGIN PASSWORD '...'" in err
    assert main(["db", "grant", "aziz", "--db", str(tmp_path / "office.db")]) == 2
    assert "`db grant` is for a PostgreSQL database" in capsys.readouterr().err
