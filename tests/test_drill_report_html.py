"""`crisiscomm drill X.yaml --format html -o FILE`: one self-contained page with the same
content as the Markdown and an SVG chart of the timeline, escaped, checked in headless
Chromium at A4 width; the output options' bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crisiscomm.cli import main

from .conftest import REPO

FLOOD = REPO / "drills" / "flood-amu-darya.yaml"
RUMOUR = REPO / "drills" / "false-rumour-fake-decree.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
browser = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (the Debian package; CI installs it)",
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["drill", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def hostile(tmp_path: Path) -> Path:
    """The rumour drill with markup in its title: it must come out as text."""
    text = RUMOUR.read_text(encoding="utf-8")
    path = tmp_path / "hostile.yaml"
    path.write_text(
        text.replace(
            "playbook: false-rumour", f"playbook: {REPO / 'playbooks/false-rumour.yaml'}"
        ).replace(
            'title: "Forged decree on flour rationing (Telegram, 24 h)"',
            "title: \"Forged <script>alert('x')</script> decree\"",
        ),
        encoding="utf-8",
    )
    assert "<script>" in path.read_text(encoding="utf-8")
    return path


def test_html_is_self_contained_escaped_and_has_the_markdowns_sections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "aar.html"
    code, out, _err = run(capsys, str(hostile(tmp_path)), "--format", "html", "-o", str(page))
    assert code == 0 and out.startswith("# After-action report: ")  # the terminal as before
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "@page { size: A4" in html
    assert "<script" not in html and "src=" not in html and 'href="http' not in html
    assert "Forged &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; decree" in html
    assert html.count("<svg") == 1 and 'id="chart-timeline"' in html
    for heading in [line[3:] for line in out.splitlines() if line.startswith("## ")]:
        assert f"<h2>{heading}</h2>" in html, heading
    assert html.count("EXERCISE EXERCISE EXERCISE") >= 2


def test_json_to_a_file_and_html_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "aar.json"
    code, _out, _err = run(capsys, str(RUMOUR), "--format", "json", "-o", str(target))
    data = json.loads(target.read_text(encoding="utf-8"))
    assert code == 0 and data["playbook"] == "false-rumour" and "statements" in data
    code, out, _err = run(capsys, str(RUMOUR), "--format", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>")


def test_bad_output_options_exit_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "both.html"
    code, out, err = run(capsys, str(FLOOD), str(RUMOUR), "--format", "html", "-o", str(page))
    assert (code, out) == (2, "")
    assert err.startswith(
        "crisiscomm: error: --format html writes the report of one scenario; 2 were given\n"
    )
    assert not page.exists()
    code, out, err = run(capsys, str(RUMOUR), "--format", "html", "-o", "no/such/dir/a.html")
    assert (code, out) == (2, "")
    assert err.startswith(
        "crisiscomm: error: cannot write no/such/dir/a.html: No such file or directory\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary left
    code, _out, err = run(capsys, str(RUMOUR), "--format", "pdf")
    assert code == 2 and "'pdf' is not one of 'md', 'html', 'json'" in err


@browser
def test_html_in_headless_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert CHROMIUM is not None, "CI must install chromium"
    page = tmp_path / "flood.html"
    assert run(capsys, str(FLOOD), "--format", "html", "-o", str(page))[0] == 0
    shot = tmp_path / "flood.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
    taken = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=794,1123", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert taken.returncode == 0, taken.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert "Uncaught" not in taken.stderr and ":CONSOLE(" not in taken.stderr
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr
    start = dom.stdout.index('id="chart-timeline"')
    chart = dom.stdout[start : dom.stdout.index("</figure>", start)]
    assert "<svg" in chart and "deadlines missed" in chart


@pytest.mark.parametrize("code", ["en", "kaa", "uz", "ru"])
def test_a_late_promise_is_marked_in_every_language(
    tmp_path: Path, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flood drill keeps one promised update 1h20m late: its cell is red whatever the
    report's language writes ("late by 1h20m", "1h20m keshikti", "с опозданием на ...")."""
    page = tmp_path / "aar.html"
    drill = str(REPO / "drills" / "flood-amu-darya.yaml")
    assert main(["--lang", code, "drill", drill, "--format", "html", "-o", str(page)]) == 0
    capsys.readouterr()
    html = page.read_text(encoding="utf-8")
    marked = [line for line in html.split("<td") if line.startswith(' class="miss">')]
    assert any("1h20m" in cell for cell in marked), code
