"""The first build in a real browser: a model without a word set offers one button; the build
runs in the background with its stage beside the button, survives a page reload, and the new
set reaches the picker of another open page without a reload.

Real Gradio server, Debian's Chromium, the app's real build queue; its build process is a
stand-in that finishes when the test says so, with conftest's quick build (tiny-random CLIP,
NOT semantic, 64 samples: the settings the app is given here).
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import launch_local, needs_chromium

pytestmark = [needs_chromium, pytest.mark.slow]
ENV = {"SEMANTIFY_BUILD_CLIP": "tiny-random", "SEMANTIFY_BUILD_QUICK": "1",
       "SEMANTIFY_BUILD_SAMPLES": "64"}


# The build process the queue runs: it waits until the test lets it finish, then lays down
# conftest's quick build, made with these same settings by the real `semantify build --resume
# DIR` (which that fixture tests), in the queued folder.
STAND_IN = """
import shutil, sys, time
from pathlib import Path
go, built, out = map(Path, sys.argv[1:])
deadline = time.monotonic() + 600
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.05)
shutil.copytree(built, out, dirs_exist_ok=True)
"""


@dataclasses.dataclass(frozen=True)
class Served:
    """The server's URL, and the file whose creation lets its stand-in build finish."""

    url: str
    go: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory, quick_build):
    """The app with an empty cache: anny-body has only its shipped metric set, no words. Its
    builds run STAND_IN, which finishes once ``go`` exists."""
    saved = {key: os.environ.get(key) for key in [*ENV, "SEMANTIFY_CACHE_DIR"]}
    os.environ.update(ENV, SEMANTIFY_CACHE_DIR=str(tmp_path_factory.mktemp("first-build")))
    from semantify.app import AppConfig, build_app

    go = tmp_path_factory.mktemp("go") / "go"
    demo = build_app(AppConfig.create(public=False))
    demo.first_builds.queue.command = lambda out: [sys.executable, "-c", STAND_IN, str(go),
                                                   str(quick_build.out), str(out)]
    launch_local(demo)
    yield Served(demo.local_url, go)
    demo.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, timeout=300_000)
    page.locator("#first-build-button").wait_for(timeout=300_000)
    return page


def test_first_build_from_the_button_to_every_picker(served, browser):
    page, other = _open(browser, served.url), _open(browser, served.url)
    button = page.locator("#first-build-button")
    assert button.inner_text().startswith("Build word sliders for Anny body: about ")
    assert "minutes here" in button.inner_text()
    assert page.locator("#first-build-note").get_by_text("has no word sliders yet").count()
    # The row sits above the viewer and the sliders, never over them.
    row, viewer = page.locator("#first-build").bounding_box(), \
        page.locator("#render").bounding_box()
    assert row["y"] + row["height"] <= viewer["y"]

    button.click()
    status = page.locator("#first-build-status")
    status.get_by_text("Anny body: word sliders").wait_for(timeout=60_000)
    assert page.locator("#first-build-button").is_disabled()

    page.reload()  # the build goes on, and the page finds it again
    page.locator("#first-build-status").get_by_text(
        "Anny body: word sliders").wait_for(timeout=90_000)
    assert "Ready" not in page.locator("#first-build-status").inner_text()
    served.go.touch()  # the build may finish now

    status = page.locator("#first-build-status")
    status.get_by_text(re.compile("Ready|Failed")).wait_for(timeout=600_000)
    assert "Ready" in status.inner_text(), status.inner_text()
    # The other page, never reloaded, now lists the new set in its picker (its poll ticked
    # after the set was listed) ...
    other.locator("#picker input").click()
    other.get_by_role("option", name="Anny body: word sliders").first.wait_for(timeout=30_000)
    # ... and the page that watched the build, whose poll ticks too, keeps its outcome in view
    # (the row must not vanish with the message).
    page.locator("#first-build-note").get_by_text("now has word sliders").wait_for(
        timeout=30_000)
    assert status.get_by_text("Ready").is_visible()
    assert page.locator("#first-build-button").is_disabled()
    [built] = (Path(os.environ["SEMANTIFY_CACHE_DIR"]) / "sliders").glob("anny-body-quick-*")
    assert (built / "README.md").is_file() and (built / "sliders.json").is_file()
    assert not (built / ".owner").exists()  # the model's default set: listed for everyone
    page.close()
    other.close()
