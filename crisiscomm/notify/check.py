"""Channel settings checked before anything is sent: a misconfigured channel fails at
start-up, not at 3 a.m. when the first escalation goes out.

What a definition says as written is checked by `playbook/channels.py` (lint uses it
too); this module adds what only this machine can tell. `serve` calls
`check_channels(playbook.channels)` for every playbook it may deliver for
and refuses to start (or warns) on what it returns. Problems name settings and variables,
never a variable's value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from crisiscomm.i18n import _
from crisiscomm.notify.env import missing_variables, resolve
from crisiscomm.playbook.channels import check_channel

__all__ = ["check_channel", "check_channels"]


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
