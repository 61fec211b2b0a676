"""The published site in a real browser: Debian's headless Chromium opens each language's
page, shows the statement as text (the hostile one too) and draws it on a phone and a desk."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from crisiscomm.publish.site import publish
from crisiscomm.store import open_store

from .test_publish import build_office

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (CI installs it)", allow_module_level=True)

pytestmark = pytest.mark.timeout(600)


def chromium(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "chromium is not installed"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={home}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("browser")
    ids = build_office(tmp / "office.db", tmp)
    with open_store(tmp / "office.db") as store:
        publish(store=store, out=tmp / "site")
    return tmp / "site", ids


SHOWN = {
    "kaa": "Nukus aymaǵında hádiyse. Isenim telefonı: +998 61 222-10-50.",
    "ru": "Происшествие: Nukus. Телефон доверия: +998 61 222-10-50.",
    "en": "Incident in Nukus. Hotline: +998 61 222-10-50.",
}


@pytest.mark.parametrize("code", sorted(SHOWN))
def test_each_language_page_shows_its_statement(
    code: str, site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, ids = site
    page = root / code / f"{ids['first']}.html"
    result = chromium("--dump-dom", page.as_uri(), home=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert f'<html lang="{code}">' in dom
    assert SHOWN[code] in dom
    # the hostile text stayed text: no element was made of it
    assert "<script" not in dom and "<img" not in dom
    if code == "en":
        assert "&lt;script&gt;steal(document.cookie)&lt;/script&gt;" in dom


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.parametrize("width", [375, 1280])
def test_a_screenshot_on_a_phone_and_a_desk(
    width: int, site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, ids = site
    shot = tmp_path / f"page-{width}.png"
    result = chromium(
        f"--screenshot={shot}",
        f"--window-size={width},800",
        "--hide-scrollbars",
        (root / "ru" / f"{ids['first']}.html").as_uri(),
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _png_size(shot) == (width, 800)
    assert shot.stat().st_size > 5_000  # something was drawn, not a blank page
    keep = os.environ.get("CRISISCOMM_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
