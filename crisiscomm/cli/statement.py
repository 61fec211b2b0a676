"""Statement commands: statement draft/edit/show/withdraw/correct, approve, release."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from crisiscomm.cli.common import (
    actor_option,
    db_option,
    echo_json,
    json_option,
    note_stranger,
    open_db,
)

key_option = click.option(
    "--key",
    "key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Your Ed25519 private key, where the office requires signatures "
    "(default: CRISISCOMM_KEY, else ~/.ssh/id_ed25519).",
)


def signing_key(key: Path | None) -> Callable[[], tuple[bytes, str | None]]:
    """Where the signing key comes from: read (and its passphrase asked: from
    CRISISCOMM_KEY_PASSPHRASE, else a prompt) only when the office requires a signature."""

    def read() -> tuple[bytes, str | None]:
        from crisiscomm.engine.signatures import needs_passphrase
        from crisiscomm.errors import SignatureError
        from crisiscomm.i18n import _

        where = key or Path(os.environ.get("CRISISCOMM_KEY") or Path.home() / ".ssh" / "id_ed25519")
        try:
            private_key = where.read_bytes()
        except OSError as error:
            raise SignatureError(
                _(
                    "the office requires signed clearance, and your key {path} cannot be read: "
                    "{reason}"
                ).format(path=where, reason=error.strerror or error),
                hint=_(
                    "give your Ed25519 private key with --key FILE or CRISISCOMM_KEY; make one "
                    "with `ssh-keygen -t ed25519` and have its .pub line added to your `keys:` "
                    "in office.yaml"
                ),
            ) from None
        if not needs_passphrase(private_key):
            return private_key, None
        passphrase = os.environ.get("CRISISCOMM_KEY_PASSPHRASE")
        if passphrase is None:
            passphrase = click.prompt(
                _("Passphrase for {path}").format(path=where),
                hide_input=True,
                default="",
                show_default=False,
                err=True,
            )
        return private_key, passphrase

    return read


@click.group()
def statement() -> None:
    """Draft, edit and show public statements of an incident.

    \b
    Example:
      crisiscomm statement draft INC-2026-0042 holding
    """


@statement.command()
@click.argument("incident_id", metavar="ID")
@click.argument("kind", metavar="STATEMENT")
@actor_option
@db_option
def draft(incident_id: str, kind: str, actor: str | None, db: str | None) -> int:
    """Render a statement's template in every required language as a new version.

    STATEMENT is the statement's id or its kind (holding, full, update, rebuttal, closing).
    A placeholder without a value is an error naming it, never a blank.

    \b
    Example:
      crisiscomm statement draft INC-2026-0042 holding
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.draft_statement(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            statement=kind,
            actor=who,
        )
        _print_statement(store, incident_id, kind, None, False)
        note_stranger(store, incident, who)
    return 0


@statement.command()
@click.argument("incident_id", metavar="ID")
@click.argument("name", metavar="STATEMENT")
@click.option(
    "--lang", "language", required=True, help="Language code of the text (kaa, uz, ru, en ...)."
)
@click.option(
    "--file",
    "file",
    required=True,
    type=click.Path(path_type=Path),
    help="UTF-8 text file; - for stdin.",
)
@actor_option
@db_option
def edit(
    incident_id: str, name: str, language: str, file: Path, actor: str | None, db: str | None
) -> int:
    """Store a new version with one language's text replaced (voids earlier approvals).

    \b
    Example:
      crisiscomm statement edit INC-2026-0042 holding --lang ru --file holding-ru.txt
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.edit_statement(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            statement=name,
            language=language,
            file=file,
            actor=who,
        )
        _print_statement(store, incident_id, name, None, False)
        note_stranger(store, incident, who)
    return 0


@statement.command()
@click.argument("incident_id", metavar="ID")
@click.argument("name", metavar="STATEMENT")
@click.option("--version", "version", type=int, help="Show this version (default: the newest).")
@db_option
@json_option
def show(incident_id: str, name: str, version: int | None, db: str | None, as_json: bool) -> int:
    """Show a statement: its text in every language and where its clearance stands.

    \b
    Example:
      crisiscomm statement show INC-2026-0042 holding
    """
    with open_db(db) as store:
        _print_statement(store, incident_id, name, version, as_json)
    return 0


@statement.command()
@click.argument("incident_id", metavar="ID")
@click.argument("name", metavar="STATEMENT")
@click.option(
    "--reason", metavar="TEXT", help="Why it is withdrawn: the public reads it on the page."
)
@actor_option
@key_option
@db_option
def withdraw(
    incident_id: str,
    name: str,
    reason: str | None,
    actor: str | None,
    key: Path | None,
    db: str | None,
) -> int:
    """Withdraw a released statement: two people, one proposes and another confirms.

    A member of the first role of its clearance chain (head of press) proposes it with
    --reason; another person of the clearance chain (or who may release it) confirms with
    the same command. The public page then shows "Withdrawn at TIME: reason" with the text
    struck through; CAP gets a Cancel; the statement's channels are told. Where the office
    requires signatures, each of the two signs with their key (--key).

    \b
    Example:
      crisiscomm statement withdraw INC-2026-0042 holding --reason "The figures were wrong"
      crisiscomm statement withdraw INC-2026-0042 holding --as "Rustam Aliev"
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service, statements
    from crisiscomm.i18n import _

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.withdraw_statement(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            statement=name,
            reason=reason,
            actor=who,
            signing_key=signing_key(key),
        )
        note_stranger(store, incident, who)
        sid = statements.resolve_statement(
            service.pinned_playbook(store, incident.playbook_hash), name
        )
    if incident.data["statements"][sid].get("withdrawal"):
        click.echo(
            _(
                "{id}: withdrawal of `{name}` proposed by {who}; it takes effect when another "
                "person of its clearance chain confirms it: {command}"
            ).format(
                id=incident.id,
                name=name,
                who=who,
                command=f"crisiscomm statement withdraw {incident.id} {name} --as NAME",
            )
        )
    else:
        click.echo(
            _(
                "{id}: `{name}` withdrawn; publish the site again and let `serve` (or `tick`) "
                "tell its channels"
            ).format(id=incident.id, name=name)
        )
    return 0


@statement.command()
@click.argument("incident_id", metavar="ID")
@click.argument("name", metavar="STATEMENT")
@click.option(
    "--correction-note",
    "note",
    required=True,
    metavar="TEXT",
    help="What the correction changes: the public reads it on the page.",
)
@actor_option
@db_option
def correct(incident_id: str, name: str, note: str, actor: str | None, db: str | None) -> int:
    """Mark the newest version of a released statement as its correction, before clearance.

    Draft or edit the corrected text first, mark it, then clear and release it as usual.
    The public page shows "Corrected at TIME: note" and keeps the earlier text, marked as
    superseded; CAP gets an Update.

    \b
    Example:
      crisiscomm statement correct INC-2026-0042 holding --correction-note "120, not 210"
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service
    from crisiscomm.i18n import _

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.mark_correction(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            statement=name,
            note=note,
            actor=who,
        )
        note_stranger(store, incident, who)
    click.echo(
        _(
            "{id}: the newest version of `{name}` is marked as a correction; clear and release "
            "it: {command}"
        ).format(id=incident.id, name=name, command=f"crisiscomm approve {incident.id} {name}")
    )
    return 0


def _print_statement(
    store: object, incident_id: str, name: str, number: int | None, as_json: bool
) -> None:
    from crisiscomm.clock import parse_utc
    from crisiscomm.engine import service, statements
    from crisiscomm.engine.timefmt import local_text, times_header
    from crisiscomm.errors import RefusedError
    from crisiscomm.i18n import _

    playbook, incident = service.load(store=store, incident_id=incident_id)  # type: ignore[arg-type]
    sid = statements.resolve_statement(playbook, name)
    record = incident.data.get("statements", {}).get(sid) or {
        "versions": [],
        "approvals": [],
        "released": [],
    }
    if not record["versions"]:
        raise RefusedError(
            _("statement `{s}` has no draft yet").format(s=sid),
            hint=f"crisiscomm statement draft {incident.id} {sid}",
        )
    chosen = (
        record["versions"][-1]
        if number is None
        else next((v for v in record["versions"] if v["version"] == number), None)
    )
    if chosen is None:
        raise RefusedError(
            _("statement `{s}` has no version {n}").format(s=sid, n=number),
            hint=_("versions: 1 to {n}").format(n=len(record["versions"])),
        )
    approvals = [a for a in record["approvals"] if a["hash"] == chosen["hash"]]
    chain = playbook.statements[sid].get("clearance") or []
    released = [r for r in record["released"] if r["hash"] == chosen["hash"]]
    withdrawn = [w for w in record.get("withdrawn") or [] if w["hash"] == chosen["hash"]]
    proposal = record.get("withdrawal")
    proposed = [proposal] if proposal and proposal["hash"] == chosen["hash"] else []
    if as_json:
        echo_json(
            {
                "incident": incident.id,
                "statement": sid,
                **chosen,
                "approvals": approvals,
                "clearance": chain,
                "released": released,
                "withdrawn": withdrawn,
                "withdrawal_proposed": proposed,
            }
        )
        return
    click.echo(
        _("{id} statement `{s}` version {v} of {n}, by {author}").format(
            id=incident.id,
            s=sid,
            v=chosen["version"],
            n=len(record["versions"]),
            author=chosen["author"],
        )
    )

    def local(at: str) -> str:
        return local_text(parse_utc(at), playbook.timezone)

    moments = [parse_utc(str(act["at"])) for act in [*approvals, *released]]
    if moments:
        click.echo("  " + times_header(playbook.timezone, moments))
    for role in chain:
        given = next((a for a in approvals if a["role"] == role), None)
        state = (
            _("approved by {who} at {at}").format(who=given["actor"], at=local(given["at"]))
            if given
            else _("waiting")
        )
        click.echo("  " + _("clearance {role}: {state}").format(role=role, state=state))
    click.echo(
        "  "
        + (
            _("released at {at}").format(at=local(released[0]["at"]))
            if released
            else _("not released")
        )
    )
    if chosen.get("correction"):
        click.echo(
            "  "
            + _("correction of version {v}: {note}").format(
                v=chosen["correction"]["corrects"], note=chosen["correction"]["note"]
            )
        )
    for act in proposed:
        click.echo(
            "  "
            + _(
                "withdrawal proposed by {who} at {at}: {reason}; waiting for a second person"
            ).format(who=act["actor"], at=local(act["at"]), reason=act["reason"])
        )
    for act in withdrawn:
        click.echo(
            "  "
            + _("withdrawn at {at} by {who} (proposed by {proposer}): {reason}").format(
                at=local(act["at"]),
                who=act["actor"],
                proposer=act["proposed_by"],
                reason=act["reason"],
            )
        )
    for language in playbook.languages:
        click.echo(f"\n[{language}]\n{chosen['texts'].get(language, '')}")


@click.command()
@click.argument("incident_id", metavar="ID")
@click.argument("name", metavar="STATEMENT_OR_TRIGGER")
@actor_option
@key_option
@db_option
def approve(
    incident_id: str, name: str, actor: str | None, key: Path | None, db: str | None
) -> int:
    """Approve the newest version of a statement (next in its clearance chain), or a trigger.

    The author of a statement may not approve it; an edit after approval voids it. Where
    the office requires signatures, the approval is signed with your key (--key).

    \b
    Example:
      crisiscomm approve INC-2026-0042 holding --as "Dilnoza Yusupova"
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service
    from crisiscomm.i18n import _

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.approve(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            name=name,
            actor=who,
            signing_key=signing_key(key),
        )
        note_stranger(store, incident, who)
    click.echo(_("{id}: `{name}` approved by {who}").format(id=incident.id, name=name, who=who))
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@click.argument("name", metavar="STATEMENT")
@actor_option
@key_option
@db_option
def release(
    incident_id: str, name: str, actor: str | None, key: Path | None, db: str | None
) -> int:
    """Release a fully cleared statement through its channels.

    Where the office requires signatures, the release is signed with your key (--key).

    \b
    Example:
      crisiscomm release INC-2026-0042 holding
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service
    from crisiscomm.i18n import _

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.release_statement(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            statement=name,
            actor=who,
            signing_key=signing_key(key),
        )
        note_stranger(store, incident, who)
    click.echo(
        _(
            "{id}: `{name}` released; its notifications wait in the outbox until `serve` (or "
            "`tick`) sends them: `crisiscomm outbox` shows them"
        ).format(id=incident.id, name=name)
    )
    return 0
