"""The orbit viewer: its frame service (stale, busy, flooding and junk requests), and its test
page in real Chromium (drag, wheel, keys, double-click, pose, skin, slider drags)."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time

import numpy as np
import pytest
import torch
from conftest import launch_local, needs_chromium

from semantify.app.frames import jpeg_data_url
from semantify.app.viewport import FrameService, Scene

STATS = "() => document.querySelector('#orbit .orbit-stage').parentElement.orbitStats"


@pytest.fixture(scope="module")
def scene():
    from semantify.models import load_model
    from semantify.pictures.renderers import interactive_renderer

    model = load_model("anny-body")
    with torch.no_grad():
        vertices = model(model.default_coefficients()[None])[0].numpy()
    renderer = interactive_renderer(model, size=64)
    yield Scene(renderer, vertices)
    renderer.release()


def ask(service, view, seq, **camera):
    return service.frame({"view": view, "seq": seq, "quality": "draft", **camera})


def test_frames_come_per_view_and_stale_or_unknown_requests_are_dropped(scene):
    service = FrameService(jpeg_data_url)
    view, other = service.open(), service.open()
    assert ask(service, view, 1)["dropped"] == "empty"
    service.show(view, scene)
    reply = ask(service, view, 2, azimuth=90)
    assert reply["image"].startswith("data:image/jpeg") and reply["quality"] == "draft"
    assert service.camera(view).azimuth == 90 and service.camera(other).azimuth == 0
    assert ask(service, view, 2)["dropped"] == "stale"
    assert ask(service, "forged", 3)["dropped"] == "unknown"
    assert service.frame("not a dict")["dropped"] == "unknown"


@pytest.mark.parametrize("camera", [
    {"azimuth": float("nan"), "elevation": "up", "distance": 1e308, "pan": [1e9, None]},
    {"azimuth": None, "pan": "left", "seq": float("inf")},
])
def test_junk_cameras_are_clamped(scene, camera):
    service = FrameService(jpeg_data_url)
    view = service.open()
    service.show(view, scene)
    reply = service.frame({"view": view, "seq": 5, **camera})
    assert "image" in reply or reply["dropped"] == "stale"  # a junk seq counts as 0
    assert service.frame({**camera, "view": view, "seq": 9}).get("image")
    safe = service.camera(view)
    assert -180 <= safe.azimuth < 180 and 0.1 <= safe.distance <= 10


def test_a_flooding_client_cannot_starve_another(scene):
    service = FrameService(jpeg_data_url, rate=30, burst=4)
    flood, calm = service.open(), service.open()
    service.show(flood, scene)
    service.show(calm, scene)
    counter = iter(range(1, 10**6))
    lock = threading.Lock()

    def flood_once(_):
        with lock:
            seq = next(counter)
        return ask(service, flood, seq)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        flooding = pool.map(flood_once, range(400))
        calm_replies = []
        for seq in range(1, 11):
            calm_replies.append(ask(service, calm, seq))
            time.sleep(0.05)
        flooded = list(flooding)
    assert all("image" in reply for reply in calm_replies)
    refused = [reply["dropped"] for reply in flooded if "dropped" in reply]
    assert len(refused) > 300 and set(refused) <= {"busy", "rate", "stale"}


def test_frames_take_turns_across_parties_and_arrival_order_within_one():
    """Waiting frames are served round-robin across parties (network addresses) and in their
    order of arrival within one: a party with many waiting frames cannot push another's
    frame behind all of its own."""
    from semantify.app.viewport.service import Turns

    turns, order = Turns(), []

    def frame(party: str, name: str) -> None:
        with turns.turn(party):
            order.append(name)
            time.sleep(0.02)

    arrivals = [("flood", "f1"), ("flood", "f2"), ("flood", "f3"), ("flood", "f4"),
                ("calm", "c1"), ("other", "o1"), ("calm", "c2")]
    with turns.turn("first"):  # a frame being drawn: the others queue behind it
        threads = []
        for party, name in arrivals:
            threads.append(threading.Thread(target=frame, args=(party, name)))
            threads[-1].start()
            while turns.waiting() < len(threads):  # queued in order
                time.sleep(0.001)
        assert turns.wait("flood", most=4) is False  # four of its frames wait: refused at once
    for thread in threads:
        thread.join(5)
    assert order == ["f1", "c1", "o1", "f2", "c2", "f3", "f4"]


def test_views_are_capped_per_session_and_address_never_evicting_others(scene):
    from semantify.app.viewport.service import VIEWS_PER_OWNER, VIEWS_PER_PARTY

    service = FrameService(jpeg_data_url)
    victim = service.open("victim", "10.0.0.1")
    flood = [service.open("flooder", "10.0.0.2") for _ in range(300)]
    assert service.camera(victim) is not None  # 300 reopened views evicted only their own
    assert sum(service.camera(v) is not None for v in flood) == VIEWS_PER_OWNER
    many = [service.open(f"s{i}", "10.0.0.3") for i in range(VIEWS_PER_PARTY + 40)]
    assert service.camera(victim) is not None
    assert sum(service.camera(v) is not None for v in many) == VIEWS_PER_PARTY
    assert service.camera(many[-1]) is not None and service.camera(many[0]) is None


def test_slider_values_rebuild_the_scene_or_are_refused(scene):
    service = FrameService(jpeg_data_url)
    view = service.open()
    service.show(view, scene)
    assert ask(service, view, 1, values=[[0, 0.5]])["dropped"] == "values"  # nothing to follow
    built = []

    def follow(by_slot, quick):
        if set(by_slot) != {0, 3}:
            raise ValueError("slots 0 and 3")
        built.append((by_slot, quick))
        return Scene(scene.renderer, scene.vertices * (1 + by_slot[0] / 10), final=not quick)

    service.follow(view, follow)
    reply = ask(service, view, 2, values=[[0, 0.5], [3, 1]])
    assert reply["final"] is False and built == [({0: 0.5, 3: 1.0}, True)]
    reply = service.frame({"view": view, "seq": 3, "quality": "full",
                           "values": [[0, 0.5], [3, 1]]})
    assert reply["final"] is True and built[-1] == ({0: 0.5, 3: 1.0}, False)
    for seq, junk in enumerate(([[0, 1.0]], [[0, float("nan")], [3, 1.0]], "0.5",
                                [[0, True], [3, 1.0]], [[-1, 0.5], [3, 1.0]], [[0.5, 1], [3, 1]],
                                [[i, 0.0] for i in range(1000)]), start=10):
        assert service.frame({"view": view, "seq": seq, "values": junk,
                              "quality": "draft"})["dropped"] == "values"


@pytest.fixture(scope="module")
def page(browser):
    from semantify.app.viewport.demo import build_demo

    demo = build_demo("anny-body")
    launch_local(demo)
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(demo.local_url, timeout=120_000)
    _wait_first_frame(page)
    yield page
    page.close()
    demo.close()


def _wait_first_frame(page) -> None:
    page.wait_for_function("() => { const i = document.querySelector('#orbit .orbit-frame');"
                           " return i && i.src.startsWith('data:image/jpeg'); }", timeout=120_000)


def _frame(page) -> str:
    return page.locator("#orbit .orbit-frame").get_attribute("src")


def _camera(page) -> dict:
    text = page.evaluate("() => document.querySelector('#orbit .orbit-stage')"
                         ".parentElement.dataset.camera || '{}'")
    return json.loads(text)


def _wait_full_after(page, full_before: int) -> None:
    page.wait_for_function(f"n => ({STATS})().full > n", arg=full_before, timeout=60_000)


def _image(url: str) -> np.ndarray:
    from semantify.app.frames import decode_data_url

    return np.asarray(decode_data_url(url).convert("RGB"), dtype=float)


@needs_chromium
def test_dragging_on_the_render_orbits_the_view(page):
    stage = page.locator("#orbit .orbit-stage")
    box = stage.bounding_box()
    before, full = _frame(page), page.evaluate(STATS)["full"]
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 20 * step, y, steps=2)
    page.mouse.up()
    _wait_full_after(page, full)
    stats = page.evaluate(STATS)
    assert stats["draft"] >= 1 and stats["full"] > full
    assert _frame(page) != before
    assert _camera(page)["azimuth"] < -45  # dragging right turns the body to its left
    assert stats["lastFullAt"] - stats["releasedAt"] < 5000


@needs_chromium
def test_wheel_keys_and_double_click(page):
    stage = page.locator("#orbit .orbit-stage")
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)  # zoom in: a frame from the nearer camera comes back
    page.wait_for_function("() => JSON.parse(document.querySelector('#orbit .orbit-stage')"
                           ".parentElement.dataset.camera || '{}').distance < 0.8",
                           timeout=60_000)
    stage.focus()
    azimuth, full = _camera(page)["azimuth"], page.evaluate(STATS)["full"]
    page.keyboard.press("ArrowRight")
    _wait_full_after(page, full)
    assert _camera(page)["azimuth"] != azimuth
    stage.dblclick()
    home = {"azimuth": 0, "elevation": 10, "distance": 1, "pan": [0, 0]}
    page.wait_for_function("home => document.querySelector('#orbit .orbit-stage').parentElement"
                           ".dataset.camera === JSON.stringify(home)", arg=home, timeout=60_000)


def test_the_page_keeps_to_the_cameras_limits():
    """orbit.js reads its camera limits from the component's props, which are the ones
    viewer.camera clamps every camera to: one source, so the page and the server agree."""
    import gradio as gr

    from semantify.app.viewport.component import _asset, orbit_view
    from viewer.camera import DISTANCE_RANGE, ELEVATION_RANGE, PAN_LIMIT

    with gr.Blocks():
        view = orbit_view(FrameService(jpeg_data_url))
    assert view.props["limits"] == {"elevation": list(ELEVATION_RANGE),
                                    "distance": list(DISTANCE_RANGE), "pan": PAN_LIMIT}
    script = _asset("orbit.js")
    assert "const LIMITS = props.limits;" in script and "LIMITS = {" not in script


@needs_chromium
def test_the_page_zooms_out_to_the_servers_limit(page):
    from viewer.camera import DISTANCE_RANGE

    box = page.locator("#orbit .orbit-stage").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    full = page.evaluate(STATS)["full"]
    for _ in range(4):
        page.mouse.wheel(0, 2000)  # far beyond the limit
    _wait_full_after(page, full)
    assert _camera(page)["distance"] == DISTANCE_RANGE[1]
    page.locator("#orbit .orbit-stage").dblclick()  # back home for the next tests
    page.wait_for_function("() => JSON.parse(document.querySelector('#orbit .orbit-stage')"
                           ".parentElement.dataset.camera).distance === 1", timeout=60_000)


@needs_chromium
def test_pose_and_skin_switch_the_render(page):
    pushed = page.evaluate(STATS)["pushed"]
    skin = _image(_frame(page))
    page.locator("#appearance").get_by_text("clay").click()
    page.wait_for_function(f"n => ({STATS})().pushed > n", arg=pushed, timeout=60_000)
    clay = _image(_frame(page))
    assert (np.abs(skin - clay).max(axis=-1) > 8).mean() > 0.01  # the body's pixels change
    pushed = page.evaluate(STATS)["pushed"]
    page.locator("#pose input").click()
    page.get_by_role("option", name="sitting").click()
    page.wait_for_function(f"n => ({STATS})().pushed > n", arg=pushed, timeout=60_000)
    sitting = _image(_frame(page))
    assert (np.abs(sitting - clay).max(axis=-1) > 8).mean() > 0.01
    assert page.locator("#measures").get_by_text("Height").count() == 1


@needs_chromium
def test_a_slider_drag_is_drawn_through_the_view(page):
    stats = page.evaluate(STATS)
    before = _frame(page)
    weight = page.locator("#slider-3 input[type=range]")
    weight.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"n => ({STATS})().frames > n", arg=stats["frames"], timeout=60_000)
    _wait_full_after(page, stats["full"])  # the full frame after the keys settle
    assert _frame(page) != before


@needs_chromium
def test_heatmap_shows_its_colour_key(page):
    weight = page.locator("#slider-4 input[type=range]")
    weight.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    pushed = page.evaluate(STATS)["pushed"]
    page.locator("#heat input").check()
    page.wait_for_function(f"n => ({STATS})().pushed > n", arg=pushed, timeout=60_000)
    key = page.locator("#heat-key .heat-key")
    key.wait_for(timeout=60_000)
    assert "mm moved" in key.inner_text()


def test_frames_take_the_size_the_page_shows_them_at(scene):
    """A page sends the side it shows frames at (CSS pixels x devicePixelRatio): full frames
    come at the next of 512, 768 and 1024 pixels (1024 at most), drafts at half (384 at
    most); junk keeps the view's size."""
    from semantify.app.frames import decode_data_url

    service = FrameService(jpeg_data_url)
    view = service.open()
    service.show(view, scene)
    sides = []
    for seq, (size, quality) in enumerate([(900, "full"), (900, "draft"), (3000, "full"),
                                           (3000, "draft"), ("big", "full"), (300, "full")], 1):
        reply = service.frame({"view": view, "seq": seq, "quality": quality, "size": size})
        sides.append(decode_data_url(reply["image"]).size[0])
    assert sides == [1024, 384, 1024, 384, 1024, 512]


def test_one_address_shares_one_frame_rate_across_its_views(scene):
    """Forty views of one address ask for frames as fast as they can: together they get the
    address's rate (views alone would allow far more), and a view of another address is not
    limited by them."""
    service = FrameService(jpeg_data_url, rate=1000, burst=4, party_rate=2)
    flood = [service.open(f"s{i}", "10.0.0.2") for i in range(40)]
    for view in flood:
        service.show(view, scene)
    replies = [ask(service, view, 1) for view in flood]
    drawn = sum("image" in reply for reply in replies)
    assert 4 <= drawn <= 6 and {r["dropped"] for r in replies if "dropped" in r} == {"rate"}
    calm = service.open("calm", "10.0.0.3")
    service.show(calm, scene)
    assert "image" in ask(service, calm, 1)


def test_turns_with_two_slots_let_two_frames_work_at_once_and_queue_a_third():
    """Slider-drag shapes are built two at a time beside the renderer (Turns(2)); a third
    waits for a slot, still in turn across parties."""
    from semantify.app.viewport.service import Turns

    turns = Turns(2)
    assert turns.wait("a") and turns.wait("b")  # both slots taken at once
    waited = threading.Event()

    def third() -> None:
        turns.wait("c")
        waited.set()

    thread = threading.Thread(target=third)
    thread.start()
    assert not waited.wait(0.1)  # no slot left: it waits
    turns.done()
    assert waited.wait(5)  # a slot freed passes straight to it
    turns.done()
    turns.done()
    thread.join(5)
    assert turns.wait("d") and turns.wait("e")  # every slot given back
    turns.done()
    turns.done()


def test_a_quiet_partys_frame_goes_before_busy_parties_turns():
    """A party with no turn in the last ``quiet`` seconds (a new visitor's first frame) is
    drawn before busy parties' waiting frames, after other quiet ones; after that turn it
    waits in line like everyone (a flood is never quiet)."""
    from semantify.app.viewport.service import Turns

    turns, order, threads = Turns(1, quiet=60.0), [], []
    with turns.turn("busy-b"):  # b and a just had turns: busy
        pass
    assert turns.wait("busy-a")

    def frame(party: str) -> None:
        turns.wait(party)
        order.append(party)
        turns.done()

    for party in ("busy-a", "busy-b", "busy-a", "new-1", "new-1", "new-2"):
        threads.append(threading.Thread(target=frame, args=(party,)))
        threads[-1].start()
        while turns.waiting() < len(threads):  # queued in this order
            time.sleep(0.001)
    turns.done()
    for thread in threads:
        thread.join(5)
    assert order == ["new-1", "new-2", "busy-a", "busy-b", "new-1", "busy-a"]


def test_a_crowded_renderer_draws_a_busy_pages_full_frame_as_a_draft_and_says_when_to_ask(
        scene):
    """With CROWDED_PARTIES addresses waiting for the renderer, a busy address's full frame is
    drawn as a draft, with the time after which its page should ask again; a quiet address (a
    new visitor) still gets its full frame, and so does the busy one once the crowd is gone."""
    from semantify.limits import CROWDED_PARTIES, CROWDED_RETRY_MS

    service = FrameService(jpeg_data_url, rate=1000, burst=100, party_rate=1000)
    busy, new = service.open("s1", "10.0.0.1"), service.open("s2", "10.0.0.2")
    for view in (busy, new):
        service.show(view, scene)
    assert service.frame({"view": busy, "seq": 1, "quality": "full"})["quality"] == "full"
    turns, replies, threads = service._turns, {}, []
    turns.wait("holder")  # the renderer is drawing someone's frame

    def crowd(party: str) -> None:
        turns.wait(party)
        turns.done()

    def asks(view: str) -> None:
        replies[view] = service.frame({"view": view, "seq": 2, "quality": "full"})

    for i in range(CROWDED_PARTIES):
        threads.append(threading.Thread(target=crowd, args=(f"10.1.0.{i}",)))
        threads[-1].start()
    while turns.waiting() < CROWDED_PARTIES:
        time.sleep(0.001)
    for view in (busy, new):
        threads.append(threading.Thread(target=asks, args=(view,)))
        threads[-1].start()
    while turns.waiting() < CROWDED_PARTIES + 2:
        time.sleep(0.001)
    turns.done()
    for thread in threads:
        thread.join(10)
    assert replies[busy]["quality"] == "draft" and replies[busy]["retry_ms"] == CROWDED_RETRY_MS
    assert replies[new]["quality"] == "full" and "retry_ms" not in replies[new]
    again = service.frame({"view": busy, "seq": 3, "quality": "full"})
    assert again["quality"] == "full" and "retry_ms" not in again


def test_a_heavy_jobs_drawing_waits_its_turn_behind_the_frame_being_drawn(scene):
    """Within heavy_turns (a turntable, an animation), each picture drawn takes a turn in the
    views' line, one line for every heavy job; a view's own frame drawn inside it is already
    in its turn (no deadlock)."""
    from viewer import OrbitCamera

    service = FrameService(jpeg_data_url)
    view = service.open("s1", "10.0.0.1")
    service.show(view, scene)
    service._turns.wait("10.0.0.9")  # another address's frame is being drawn
    drawn = threading.Event()

    def heavy() -> None:
        with service.heavy_turns():
            scene.renderer.render(scene.vertices, OrbitCamera(), quality="draft")
            drawn.set()

    thread = threading.Thread(target=heavy)
    thread.start()
    assert not drawn.wait(0.3)  # it waits for the frame's turn to end
    service._turns.done()
    assert drawn.wait(10)
    thread.join(10)
    with service.heavy_turns():
        assert service.render(view).startswith("data:image/jpeg")


def test_a_surface_draws_the_same_frame_as_its_vertices_and_is_its_own_copy(scene):
    """Normals made beside the renderer (a Surface) draw exactly what the vertices draw, and
    changing the caller's array afterwards changes nothing drawn."""
    from viewer import OrbitCamera

    renderer, original = scene.renderer, np.array(scene.vertices, dtype=np.float32)
    camera, vertices = OrbitCamera(azimuth=30.0), original.copy()
    surface = renderer.surface(vertices)
    vertices[:, 1] += 0.3
    moved = renderer.render(vertices, camera, quality="draft")
    drawn = renderer.render(surface, camera, quality="draft")
    assert np.array_equal(drawn, renderer.render(original, camera, quality="draft"))
    assert not np.array_equal(drawn, moved)
    with pytest.raises(ValueError):
        surface.vertices[0, 0] = 1.0  # read-only: the renderer's copy never changes
