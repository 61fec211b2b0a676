"""PyYAML, imported without the regular expression its pure-Python reader compiles at import.

PyYAML's `Reader` class compiles, as the `yaml` package is imported, a pattern of the
characters YAML does not allow: about 5 ms, a third of the import and 4% of `crisiscomm
validate` (what pre-commit runs on every commit that touches a playbook). Only PyYAML's
pure-Python parser uses it, and crisiscomm parses with libyaml (documents/load.py). While
`yaml` is imported here, `re.compile` of exactly that pattern gives a stand-in that compiles
it when first used, so the pure-Python parser still works where libyaml is missing; every
other pattern is compiled as usual, and `re.compile` is itself again once `yaml` is in.

Import `yaml` from here (`from crisiscomm.documents.yamllib import yaml`): the first import
of the package decides.
"""

from __future__ import annotations

import re
import sys
from typing import Any

__all__ = ["yaml"]

# yaml/reader.py, Reader.NON_PRINTABLE
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


class CompiledOnFirstUse:
    """A pattern that `re` compiles when one of its methods is first asked for."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._pattern, self._flags = pattern, flags

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(self._pattern, self._flags)
        return getattr(compiled, name)


def _import_yaml() -> None:
    if "yaml" in sys.modules:
        return
    compile_now = re.compile

    def compile_lazily(pattern: Any, flags: int = 0) -> Any:
        if pattern == NON_PRINTABLE and not flags:
            return CompiledOnFirstUse(pattern, flags)
        return compile_now(pattern, flags)

    re.compile = compile_lazily
    try:
        import yaml  # noqa: F401
    finally:
        re.compile = compile_now


_import_yaml()

import yaml  # noqa: E402
