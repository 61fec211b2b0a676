"""The compiled playbook: merged, checked, immutable and content-hashed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from crisiscomm.errors import PlaybookError
from crisiscomm.i18n import _
from crisiscomm.playbook.check import check_file
from crisiscomm.playbook.findings import Severity
from crisiscomm.playbook.library import Library, display_path

__all__ = ["Playbook", "compile_playbook"]


def _plain(value: Any) -> Any:
    """A marked document as plain dicts and lists (JSON-ready)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Playbook:
    """A playbook merged over its protocols; `content_hash` pins exactly this content."""

    id: str
    title: str
    content: MappingProxyType[str, Any]
    content_hash: str
    files: tuple[str, ...]

    @property
    def states(self) -> dict[str, Any]:
        """The states by name."""
        return dict(self.content.get("states") or {})

    @property
    def transitions(self) -> list[dict[str, Any]]:
        """The transitions, in order."""
        return list(self.content.get("transitions") or [])

    def canonical_json(self) -> str:
        """The content as canonical JSON (sorted keys), the input of `content_hash`."""
        return json.dumps(
            dict(self.content), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )


def compile_playbook(path: Path, *, library: Library | None = None) -> Playbook:
    """Load, merge and check a playbook; raise PlaybookError naming the first error."""
    library = library or Library()
    findings = check_file(path, library)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        more = len(errors) - 1
        message = f"{first.location}: {first.message} [{first.rule}]"
        if more:
            message += " " + _("(and {n} more; run `crisiscomm validate {path}`)").format(
                n=more, path=display_path(path)
            )
        raise PlaybookError(message, hint=first.hint)
    merged, chain = library.resolve(path)
    content = _plain(merged)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Playbook(
        id=content["id"],
        title=content.get("title", content["id"]),
        content=MappingProxyType(content),
        content_hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        files=tuple(str(p) for p in chain),
    )
