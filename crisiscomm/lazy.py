"""Names a module hands out but imports on first use (PEP 562 module `__getattr__`).

Every command imports the store, the read model and the formats package with it, and most
use few of their names: a name whose module is costly to load (frozen dataclasses take
about 1 ms each to create) is imported when it is first read, and kept in the module's
namespace, so the next read finds it at once. A leaf: it imports only the standard library.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["names_on_first_use"]


def names_on_first_use(module: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """The `__getattr__` of module `module` (its `__name__`; it must be executing): each
    name of `homes` taken from the module `homes` names for it, on first use."""
    namespace = sys.modules[module].__dict__

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value  # found at once the next time
        return value

    return __getattr__
