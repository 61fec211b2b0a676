"""Channel settings checked before anything is sent: a misconfigured channel fails at
start-up, not at 3 a.m. when the first escalation goes out.

`serve` calls `check_channels(playbook.channels)` for every playbook it may deliver for
and refuses to start (or warns) on what it returns. Problems name settings and variables,
never a variable's value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from crisiscomm.i18n import _
from crisiscomm.notify.env import REFERENCE, missing_variables, resolve

__all__ = ["check_channel", "check_channels", "smtp_problems"]

_TYPES = ("console", "file", "smtp", "webhook")


def check_channel(definition: Mapping[str, Any]) -> list[str]:
    """What is wrong with one channel definition as written (no environment needed).

    Checks what the schema cannot: SMTP security against port (`ssl` on 587, `starttls` on
    465), a password without encryption or without a user, a host written as a URL, a
    webhook URL that is not http(s) or carries a password, headers that cannot be sent or
    that crisiscomm sets itself, a timeout that is not a duration, a file path that is a
    folder, a `ca_file` where no TLS is spoken. Settings given as `${ENV_VAR}` are checked
    once resolved, at delivery.
    """
    kind = definition.get("type")
    if kind not in _TYPES:
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
    else:
        problems += _webhook_problems(definition)
    return problems


def check_channels(
    channels: Mapping[str, Mapping[str, Any]], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Every problem of a playbook's channels, each starting with the channel's name.

    Adds, for each `${ENV_VAR}` a channel names, whether it is set in `environ` (default:
    this process's environment); the variable is named, its value never shown. A `ca_file`
    is read as delivery would read it, here and now.
    """
    from crisiscomm.notify.tls import ca_file_problem

    environ = os.environ if environ is None else environ
    problems = []
    for name, definition in channels.items():
        found = check_channel(definition)
        missing = missing_variables(definition, environ)
        ca_file = definition.get("ca_file")
        if isinstance(ca_file, str) and not missing_variables({"ca_file": ca_file}, environ):
            path = resolve(name, {"ca_file": ca_file}, environ).settings["ca_file"]
            found += [p for p in [ca_file_problem(path)] if p is not None]
        for problem in found:
            problems.append(_("channel `{name}`: {problem}").format(name=name, problem=problem))
        for variable in missing:
            problems.append(
                _("channel `{name}`: the environment variable {variable} is not set").format(
                    name=name, variable=variable
                )
            )
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
    return []


def smtp_problems(definition: Mapping[str, Any]) -> list[str]:
    """What is wrong with an smtp channel's settings as written (also used by lint)."""
    from crisiscomm.notify.smtp import DEFAULT_PORTS, SECURITY

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
    from crisiscomm.notify.webhook import HEADER_NAME, OWN_HEADERS

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
