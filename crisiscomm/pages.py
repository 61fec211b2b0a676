"""What every self-contained HTML page the project makes shares: pygal's chart style and
settings, SVG without scripts, and a Jinja2 environment that escapes every value.

pygal writes a `<script>` with its tooltip configuration into every chart; the pages need
no JavaScript (they must print and read the same without it), so the scripts are taken
out, and pygal's comments, which carry the day of drawing. report/ (period reports) and
drill/ (after-action reports) both draw with these; a leaf, imported lazily by them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["CHART_HEIGHT", "CHART_WIDTH", "chart_options", "environment", "svg"]

_SCRIPT = re.compile(r"<script\b.*?</script>|<!--.*?-->", re.DOTALL)  # and its comments
CHART_WIDTH, CHART_HEIGHT = 700, 300


def _pygal() -> Any:
    """pygal, imported without its import hook: `import pygal` appends a legacy
    `sys.meta_path` finder (PluginImportFixer, for pygal.maps plugins we do not use) that
    has no `find_spec`, so every later import of a module not yet loaded raises
    ImportWarning (an error where warnings are errors) and is slowed down."""
    import sys

    import pygal  # type: ignore[import-untyped]

    sys.meta_path[:] = [
        finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
    ]
    return pygal


def chart_options() -> dict[str, Any]:
    """pygal's settings for a chart on a page: the house style, no JavaScript, A4 width;
    `_pygal` is the module itself (imported only when a chart is drawn)."""
    pygal = _pygal()
    from pygal.style import Style  # type: ignore[import-untyped]

    style = Style(
        background="white",
        plot_background="white",
        font_family="DejaVu Sans, Arial, sans-serif",
        colors=("#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#7f8c8d"),
        title_font_size=14,
        legend_font_size=11,
        label_font_size=10,
    )
    return {
        "style": style,
        "js": [],
        "disable_xml_declaration": True,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "legend_at_bottom": True,
        "print_values": False,
        "pretty_print": False,
        "_pygal": pygal,
    }


def svg(chart: Any) -> str:
    """A pygal chart as inline SVG, without its script and comments."""
    return _SCRIPT.sub("", str(chart.render(is_unicode=True)))


def environment(folder: Path) -> Any:
    """A Jinja2 environment over the templates in `folder` that escapes every value."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
