"""The app in headless Chromium: open the page, move a slider, see the render change.

Uses Debian's /usr/bin/chromium (never downloads a browser). Set SEMANTIFY_SCREENSHOT=PATH to
also write the screenshot there (`SEMANTIFY_SCREENSHOT=docs/app.png pytest
tests/test_browser.py` regenerates the README figure).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    os.environ.setdefault("SEMANTIFY_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    from semantify.app import build_app

    demo = build_app()
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


def test_moving_a_slider_changes_the_render(url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url, timeout=60_000)
            render = page.locator("#render img")
            render.wait_for(timeout=90_000)
            page.locator("#measures").get_by_text("Height").wait_for(timeout=30_000)
            before = render.get_attribute("src")
            weight = page.locator("#slider-3 input[type=range]")
            weight.focus()
            for _ in range(40):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "before => { const img = document.querySelector('#render img');"
                " return img && img.src !== before && img.complete; }",
                arg=before, timeout=60_000)
            page.wait_for_timeout(500)
            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    target = os.environ.get("SEMANTIFY_SCREENSHOT")
    if target:
        shutil.copy(shot, target)
