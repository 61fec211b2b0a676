"""A statement's texts, one per language, each with the values as its language writes them.

Each text gets its own values (`template_values(..., language)`): `4,12` and `да` in the
Russian one, `awa` in the Karakalpak one, a place by its name in that language. A text is
rendered only when every placeholder it uses has a value in its language; the refusal
names what is missing, in which languages, and the command that gives it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc
from crisiscomm.engine.context import next_update_at, template_values
from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow
from crisiscomm.templates import missing_values, placeholders, render

__all__ = ["statement_texts"]


def statement_texts(
    playbook: Playbook, incident: IncidentRow, statement: str, now: datetime
) -> tuple[dict[str, str], dict[str, Any]]:
    """The statement rendered in every language, and the values used; refuse missing ones.

    The values used include `_next_update_utc` when the text promises `$next_update_at`:
    releasing it arms the cadence timer for exactly that promise.
    """
    templates = playbook.statements[statement].get("text") or {}
    languages = playbook.languages
    values = {lang: template_values(playbook, incident, now, lang) for lang in languages}
    # each placeholder without a value, with the languages it has none in
    missing: dict[str, list[str]] = {}
    for language in languages:
        for name in missing_values(templates.get(language, ""), values[language]):
            missing.setdefault(name, []).append(language)
    if missing:
        hints, names = [], []
        for name, lacking in missing.items():
            used_in = [lang for lang in languages if name in _names_in(templates.get(lang, ""))]
            partly = name in playbook.facts and lacking != used_in
            names.append(f"${name} ({', '.join(lacking)})" if partly else f"${name}")
            if partly and playbook.facts[name].get("type", "string") in ("string", "text"):
                hints += [f"crisiscomm set {incident.id} {name}.{lang}=..." for lang in lacking]
            elif partly:  # a place without a name, a boolean without words: `validate` says
                hints.append(_("run crisiscomm validate on the playbook and its office"))
            elif name in playbook.facts:
                hints.append(f"crisiscomm set {incident.id} {name}=...")
            elif name == "next_update_at":
                hints.append(_("give the playbook a follow-up `cadence`"))
            else:
                hints.append(
                    _("`{name}` has no value in state {s}").format(name=name, s=incident.state)
                )
        raise RefusedError(
            _("statement `{s}` needs {names}, which have no value yet").format(
                s=statement, names=", ".join(names)
            ),
            hint="; ".join(hints),
        )
    texts = {
        language: render(templates.get(language, ""), values[language]) for language in languages
    }
    # the values used, as the texts wrote them (per language where they differ)
    used: dict[str, Any] = {}
    for name in dict.fromkeys(n for lang in languages for n in _names_in(templates.get(lang, ""))):
        written = {lang: values[lang][name] for lang in languages if name in values[lang]}
        distinct = set(written.values())
        used[name] = distinct.pop() if len(distinct) == 1 else written
    promised = next_update_at(playbook, incident, now)
    if "next_update_at" in used and promised is not None:
        used["_next_update_utc"] = format_utc(promised)
    return texts, used


def _names_in(template: str) -> list[str]:
    """The placeholders a template uses, each once."""
    return list(dict.fromkeys(placeholders(template).names))
