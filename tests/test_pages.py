"""The shared page helpers guard pygal's import hook: after a chart is drawn, an import
that finds nothing (how libraries probe for optional modules) is a plain ImportError, not
an ImportWarning (pytest makes warnings errors)."""

from __future__ import annotations

import subprocess
import sys


def test_drawing_a_chart_leaves_no_legacy_import_hook_behind() -> None:
    code = (
        "import sys\n"
        "from crisiscomm.pages import chart_options, svg\n"
        "options = chart_options()\n"
        "pygal = options.pop('_pygal')\n"
        "chart = pygal.Bar(**options)\n"
        "chart.add('a', [1, 2])\n"
        "assert '<svg' in svg(chart)\n"
        "assert not [f for f in sys.meta_path if type(f).__name__ == 'PluginImportFixer']\n"
        "try:\n"
        "    import crisiscomm_no_such_module  # an optional module probed for\n"
        "except ImportError:\n"
        "    print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_without_the_guard_pygal_would_break_later_imports() -> None:
    """The pitfall itself, so the guard above stays needed only while it exists."""
    code = (
        "import pygal\ntry:\n    import crisiscomm_no_such_module\nexcept ImportError:\n    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "ImportWarning" in done.stderr and "PluginImportFixer" in done.stderr
