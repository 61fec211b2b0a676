"""`${ENV_VAR}` references in channel settings: the one place they are resolved.

Playbooks never hold secrets; a channel writes `password: "${SMTP_PASSWORD}"` and the value
is read from the environment of the process that delivers, at delivery. Only `${NAME}` is
replaced (anywhere in a string: `Bearer ${TOKEN}` works). Messages name a variable, never
its value, and `redact` takes the values back out of any text from a server or a library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError
from crisiscomm.playbook.channels import REFERENCE

__all__ = ["Resolved", "missing_variables", "redact", "references", "resolve"]

# values substituted into these settings are treated as secrets (a URL may carry a token)
SECRET_SETTINGS = frozenset({"username", "password", "secret", "headers", "url", "token"})
# shorter values are no real secret, and blanking them would garble every message
MIN_REDACTED = 4


@dataclass(frozen=True)
class Resolved:
    """A channel's settings with every reference replaced, and the secret values used."""

    settings: dict[str, Any]
    secrets: tuple[str, ...]


def _strings(definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(setting, text) for every string of a channel definition, header values included."""
    for key, value in definition.items():
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, Mapping):
            for item in value.values():
                if isinstance(item, str):
                    yield key, item


def references(definition: Mapping[str, Any]) -> list[str]:
    """The variables a channel's settings name, in order of appearance, each once."""
    names = (name for _key, text in _strings(definition) for name in REFERENCE.findall(text))
    return list(dict.fromkeys(names))


def missing_variables(definition: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """The referenced variables that are not set (or set to nothing) in `environ`."""
    return [name for name in references(definition) if not environ.get(name)]


def resolve(channel: str, definition: Mapping[str, Any], environ: Mapping[str, str]) -> Resolved:
    """The settings with `${NAME}` replaced from `environ`.

    A variable that is not set (or empty) raises DeliveryError naming it and the setting
    that uses it; the rows of the channel are tried again later, when it may be set.
    """
    secrets: list[str] = []

    def substitute(setting: str, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            found = environ.get(name)
            if not found:
                raise DeliveryError(
                    _(
                        "channel `{channel}`: the environment variable {name} (for `{setting}`) "
                        "is not set"
                    ).format(channel=channel, name=name, setting=setting),
                    channel_down=True,
                    hint=_("set {name} where crisiscomm serve runs, then restart it").format(
                        name=name
                    ),
                )
            if setting in SECRET_SETTINGS:
                secrets.append(found)
            return found

        return REFERENCE.sub(value, text)

    settings: dict[str, Any] = {}
    for key, item in definition.items():
        if isinstance(item, str):
            settings[key] = substitute(key, item)
        elif isinstance(item, Mapping):
            settings[key] = {
                name: substitute(key, text) if isinstance(text, str) else text
                for name, text in item.items()
            }
        else:
            settings[key] = item
    return Resolved(settings, tuple(dict.fromkeys(secrets)))


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret value (of MIN_REDACTED characters or more) blanked."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_REDACTED:
            text = text.replace(secret, "***")
    return text
