"""The app as a new visitor meets it, in headless Chromium on a laptop (1366x768) and a phone
(390x844): the layout, the first build's failure, the Build tab's defaults, the Hub field,
sets built elsewhere, round slider steps, long slider lists and the poses on offer.

One private server for the module, with an empty cache: anny-body has only the shipped metric
set, so its first build is offered, and with the Hub offline that build fails at once (the
recipe's CLIP weights cannot be fetched). The tests that only look at a laptop page, or
change what they check, share one (a page load costs about 4 CPU-seconds here); a new visitor,
a phone and a 2x screen get pages of their own. ``SEMANTIFY_VIEWER_SCREENSHOTS=docs`` also writes
docs/app-laptop.png and docs/app-phone.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import launch_local, needs_chromium

pytestmark = needs_chromium
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
SHOWN = ("() => { const i = document.querySelector('#render img.render');"
         " return i && i.src.startsWith('data:image/jpeg') && i.complete; }")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    cache = tmp_path_factory.mktemp("screens")
    old = os.environ.get("SEMANTIFY_CACHE_DIR")
    os.environ["SEMANTIFY_CACHE_DIR"] = str(cache)
    from semantify.app import AppConfig, build_app

    demo = build_app(AppConfig.create(public=False))
    launch_local(demo)
    yield demo
    demo.close()
    if old is None:
        os.environ.pop("SEMANTIFY_CACHE_DIR", None)
    else:
        os.environ["SEMANTIFY_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def laptop(app, browser):
    """One laptop page for the tests that look at it or change only what they check (each
    opens the tab it needs; the long list's set is picked last); tests that need a visitor or
    a page load of their own open their own page."""
    page = _open(browser, app)
    yield page
    page.close()


def _open(browser, app, **options):
    page = browser.new_page(**({"viewport": LAPTOP} | options))
    page.goto(app.local_url, timeout=120_000)
    page.wait_for_function(SHOWN, timeout=120_000)
    page.locator("#measures").get_by_text("Height").wait_for(timeout=60_000)
    return page


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def _overflowing(page) -> list[str]:
    """Visible elements that stick out of the page's width (the page would scroll sideways)."""
    return page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
        for (const e of document.querySelectorAll('button, input, label, .block')) {
          const r = e.getBoundingClientRect();  // Gradio measures tab buttons off-screen
          if (r.width && r.height && (r.right > w + 1 || r.left < -1) &&
              !e.closest('.visually-hidden'))
            out.push((e.id || e.className || e.tagName) + ' ' + Math.round(r.left) + '-' +
                     Math.round(r.right)); }
        if (document.documentElement.scrollWidth > w) out.push('page ' +
            document.documentElement.scrollWidth);
        return out; }""")


def _tab(page, name: str) -> None:
    """Open tab ``name``, from the overflow menu when the tab bar has no room for it."""
    tab = page.get_by_role("tab", name=name)
    if tab.is_visible():
        tab.click()
    else:
        page.locator(".overflow-menu button").first.click()
        page.locator(".overflow-dropdown button", has_text=name).click()


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("SEMANTIFY_VIEWER_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name))


def test_on_a_laptop_the_viewer_and_its_controls_fit_the_screen(laptop):
    page = laptop
    page.locator("#first-build-button").wait_for(timeout=60_000)
    row, viewer = _box(page, "#first-build"), _box(page, "#render")
    assert row["height"] <= 64, row  # one line, not a block of 183 px
    assert row["y"] + row["height"] <= viewer["y"] <= 200, viewer
    for control in ("#pose", "#appearance"):
        box = _box(page, control)
        assert box["y"] + box["height"] <= LAPTOP["height"], (control, box)
    assert not _overflowing(page)
    _screenshot(page, "app-laptop.png")
    # A notice appearing does not move the viewer.
    page.get_by_role("button", name="Random").click()
    page.locator("#info").get_by_text("random shape").wait_for(timeout=60_000)
    assert _box(page, "#render")["y"] == viewer["y"]
    # The viewer stays in view while the photo tools beside it are used.
    page.get_by_role("tab", name="Photo to shape").click()
    page.locator("#fit-crop").scroll_into_view_if_needed()
    page.wait_for_function("() => window.scrollY > 100", timeout=10_000)
    box = _box(page, "#render .orbit-stage")
    assert 0 <= box["y"] and box["y"] + box["height"] <= LAPTOP["height"], box
    page.evaluate("window.scrollTo(0, 0)")


def test_on_a_phone_one_column_with_the_viewer_first(app, browser):
    page = _open(browser, app, **PHONE)
    page.locator("#first-build-button").wait_for(timeout=60_000)
    width = PHONE["viewport"]["width"]
    assert not _overflowing(page)
    viewer = _box(page, "#render .orbit-stage")
    assert viewer["y"] + viewer["height"] <= PHONE["viewport"]["height"], viewer  # screen one
    button = _box(page, "#first-build-button")
    assert button["width"] >= 0.7 * width and button["height"] <= 90, button
    for field in ("#picker", "#pose", "#appearance"):
        box = _box(page, field)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (field, box)
    # Table headers stay whole words on one line ("measurement", not "measureme nt").
    cut = page.locator("#measures thead th").evaluate_all(
        """cells => cells.filter(c => { const text = c.querySelector('span.header');
             const t = text.getBoundingClientRect(), r = c.getBoundingClientRect();
             return t.height > 1.6 * parseFloat(getComputedStyle(text).fontSize) ||
                    t.right > r.right + 1; }).map(c => c.innerText)""")
    assert not cut, cut
    # A vertical swipe over the viewer scrolls the page; sideways drags orbit.
    touch = page.locator("#render .orbit-stage").evaluate("e => getComputedStyle(e).touchAction")
    assert touch == "pan-y"
    _screenshot(page, "app-phone.png")
    # The viewer stays at the top of the screen while the sliders scroll beneath it.
    page.locator("#slider-4").scroll_into_view_if_needed()
    page.wait_for_function("() => window.scrollY > 200", timeout=10_000)
    assert -1 <= _box(page, "#render .orbit-stage")["y"] <= 10
    page.close()


def test_a_failed_first_build_tells_its_visitor_what_to_do(app, browser):
    page = _open(browser, app)
    button = page.locator("#first-build-button")
    button.click()
    status = page.locator("#first-build-status")
    status.get_by_text("Failed").wait_for(timeout=180_000)
    text = status.inner_text()
    assert "cannot get CLIP weights" in text and "operator" in text, text
    for advice in ("--clip-checkpoint", "HF_HOME", "click again", "❌"):
        assert advice not in text, text
    assert page.locator("#first-build-note").get_by_text("failed").count()
    assert button.is_disabled()  # nothing this page can change would make it succeed
    # A new visitor is not shown someone else's failure: the plain offer.
    other = _open(browser, app)
    other.locator("#first-build-button").wait_for(timeout=60_000)
    other.wait_for_timeout(2500)  # a poll tick
    assert "Failed" not in other.locator("#first-build").inner_text()
    assert other.locator("#first-build-button").is_enabled()
    assert other.locator("#first-build-note").get_by_text("no word sliders yet").count()
    page.close()
    other.close()


def test_the_build_tab_takes_an_empty_sample_count_as_the_recipes(laptop):
    page = laptop
    _tab(page, "Build sliders")
    assert page.locator("#build-samples textarea, #build-samples input").first.input_value() == ""
    page.get_by_label("Quick (fewer samples and epochs)").check()
    page.locator("#build").click()
    log = page.locator("#build-log")
    log.get_by_text("Anny body").wait_for(timeout=60_000)
    assert "minimum" not in log.inner_text() + page.locator("#info").inner_text()
    # Once over (offline, the recipe's CLIP cannot be fetched), the info line says so.
    log.get_by_text("Failed").wait_for(timeout=180_000)
    page.locator("#info").get_by_text("failed").wait_for(timeout=10_000)
    assert "queued" not in page.locator("#info").inner_text()


def test_the_hub_field_takes_a_page_address_and_refuses_plainly(laptop):
    page = laptop
    _tab(page, "Hub")
    field = page.locator("#hub-name textarea, #hub-name input").first
    field.fill("https://huggingface.co/nobody/nothing")
    page.locator("#hub-load").click()
    info = page.locator("#info")
    info.get_by_text("hf://nobody/nothing").wait_for(timeout=60_000)  # read as that set
    assert "cannot read Hub path" not in info.inner_text()
    field.fill("hf://-bad-/name")
    page.locator("#hub-load").click()
    info.get_by_text("cannot read Hub path").wait_for(timeout=60_000)
    shown = info.inner_text() + " ".join(page.locator(".toast-body").all_inner_texts())
    assert "'-'" in shown and "&#x27;" not in shown and "&amp;" not in shown, shown


def test_a_set_built_in_another_session_is_in_a_new_pages_picker(app, browser, word_set):
    from semantify.paths import built_sets_dir

    folder = built_sets_dir() / "built-elsewhere"
    shutil.copytree(word_set[1], folder)
    app.catalog.add(folder, owner="0" * 32)  # another session's build
    page = _open(browser, app)
    page.locator("#picker input").click()
    page.get_by_role("option", name="built-elsewhere").first.wait_for(timeout=30_000)
    page.close()


def test_a_typed_height_keeps_its_round_value(laptop):
    page = laptop
    box = page.locator("#slider-0 input[type=number]")  # the metric set's Height (cm)
    box.fill("185")
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('#measures').innerText"
                           ".includes('asked 185.0')", timeout=60_000)
    assert box.input_value() == "185"
    assert page.locator("#slider-0 input[type=range]").get_attribute("step") == "0.1"


def _pick(page, name: str) -> None:
    page.locator("#picker input").click()
    page.get_by_role("option", name=name).first.click()


def test_the_body_is_offered_body_poses_and_sitting_says_its_seat_is_not_shown(laptop):
    page = laptop
    page.locator("#pose input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert any("Walking" in o for o in options)
    assert "Sitting (seat not shown)" in options
    assert not any(o in ("Head turned", "Looking up") for o in options), options
    page.keyboard.press("Escape")


def test_a_long_list_of_sliders_is_grouped_and_filtered(laptop):
    page = laptop
    _pick(page, "Anny face expression — raw coefficients")
    page.locator("#slider-filter").wait_for(timeout=120_000)
    page.get_by_text("Brow: down left").first.wait_for(timeout=60_000)  # by region
    page.locator("#slider-filter textarea, #slider-filter input").first.press_sequentially(
        "smile", delay=30)
    shown = ("() => [...document.querySelectorAll('#sliders input[type=range]')]"
             ".filter(r => r.offsetParent !== null).map(r => r.closest('[id^=slider-]')"
             ".querySelector('label, [data-testid=block-info]').innerText.trim())")
    page.wait_for_function(f"() => ({shown})().length === 2", timeout=30_000)
    page.wait_for_timeout(1500)  # the answers to "s", "sm", ... are all in
    assert sorted(page.evaluate(shown)) == ["Mouth: smile left", "Mouth: smile right"]
    # Back to the six measurement sliders: the face's other slots are hidden, its filter gone.
    _pick(page, "anny-body-metric — anny-body, 6 measurement sliders")
    page.wait_for_function(f"() => ({shown})().length === 6", timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.evaluate(shown)[0] == "Height (cm)" and len(page.evaluate(shown)) == 6


def test_frames_are_as_sharp_as_the_screen_and_zoom_goes_to_the_pointer(app, browser):
    page = _open(browser, app, device_scale_factor=2)  # the viewer: about 480 CSS pixels
    page.wait_for_function("() => document.querySelector('#render img.render').naturalWidth"
                           " === 1024", timeout=60_000)
    stage = _box(page, "#render .orbit-stage")
    page.mouse.move(stage["x"] + 0.85 * stage["width"], stage["y"] + 0.15 * stage["height"])
    page.mouse.wheel(0, -600)  # zoom in over the top right corner
    page.wait_for_function("() => { const c = document.querySelector('#render .orbit-stage')"
                           ".parentElement.dataset.camera; return c && JSON.parse(c).distance"
                           " < 0.9; }", timeout=60_000)
    camera = page.evaluate("() => JSON.parse(document.querySelector('#render .orbit-stage')"
                           ".parentElement.dataset.camera)")
    assert camera["pan"][0] > 0.05 and camera["pan"][1] > 0.05, camera  # towards the corner
    page.close()
