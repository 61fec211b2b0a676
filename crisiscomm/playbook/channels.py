"""What a channel definition in a playbook may say, checked as written.

No environment, no network: lint reports these at file:line, and `serve` repeats them at
start-up beside what only the machine can tell (variables set, a `ca_file` readable; see
`notify/check.py`). The settings' vocabularies the channels themselves use live here too,
so the playbook layer needs nothing from notify/.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from crisiscomm.i18n import _

__all__ = [
    "CHANNEL_TYPES",
    "DEFAULT_PORTS",
    "HEADER_NAME",
    "MAX_TIMEOUT",
    "OWN_HEADERS",
    "REFERENCE",
    "SECURITY",
    "SIGNATURE_HEADER",
    "TELEGRAM_API",
    "TELEGRAM_CHAT",
    "check_channel",
    "smtp_problems",
    "telegram_problems",
    "timeout_too_long",
]

CHANNEL_TYPES = ("console", "file", "smtp", "webhook", "telegram", "site")
# `${NAME}`: a setting read from the environment at delivery
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SIGNATURE_HEADER = "X-Crisiscomm-Signature"
# headers crisiscomm sets itself; a channel's `headers` may not replace them
OWN_HEADERS = frozenset({"content-type", "idempotency-key", SIGNATURE_HEADER.lower()})
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
TELEGRAM_API = "https://api.telegram.org"
# a public channel's or group's @name (5-32 letters, digits, _), or a numeric chat id
TELEGRAM_CHAT = re.compile(r"^(?:@[A-Za-z][A-Za-z0-9_]{4,31}|-?\d{1,20})$")
# The longest `timeout` a channel may have: it bounds one whole send, and a send must end
# within half the outbox lease (notify/settings.py, 60 s), or another deliverer may take the
# row over and send it a second time.
MAX_TIMEOUT = timedelta(seconds=30)


def check_channel(definition: Mapping[str, Any]) -> list[str]:
    """What is wrong with one channel definition as written (no environment needed).

    Checks what the schema cannot: SMTP security against port (`ssl` on 587, `starttls` on
    465), a password without encryption or without a user, a host written as a URL, a
    webhook URL that is not http(s) or carries a password, headers that cannot be sent or
    that crisiscomm sets itself, a timeout that is not a duration or is longer than
    MAX_TIMEOUT, a file path that is a folder, a `ca_file` where no TLS is spoken. Settings
    given as `${ENV_VAR}` are checked once resolved, at delivery.
    """
    kind = definition.get("type")
    if kind not in CHANNEL_TYPES:
        return [_("unknown channel type `{type}`").format(type=kind)]
    problems = _timeout_problems(definition)
    if kind == "console":
        stream = definition.get("stream", "stdout")
        if stream not in ("stdout", "stderr"):
            problems.append(_("stream `{s}` is neither stdout nor stderr").format(s=stream))
    elif kind == "file":
        path = str(definition.get("path") or "")
        if not path.strip():
            problems.append(_("`path` is empty"))
        elif path.endswith(("/", "\\")) and not _is_reference(path):
            problems.append(_("`path` {path} names a folder, not a file").format(path=path))
    elif kind == "smtp":
        problems += smtp_problems(definition)
    elif kind == "telegram":
        problems += telegram_problems(definition)
    elif kind == "site":
        if not str(definition.get("path") or "").strip():
            problems.append(_("`path` is empty"))
        url = str(definition.get("url") or "")
        if url and urlsplit(url).scheme not in ("http", "https"):
            problems.append(_("the URL is not an http:// or https:// address"))
    else:
        problems += _webhook_problems(definition)
    return problems


def _is_reference(text: object) -> bool:
    return isinstance(text, str) and REFERENCE.search(text) is not None


def _timeout_problems(definition: Mapping[str, Any]) -> list[str]:
    from crisiscomm.durations import parse_duration

    timeout = definition.get("timeout")
    if timeout is None:
        return []
    try:
        parse_duration(str(timeout))
    except ValueError as error:
        return [_("timeout: {error}").format(error=error)]
    return [problem for problem in [timeout_too_long(timeout)] if problem is not None]


def timeout_too_long(timeout: object) -> str | None:
    """Why a channel's `timeout` is too long (over MAX_TIMEOUT), or None; None too for what
    is not a duration (that is another problem)."""
    from crisiscomm.durations import format_duration, parse_duration

    try:
        seconds = parse_duration(str(timeout))
    except ValueError:
        return None
    if seconds <= MAX_TIMEOUT:
        return None
    return _(
        "timeout {timeout} is too long: a send must end within {most} (half the outbox "
        "lease), or another `crisiscomm serve` may take the notification over and send it twice"
    ).format(timeout=format_duration(seconds), most=format_duration(MAX_TIMEOUT))


def smtp_problems(definition: Mapping[str, Any]) -> list[str]:
    """What is wrong with an smtp channel's settings as written (also used by lint)."""
    problems = []
    security = definition.get("security", "starttls")
    port = definition.get("port")
    host = str(definition.get("host") or "")
    if security not in SECURITY:
        problems.append(
            _("security `{s}` is not one of: {known}").format(s=security, known=", ".join(SECURITY))
        )
    elif isinstance(port, int):
        if security == "ssl" and port in (25, 587):
            problems.append(
                _(
                    "security `ssl` on port {port}: that port starts in plain text; use "
                    "`security: starttls`, or port {ssl_port} for ssl"
                ).format(port=port, ssl_port=DEFAULT_PORTS["ssl"])
            )
        if security in ("starttls", "none") and port == DEFAULT_PORTS["ssl"]:
            problems.append(
                _(
                    "security `{s}` on port {port}: that port expects TLS from the start; "
                    "use `security: ssl`"
                ).format(s=security, port=port)
            )
    if not host.strip():
        problems.append(_("`host` is empty"))
    elif not _is_reference(host) and ("://" in host or "/" in host or " " in host):
        problems.append(
            _("host `{host}` should be a server name such as smtp.example.uz").format(host=host)
        )
    elif not _is_reference(host) and host.count(":") == 1:
        problems.append(_("write the port as `port:`, not in `host`"))
    username, password = definition.get("username"), definition.get("password")
    if password and not username:
        problems.append(_("`password` is given without `username`"))
    if username and not password:
        problems.append(_("`username` is given without `password`"))
    if (username or password) and security == "none":
        problems.append(
            _("a login with `security: none` sends the password unencrypted; use starttls or ssl")
        )
    if definition.get("ca_file") and security == "none":
        problems.append(_("`ca_file` is used only with `security: starttls` or `ssl`"))
    return problems


def _webhook_problems(definition: Mapping[str, Any]) -> list[str]:
    problems = []
    url = str(definition.get("url") or "")
    if not REFERENCE.match(url):  # one that starts with `${...}` is checked at delivery
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            problems.append(_("the URL is not an http:// or https:// address"))
        elif not parts.hostname:
            problems.append(_("the URL has no host"))
        if parts.password:
            problems.append(_("the URL carries a password; use `secret` or a header instead"))
        if definition.get("ca_file") and parts.scheme == "http":
            problems.append(_("`ca_file` is used only for https:// addresses"))
    secret = definition.get("secret")
    if secret is not None and not (isinstance(secret, str) and REFERENCE.fullmatch(secret)):
        problems.append(_("`secret` must be a `${ENV_VAR}` reference"))
    headers = definition.get("headers") or {}
    for header, value in headers.items():
        if not HEADER_NAME.match(str(header)):
            problems.append(_("header name `{h}` is not one word").format(h=str(header)[:60]))
        elif str(header).lower() in OWN_HEADERS:
            problems.append(_("header `{h}` is set by crisiscomm").format(h=header))
        elif any(c in str(value) for c in "\r\n\0"):
            problems.append(_("header `{h}` spans more than one line").format(h=header))
    return problems


def telegram_problems(definition: Mapping[str, Any], *, token: bool = True) -> list[str]:
    """What is wrong with a telegram channel's settings as written (lint leaves out the
    `token` with `token=False`: its literal-secret rule reports that)."""
    problems = []
    value = definition.get("token")
    if token and not (isinstance(value, str) and REFERENCE.fullmatch(value)):
        problems.append(_("`token` must be a `${ENV_VAR}` reference, e.g. ${TELEGRAM_BOT_TOKEN}"))
    chat = definition.get("chat")
    if chat is not None and not _is_reference(chat) and not TELEGRAM_CHAT.match(str(chat)):
        problems.append(
            _("`chat` {chat} is neither a channel's @name nor a numeric chat id").format(
                chat=str(chat)[:60]
            )
        )
    api_url = definition.get("api_url")
    if isinstance(api_url, str) and not REFERENCE.match(api_url):
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(_("`api_url` is not an http:// or https:// address"))
        elif "/bot" in parts.path:
            problems.append(_("`api_url` is the API's address only; the token goes in `token`"))
        if definition.get("ca_file") and parts.scheme == "http":
            problems.append(_("`ca_file` is used only for https:// addresses"))
    return problems
