"""A real headless Chromium for tests of printable and self-contained HTML pages (CI installs it, .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="no Chromium here (CI installs it)")
ARTEFACTS = Path(os.environ.get("DEALCOACH_TEST_ARTEFACTS", Path(__file__).resolve().parent.parent / "build" / "test-artefacts"))


def chromium(page: Path, work: Path, *options: str) -> None:
    """Open `page` in headless Chromium with `options` (--screenshot=..., --print-to-pdf=..., --dump-dom)."""
    assert CHROMIUM, "CI must have Chromium for this test (see .ci/run)"
    subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={work / 'profile'}", *options, page.as_uri()],
                   capture_output=True, timeout=90, check=True)


def dom(page: Path, work: Path) -> str:
    """The page's DOM after Chromium has loaded it (what a reader's browser makes of the file)."""
    assert CHROMIUM, "CI must have Chromium for this test (see .ci/run)"
    done = subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={work / 'profile'}", "--dump-dom", page.as_uri()],
                          capture_output=True, timeout=90, check=True, text=True)
    return done.stdout


def screenshot(page: Path, work: Path, name: str, size: str = "1000,1800") -> Path:
    """A PNG of the page, kept in the tests' artefacts (build/test-artefacts/ or $DEALCOACH_TEST_ARTEFACTS)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTEFACTS / f"{name}.png"
    chromium(page, work, f"--screenshot={png}", f"--window-size={size}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return png
