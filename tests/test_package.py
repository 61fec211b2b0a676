from __future__ import annotations

import importlib
import pkgutil

import pytest

import crisiscomm

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(crisiscomm.__path__, "crisiscomm.")
    if m.name != "crisiscomm.__main__"
)


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps `__all__` in: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_real(name: str) -> None:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    if names is None:
        return
    assert list(names) == sorted(names, key=_isort_style)
    for exported in names:
        assert hasattr(module, exported), exported


def test_error_tree_exit_codes() -> None:
    from crisiscomm import errors

    assert errors.UsageError("x").exit_code == 2
    assert errors.NotFoundError("x").exit_code == 2
    assert errors.PlaybookError("x").exit_code == 1
    assert errors.CrisisCommError("x").exit_code == 3
    for name in errors.__all__:
        assert name in (errors.__doc__ or "")
