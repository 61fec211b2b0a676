"""`crisiscomm db grant LOGIN`: give an officer's own PostgreSQL login an officer's rights."""

from __future__ import annotations

import click

from crisiscomm.cli.common import db_option
from crisiscomm.i18n import _

# the login and what it is: missing (no row), a superuser, a member of the tables' owner
LOGIN_FACTS = """
    SELECT rolsuper, pg_has_role(rolname, (
        SELECT tableowner FROM pg_tables
        WHERE schemaname = current_schema() AND tablename = 'events'
    ), 'MEMBER')
    FROM pg_roles WHERE rolname = :login
"""


@click.group()
def db() -> None:
    """Set up the office's PostgreSQL database: each officer acts through their own login.

    \b
    Example:
      crisiscomm db grant asultanova --db postgresql://postgres@db.office.uz/crisiscomm
    """


@db.command()
@click.argument("login")
@db_option
def grant(login: str, db: str | None) -> int:
    """Give a PostgreSQL login an officer's rights on crisiscomm's tables.

    Run it as the owner of the tables (the login that created them), once per officer;
    create each officer's login first (CREATE ROLE asultanova LOGIN PASSWORD '...'). The
    login becomes a member of the group role crisiscomm_officer, which may read the
    tables and run every command, but may not change or delete events, nor drop or
    disable the triggers that keep the event log append-only. The database is brought up
    to date first; after upgrading crisiscomm, run it again. What the officer does is
    recorded under the login (session_user): put it in the person's `logins` in
    office.yaml.

    \b
    Example:
      crisiscomm db grant asultanova --db postgresql://postgres@db.office.uz/crisiscomm
    """
    from crisiscomm.errors import UsageError
    from crisiscomm.store import open_store
    from crisiscomm.store.dialect import POSTGRES_SCHEMES
    from crisiscomm.store.store import MIGRATIONS_DIR, Migration

    if not db or not db.startswith(POSTGRES_SCHEMES):
        raise UsageError(
            _("`db grant` is for a PostgreSQL database; give its URL with --db"),
            hint=_(
                "an SQLite file has no logins: each officer uses their own operating-system "
                "account, and the file's permissions decide who may write it"
            ),
        )
    role_sql = Migration(0, MIGRATIONS_DIR.parent / "officer_role.sql")
    quoted = '"' + login.replace('"', '""') + '"'
    with open_store(db, create=False) as store:
        with store._transaction():
            facts = store._fetchone_or_none(LOGIN_FACTS, login=login)
            if facts is None:
                raise UsageError(
                    _("there is no PostgreSQL login `{login}`").format(login=login),
                    hint=_(
                        "create it first, e.g. in psql: CREATE ROLE {login} LOGIN PASSWORD "
                        "'...'; (or: createuser --pwprompt {login})"
                    ).format(login=quoted),
                )
            if facts[0] or facts[1]:
                raise UsageError(
                    _(
                        "`{login}` is a superuser or owns crisiscomm's tables: it could "
                        "change the event log whatever it is granted"
                    ).format(login=login),
                    hint=_("give each officer a login of their own, without those rights"),
                )
            for statement in role_sql.statements(store._dialect):
                # straight to the driver: a login may hold % or : (no parameters here)
                store._conn.execute(statement.replace("{login}", quoted))
        where = store.where
    click.echo(
        _("{login} now has an officer's rights on {where} (role crisiscomm_officer)").format(
            login=login, where=where
        )
    )
    return 0
