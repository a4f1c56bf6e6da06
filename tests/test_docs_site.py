"""The documentation site: `mkdocs build --strict` (a broken link, anchor or API reference fails it), every
command's help pointing at a page that exists, and the built index and extraction pages opened in Debian's
chromium, with screenshots kept in artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from erniem.cli import PAGES, parser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs")
    built = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(built)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return built


def test_every_command_names_a_page_that_exists(site):
    commands = parser()._subparsers._group_actions[0].choices
    assert set(PAGES) == set(commands)
    for name, page in PAGES.items():
        assert (ROOT / "docs" / page).is_file() and (site / page.replace(".md", ".html")).is_file(), name
        assert commands[name].format_help().rstrip().endswith(f"Documentation: docs/{page}")


@pytest.mark.parametrize("page", ["index", "extraction"])
def test_the_built_pages_render_in_a_real_browser(site, page):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"docs-{page}.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags)
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 900})
            view.goto((site / f"{page}.html").as_uri())
            heading = view.locator("article h1").first.inner_text()
            navigation = view.locator("nav.md-nav--primary").first.inner_text()
            view.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert heading.strip() and "Information extraction" in navigation
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
