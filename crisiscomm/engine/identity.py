"""Who is acting: the person a command acts as, and who entered it.

The record names people by their office id. Where the incident's playbook has an office
(office.yaml), the actor is the authenticated identity, not a flag:

- on SQLite, the operating-system account running the command (its login looked up in
  the office's `logins`);
- on PostgreSQL, the database login (`session_user`): the server's word, not the client's.

`--as NAME` (or CRISISCOMM_ACTOR) names someone else only where the office allows acting
for others (a shared duty workstation, `settings: {acting_for: allowed}`); the record then
keeps both: who acted, and who entered it (`entered_by`). Elsewhere `--as` may only name
the person the identity already is. Names that match nobody are refused, never noted.

Without an office (playbooks with their own inline team), the name given is the actor,
as before. Library callers (drills, tests) pass a plain `str`: they name the actor.
"""

from __future__ import annotations

import os
import unicodedata
from typing import TYPE_CHECKING

from crisiscomm.engine.context import EXERCISE_CONTROL, SYSTEM_ACTOR
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store import Store

__all__ = ["Actor", "current_actor", "resolve_actor"]


class Actor(str):
    """A name from the command line; `named` says it was given (--as, CRISISCOMM_ACTOR)
    rather than read from the login."""

    named: bool = False

    @classmethod
    def of(cls, name: str, *, named: bool) -> Actor:
        actor = cls(name)
        actor.named = named
        return actor


def current_actor(explicit: str | None) -> str:
    """Who is acting: `--as`, else CRISISCOMM_ACTOR, else the login name; never the name
    the record gives crisiscomm's own acts (reminders, escalations, the drafts it makes)."""
    for candidate, source in ((explicit, "--as"), (os.environ.get("CRISISCOMM_ACTOR"), None)):
        if candidate and candidate.strip():
            name = _not_the_system(candidate.strip(), source or "CRISISCOMM_ACTOR")
            return Actor.of(name, named=True)
    from crisiscomm.store.store import account_name

    try:
        login = account_name()
    except (OSError, KeyError):  # no login name (some containers)
        raise UsageError(
            _("cannot tell who you are"), hint=_("give --as NAME or set CRISISCOMM_ACTOR")
        ) from None
    return Actor.of(_not_the_system(login, _("your login name")), named=False)


# Cyrillic and Greek letters that look like the Latin letters of the system's name
_LOOKALIKES = str.maketrans("сіѕомοιμ", "cisomoim")


def _not_the_system(name: str, source: str) -> str:
    """`name`, unless a reader would take it for the system's own name in the record."""

    def seen(text: str) -> str:  # what a reader sees: no case, spacing or invisible marks
        folded = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES)
        return "".join(char for char in folded if char.isalnum())

    if seen(name) == seen(SYSTEM_ACTOR):
        raise UsageError(
            _(
                "`{name}` ({source}) is the name the record gives crisiscomm's own acts "
                "(reminders, escalations, the drafts it makes); no person may act under it"
            ).format(name=name, source=source),
            hint=_("give your own name with --as NAME or CRISISCOMM_ACTOR"),
        )
    return name


def _person(playbook: Playbook, name: str, *, what: str) -> str:
    person = playbook.person_id(name)
    if person is None:
        raise RefusedError(
            _("{what} `{name}` is none of the people of the office {office}").format(
                what=what, name=name, office=playbook.office_id
            ),
            hint=_(
                "a person is named by their id, a login or alias in office.yaml, or their full "
                "name; people: {ids}"
            ).format(ids=", ".join(sorted(playbook.people)) or "-"),
        )
    return person


def resolve_actor(store: Store, playbook: Playbook, actor: str) -> tuple[str, str | None]:
    """The person id acting and, when someone else entered it, theirs (or their account)."""
    if not playbook.people:
        return actor, None  # no office: the name given is the actor
    if not isinstance(actor, Actor):
        if actor == EXERCISE_CONTROL:  # a drill's controller records its injects
            return actor, None
        return _person(playbook, actor, what=_("the actor")), None
    identity = store.identity()
    if not actor.named:
        what = _("the account") if store.backend == "sqlite" else _("the database login")
        return _person(playbook, identity, what=what), None
    named = _person(playbook, actor, what="--as")
    typist = playbook.person_id(identity)
    if typist == named:
        return named, None
    if not playbook.acting_for_allowed:
        raise RefusedError(
            _(
                "you are {who}: the office does not let anyone act for someone else, so "
                "--as may only name yourself"
            ).format(who=typist or identity),
            hint=_(
                "act under your own login; a shared duty workstation has `settings: "
                "{acting_for: allowed}` in office.yaml"
            ),
        )
    return named, typist or identity
