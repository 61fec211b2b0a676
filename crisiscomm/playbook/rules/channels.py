"""Channel rules: no literal secrets, settings each channel type can use, reachable people."""

from __future__ import annotations

import re
from typing import Any

from crisiscomm.documents.findings import Severity
from crisiscomm.i18n import _
from crisiscomm.playbook.rules.core import Linter, NodePath, rule

__all__ = ["channel_config", "literal_secret", "missing_email"]

SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api[_-]?key|authorization|credential|private[_-]?key)",
    re.IGNORECASE,
)
ENV_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
# `Authorization: Bearer ${TOKEN}`: a scheme word before the reference is fine
SECRET_VALUE_OK = re.compile(r"^(?:[A-Za-z-]+ +)?\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
URL_SECRET = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^/@\s]+:[^/@\s]+@"  # user:password@host
    r"|[?&][a-z_]*(?:token|key|secret|password|passwd|sig|signature)=(?!\$\{)[^&\s]+"
    r"|/bot\d+:[A-Za-z0-9_-]{20,}",  # a Telegram bot token in the path
    re.IGNORECASE,
)

CHANNEL_FIELDS: dict[str, frozenset[str]] = {
    "console": frozenset({"type", "description", "stream"}),
    "file": frozenset({"type", "description", "path"}),
    "smtp": frozenset(
        {"type", "description", "host", "port", "security", "username", "password", "sender", "to"}
        | {"timeout", "ca_file"}
    ),
    "webhook": frozenset({"type", "description", "url", "secret", "headers", "timeout", "ca_file"}),
    "site": frozenset({"type", "description", "path", "url"}),
    "telegram": frozenset(
        {"type", "description", "token", "chat", "api_url", "languages", "timeout", "ca_file"}
    ),
}
# a Telegram bot token anywhere in a text: `123456789:AA...` (the bot's id, then its key)
BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")


@rule(
    "literal-secret",
    severity=Severity.ERROR,
    summary="a password, token or secret is written in the file instead of `${ENV_VAR}`",
)
def literal_secret(linter: Linter) -> None:
    """A password, token or key written in a channel instead of `${ENV_VAR}`, or
    embedded in a URL.
    """

    def walk(node: Any, path: NodePath) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                child: NodePath = (*path, key)
                if (
                    isinstance(value, str)
                    and SECRET_KEY.search(key)
                    and value
                    and not SECRET_VALUE_OK.match(value)
                ):
                    linter.report(
                        "literal-secret",
                        child,
                        _("`{k}` holds a literal secret").format(k=key),
                        _("write `${ENV_VAR}` and set that variable where crisiscomm runs"),
                    )
                elif (
                    isinstance(value, str)
                    and key in ("url", "api_url")
                    and (URL_SECRET.search(value) or BOT_TOKEN.search(value))
                ):
                    linter.report(
                        "literal-secret",
                        child,
                        _("the URL contains a password or token"),
                        _("move it to `secret:` or a header written as `${ENV_VAR}`"),
                    )
                else:
                    walk(value, child)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(linter.channels, ("channels",))


@rule(
    "channel-config",
    severity=Severity.ERROR,
    summary="a channel has a setting its type does not use, or an unusable one",
)
def channel_config(linter: Linter) -> None:
    """A channel key its type does not take, a webhook `url` that is not http(s)://, a
    telegram channel whose `token` is not `${ENV_VAR}`, whose `chat` or `api_url` cannot be
    used, or that posts a statement without a `chat`,
    `ca_file` on an http:// address, smtp settings that cannot work, a `timeout` longer
    than a send may take (30s, half the outbox lease), an smtp `sender` without `@`, or a
    statement sent by an smtp channel that has no `to`.
    """
    for name, statement in linter.statements.items():
        for index, channel in enumerate(statement.get("channels") or []):
            definition = linter.channels.get(channel) or {}
            if definition.get("type") == "telegram" and not definition.get("chat"):
                linter.report(
                    "channel-config",
                    ("statements", name, "channels", index),
                    _(
                        "statement `{s}` goes out by Telegram channel `{c}`, which has no `chat`"
                    ).format(s=name, c=channel),
                    _('give the channel `chat: "@your_channel"`, the public channel to post to'),
                )
            if definition.get("type") == "smtp" and not definition.get("to"):
                linter.report(
                    "channel-config",
                    ("statements", name, "channels", index),
                    _("statement `{s}` goes out by e-mail channel `{c}`, which has no `to`").format(
                        s=name, c=channel
                    ),
                    _("give the channel `to: [press-list@example.uz, ...]`"),
                )
    for name, channel in linter.channels.items():
        kind = channel["type"]
        allowed = CHANNEL_FIELDS[kind]
        for key in channel:
            if key not in allowed:
                linter.report(
                    "channel-config",
                    ("channels", name, key),
                    _("`{k}` does not apply to a {t} channel").format(k=key, t=kind),
                    _("a {t} channel takes: {names}").format(
                        t=kind, names=", ".join(sorted(allowed))
                    ),
                    key=True,
                )
        url = channel.get("url")
        if (
            kind == "webhook"
            and isinstance(url, str)
            and not (url.startswith(("https://", "http://")) or ENV_REFERENCE.match(url))
        ):
            linter.report(
                "channel-config",
                ("channels", name, "url"),
                _("webhook URL `{u}` is not an http:// or https:// address").format(u=url),
                _("write the full address, e.g. https://chat.example.uz/hooks/press"),
            )
        if (
            kind == "webhook"
            and isinstance(url, str)
            and url.startswith("http://")
            and channel.get("ca_file")
        ):
            linter.report(
                "channel-config",
                ("channels", name, "ca_file"),
                _("`ca_file` is used only for https:// addresses"),
                _("use the receiver's https:// address, or remove `ca_file`"),
            )
        if kind == "telegram":
            from crisiscomm.playbook.channels import telegram_problems

            for problem in telegram_problems(channel, token=False):
                linter.report(
                    "channel-config",
                    ("channels", name),
                    _("channel `{c}`: {problem}").format(c=name, problem=problem),
                    key=True,
                )
            published = linter.document.get("languages") or []
            for index, code in enumerate(channel.get("languages") or []):
                if published and code not in published:
                    linter.report(
                        "channel-config",
                        ("channels", name, "languages", index),
                        _("channel `{c}` posts `{code}`, which the playbook does not write").format(
                            c=name, code=code
                        ),
                        _("the playbook's languages: {names}").format(names=", ".join(published)),
                    )
        if "timeout" in channel and kind in ("smtp", "webhook", "telegram"):
            from crisiscomm.durations import format_duration
            from crisiscomm.playbook.channels import MAX_TIMEOUT, timeout_too_long

            too_long = timeout_too_long(channel["timeout"])
            if too_long is not None:
                linter.report(
                    "channel-config",
                    ("channels", name, "timeout"),
                    _("channel `{c}`: {problem}").format(c=name, problem=too_long),
                    _("write `timeout: {most}` or less").format(most=format_duration(MAX_TIMEOUT)),
                )
        if kind == "smtp":
            # what can be checked of an e-mail server's settings without connecting
            from crisiscomm.playbook.channels import smtp_problems

            for problem in smtp_problems(channel):
                linter.report(
                    "channel-config",
                    ("channels", name),
                    _("channel `{c}`: {problem}").format(c=name, problem=problem),
                    key=True,
                )
        sender = channel.get("sender")
        if (
            kind == "smtp"
            and isinstance(sender, str)
            and "@" not in sender
            and not ENV_REFERENCE.match(sender)
        ):
            linter.report(
                "channel-config",
                ("channels", name, "sender"),
                _("sender `{s}` is not an e-mail address").format(s=sender),
                _("write e.g. press@example.uz"),
            )


@rule(
    "missing-email",
    severity=Severity.WARNING,
    summary="an e-mail notification would reach a person with no `email`",
)
def missing_email(linter: Linter) -> None:
    """An e-mail (smtp) notification to a role with a member or deputy who has no
    `email`: it would not reach them.
    """
    for name, state in linter.states.items():
        for path, notification in linter.notifications(("states", name), state):
            channels = notification.get("channels") or []
            if not any((linter.channels.get(c) or {}).get("type") == "smtp" for c in channels):
                continue
            for role in notification.get("notify") or []:
                definition = linter.roles.get(role) or {}
                people = [*(definition.get("members") or []), *(definition.get("deputies") or [])]
                for person in people:
                    if not isinstance(person, dict):
                        continue  # a person the office does not resolve: another finding
                    if not person.get("email"):
                        linter.report(
                            "missing-email",
                            (*path, "channels"),
                            _(
                                "{p} of role `{r}` has no `email`: the e-mail would not reach them"
                            ).format(p=person["name"], r=role),
                            _("add their `email`, or notify them by another channel too"),
                        )
