"""Texts shown to officers: titles, checklist items and messages written once per language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crisiscomm.documents.findings import Severity
from crisiscomm.i18n import _
from crisiscomm.playbook.rules.core import Linter, NodePath, rule

__all__ = ["missing_translation", "officer_texts"]

# the parts of each section whose `title` and `description` an officer reads
_NAMED_SECTIONS = ("roles", "facts", "severities", "states", "statements")
_LABELS = ("title", "description")


def officer_texts(linter: Linter) -> Iterator[tuple[NodePath, Any]]:
    """Every text of the document that may be given per language, with its path."""
    document = linter.document
    for key in _LABELS:
        if key in document:
            yield (key,), document[key]
    for section in _NAMED_SECTIONS:
        for name, entry in (document.get(section) or {}).items():
            for key in _LABELS:
                if isinstance(entry, dict) and key in entry:
                    yield (section, name, key), entry[key]
    for name, state in linter.states.items():
        for index, item in enumerate(state.get("checklist") or []):
            if "text" in item:
                yield ("states", name, "checklist", index, "text"), item["text"]
        for path, notification in linter.notifications(("states", name), state):
            if "message" in notification:
                yield (*path, "message"), notification["message"]
    for index, transition in enumerate(linter.transitions):
        for key in _LABELS:
            if key in transition:
                yield ("transitions", index, key), transition[key]


def _where(path: NodePath) -> str:
    return ".".join(str(part) for part in path)


@rule(
    "missing-translation",
    severity=Severity.WARNING,
    summary="a text written per language lacks one of the playbook's `languages`",
)
def missing_translation(linter: Linter) -> None:
    """A state title, checklist item, role title, message or other text an officer reads,
    written per language (`{kaa: ..., ru: ...}`), that has no text in one of the playbook's
    `languages`: officers working in that language would read another language there. A
    text written once, as a plain string, is shown as it is in every language.
    """
    languages = [str(code) for code in linter.document.get("languages") or []]
    for path, text in officer_texts(linter):
        if not isinstance(text, dict):
            continue
        missing = [code for code in languages if not str(text.get(code) or "").strip()]
        if missing:
            linter.report(
                "missing-translation",
                path,
                _("`{where}` has no text in: {langs}").format(
                    where=_where(path), langs=", ".join(missing)
                ),
                _("add {example} to it, or write one text for every language").format(
                    example=", ".join(f"`{code}: ...`" for code in missing)
                ),
                key=True,
            )
