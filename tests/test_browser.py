"""The app in headless Chromium: move a slider and see the render change; crop a photo and see
that CLIP gets only the crop.

Uses Debian's /usr/bin/chromium (never downloads a browser). The README's docs/app.png comes
from tests/test_app_viewer.py::test_screenshots_for_the_docs.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def url(word_app):
    """The shared server with the word set listed first (a page opens on it)."""
    return word_app[0]


def _wait_for_new_render(page, before: str) -> None:
    page.wait_for_function(
        "before => { const img = document.querySelector('#render img.render');"
        " return img && img.src !== before && img.complete; }", arg=before, timeout=60_000)


def test_a_slider_moved_by_a_typed_value_or_keys_is_drawn(url, browser):
    """A value typed into a slider's number box (Enter) redraws the shape, like a drag; one
    beyond the range comes back as the range's end. Keys on the slider redraw it too."""
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url, timeout=60_000)
    render = page.locator("#render img.render")
    page.wait_for_function("() => { const i = document.querySelector('#render img.render');"
                           " return i && i.src.startsWith('data:image/jpeg'); }",
                           timeout=90_000)
    before = render.get_attribute("src")
    box = page.locator("#slider-0 input[type=number]")
    high = float(page.locator("#slider-0 input[type=range]").get_attribute("max"))
    box.fill(str(high + 1000))
    box.press("Enter")
    _wait_for_new_render(page, before)
    page.wait_for_function("high => Math.abs(Number(document.querySelector("
                           "'#slider-0 input[type=number]').value) - high) < 0.01",
                           arg=high, timeout=30_000)

    before = render.get_attribute("src")
    page.locator("#slider-0 input[type=range]").focus()
    for _ in range(40):
        page.keyboard.press("ArrowLeft")
    _wait_for_new_render(page, before)
    assert float(box.input_value()) < high
    page.close()


def _mean_colour(page, selector: str) -> np.ndarray:
    """The mean RGB of an image element on the page, read from its pixels."""
    return np.array(page.evaluate(
        """selector => { const img = document.querySelector(selector);
           const c = document.createElement('canvas'); c.width = img.naturalWidth;
           c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
           const d = g.getImageData(0, 0, c.width, c.height).data; const s = [0, 0, 0];
           for (let i = 0; i < d.length; i += 4) { s[0] += d[i]; s[1] += d[i+1]; s[2] += d[i+2]; }
           const n = d.length / 4; return [s[0] / n, s[1] / n, s[2] / n]; }""", selector))


def test_the_crop_really_crops(url, browser, tmp_path):
    """A photo red on the left, blue on the right: a box drawn over the red half is all CLIP
    sees, so its view is red, not the half-and-half of the whole photo."""
    photo = np.zeros((300, 400, 3), np.uint8)
    photo[:, :200] = (220, 30, 30)
    photo[:, 200:] = (30, 30, 220)
    Image.fromarray(photo).save(tmp_path / "halves.png")
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.goto(url, timeout=60_000)
    # The page has started (its session and table came back), so the upload's answer is not
    # overwritten by the start's, as it was on a cold server when this test ran alone.
    page.locator("#measures").get_by_text("Height").wait_for(timeout=90_000)
    page.get_by_role("tab", name="Photo to shape").click()
    page.locator("#uploads input[type=file]").set_input_files(str(tmp_path / "halves.png"))
    shown = page.locator("#crop img.crop-photo")
    page.wait_for_function("() => { const i = document.querySelector('#crop img.crop-photo');"
                           " return i && i.src.startsWith('data:') && i.complete; }",
                           timeout=60_000)
    page.locator("#info").get_by_text("fitted to 1 photo").wait_for(timeout=60_000)
    shown.scroll_into_view_if_needed()
    box = shown.bounding_box()
    page.mouse.move(box["x"] + 0.05 * box["width"], box["y"] + 0.1 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.45 * box["width"], box["y"] + 0.9 * box["height"], steps=8)
    with page.expect_response(lambda r: "/run/predict" in r.url, timeout=30_000):
        page.mouse.up()  # the box goes to the server (an unqueued event) and is answered
    assert page.locator("#crop .crop-box").is_visible()
    page.locator("#fit-crop").click()
    page.locator("#info").get_by_text("1 cropped").wait_for(timeout=60_000)
    page.wait_for_function("() => { const i = document.querySelector('#clip-view img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=30_000)
    red, _, blue = _mean_colour(page, "#clip-view img")
    page.close()
    assert red > 150 and blue < 80, (red, blue)  # the whole photo would give about 125 each
