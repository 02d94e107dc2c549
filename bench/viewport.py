"""The app's orbit viewer in headless Chromium: frames/s that reach the page during a continuous
drag, the full frame's delay after release, and frame requests from many sessions at once.

- ``drag``: the app (``semantify app``, torch at one thread as it launches) on raw anny-body
  and on the shipped metric slider set; a scripted drag of DRAG_SECONDS at ~60 pointer
  events/s on the view, then on a slider; frames counted in the page (``orbitStats``),
  release -> full frame in ms;
- ``mouse``: the same slider drags with the browser's own mouse (trusted events through
  Chromium's input pipeline, as a person's mouse gives, driven over CDP: ``page.mouse``),
  on the slider's thumb at 1366x768, ROUNDS rounds; prints the median and the worst round;
- ``sessions``: CLIENTS threads, each its own view, asking frames over HTTP as a page does (one
  in flight), plus one client flooding its view with parallel requests: p50/p95 per frame for
  the well-behaved ones, errors, and how many of the flood's requests were refused;
- ``slider-sessions``: the same with slider-drag frames: each request carries a slider value,
  so the server rebuilds the mesh before drawing, as during a page's slider drag (20 API
  clients moving sliders through the app's ``/move`` event: ``bench/app.py``).

Run: ``python bench/viewport.py [--only drag|mouse|sessions|slider-sessions]`` (ANNY_CACHE_DIR set
as in the Makefile). Chromium: Debian's /usr/bin/chromium, never downloaded.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import socket
import statistics
import threading
import time

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DRAG_SECONDS, ROUNDS = 4.0, 3
CLIENTS, REQUESTS, FLOOD = 20, 30, 8
PAGE_SIZE = 956  # the side pages ask frames at: a 478-px viewer on a 2x screen
STATS = "() => document.querySelector('#render .orbit-stage').parentElement.orbitStats"
ENTRIES = {"raw": "Anny body — raw coefficients", "metric": "anny-body-metric"}  # picker labels


def launch():
    from semantify.app import build_app
    from semantify.app.blocks import launch as serve

    demo = build_app()
    with socket.socket() as probe:  # a port of our own: other servers come and go on 786x
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve(demo, port, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    return demo


def first_frame(page) -> None:
    page.wait_for_function(
        "() => { const i = document.querySelector('#render img.render');"
        " return i && i.src.startsWith('data:image/jpeg'); }", timeout=120_000)


def open_entry(page, label: str) -> None:
    """Pick the picker entry starting with ``label`` and wait for its frame."""
    pushed = page.evaluate(STATS)["pushed"]
    page.locator("#picker input").click()
    page.get_by_role("option", name=label, exact=False).first.click()
    page.wait_for_function(f"n => ({STATS})().pushed > n", arg=pushed, timeout=120_000)


# A continuous drag played inside the page at ~60 events/s (a driver outside the page, one
# CDP round trip per move, manages only ~20/s on a busy machine): pointer events on the view,
# or input events on a slider's range (then its release), back and forth every 2 s.
DRAG_JS = """async ([selector, seconds, kind]) => {
  const target = document.querySelector(selector);
  const box = target.getBoundingClientRect();
  const x0 = box.left + box.width * 0.2, y0 = box.top + box.height / 2, span = box.width * 0.6;
  const pointer = (type, x) => target.dispatchEvent(new PointerEvent(type, {
    bubbles: true, cancelable: true, pointerId: 7, clientX: x, clientY: y0, button: 0,
    buttons: type === "pointerup" ? 0 : 1}));
  const low = Number(target.min), high = Number(target.max);
  const slide = (share) => { target.value = String(low + (high - low) * share);
                             target.dispatchEvent(new Event("input", {bubbles: true})); };
  if (kind === "view") pointer("pointerdown", x0);
  else target.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true}));
  const started = performance.now();
  let step = 0;
  while (performance.now() - started < seconds * 1000) {
    const phase = (step % 120) / 60, share = phase <= 1 ? phase : 2 - phase;
    if (kind === "view") pointer("pointermove", x0 + span * share);
    else slide(0.2 + 0.6 * share);
    step += 1;
    await new Promise(resolve => setTimeout(resolve, 16));
  }
  const elapsed = (performance.now() - started) / 1000;
  if (kind === "view") pointer("pointerup", x0);
  else target.dispatchEvent(new PointerEvent("pointerup", {bubbles: true}));
  return [elapsed, step / elapsed];
}"""


def drag(page, selector: str, seconds: float, kind: str = "view") -> tuple[float, float, dict]:
    """Drag ``selector`` for ``seconds``: (seconds, pointer events/s, frames counted)."""
    before = page.evaluate(STATS)
    elapsed, rate = page.evaluate(DRAG_JS, [selector, seconds, kind])
    during = page.evaluate(STATS)
    return elapsed, rate, {k: during[k] - before[k] for k in ("frames", "pushed", "dropped")}


def release_delay(page, kind: str = "view") -> float:
    """Milliseconds from the release of the last drag to its full frame on the page."""
    shown, released = ("lastFullAt", "releasedAt") if kind == "view" else (
        "sliderFullAt", "sliderReleasedAt")
    page.wait_for_function(f"() => {{ const s = ({STATS})(); return s.{shown} > s.{released}; }}",
                           timeout=30_000)
    stats = page.evaluate(STATS)
    return stats[shown] - stats[released]


@contextlib.contextmanager
def app_page():
    """The app served here, open in Chromium at 1366x768 on its first frame: the page."""
    from playwright.sync_api import sync_playwright

    demo = launch()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(demo.local_url, timeout=120_000)
            first_frame(page)
            yield page
            browser.close()
    finally:
        demo.close()


def bench_drag(entries) -> None:
    with app_page() as page:
        for entry in entries:
            open_entry(page, ENTRIES[entry])
            rates, delays, moves = [], [], []
            for _ in range(ROUNDS):
                elapsed, pointer_rate, counted = drag(page, "#render .orbit-stage",
                                                      DRAG_SECONDS)
                rates.append(counted["frames"] / elapsed)
                moves.append(pointer_rate)
                delays.append(release_delay(page))
                page.wait_for_timeout(300)
            print(f"{entry}: view drag {statistics.median(rates):5.1f} frames/s reach the "
                  f"page (rounds {', '.join(f'{r:.1f}' for r in rates)}; pointer events "
                  f"{statistics.median(moves):.0f}/s); full frame "
                  f"{statistics.median(delays):4.0f} ms after release (rounds "
                  f"{', '.join(f'{d:.0f}' for d in delays)})")
            rates, delays = [], []
            for _ in range(ROUNDS):
                elapsed, _, counted = drag(page, "#slider-3 input[type=range]",
                                           DRAG_SECONDS, "slider")
                rates.append((counted["frames"] + counted["pushed"]) / elapsed)
                delays.append(release_delay(page, "slider"))
                page.wait_for_timeout(500)
            print(f"{entry}: slider drag {statistics.median(rates):5.1f} frames/s reach the "
                  f"page (rounds {', '.join(f'{r:.1f}' for r in rates)}); full frame "
                  f"{statistics.median(delays):4.0f} ms after release (rounds "
                  f"{', '.join(f'{d:.0f}' for d in delays)})")


def mouse_drag(page, selector: str, seconds: float) -> tuple[float, float, dict]:
    """Drag the thumb of the range ``selector`` with the browser's mouse, back and forth over
    60% of its track for ``seconds``: (seconds, mouse moves/s, frames counted)."""
    track = page.locator(selector)
    box = track.bounding_box()
    share = page.evaluate("e => (e.value - e.min) / (e.max - e.min)", track.element_handle())
    y = box["y"] + box["height"] / 2
    x = box["x"] + box["width"] * share
    before = page.evaluate(STATS)
    page.mouse.move(x, y)
    page.mouse.down()
    started, moves = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        phase = (moves % 120) / 60
        along = 0.2 + 0.6 * (phase if phase <= 1 else 2 - phase)
        page.mouse.move(box["x"] + box["width"] * along, y)
        moves += 1
    elapsed = time.perf_counter() - started
    page.mouse.up()
    during = page.evaluate(STATS)
    return elapsed, moves / elapsed, {k: during[k] - before[k] for k in ("frames", "pushed")}


def bench_mouse(entries) -> None:
    with app_page() as page:
        for entry in entries:
            open_entry(page, ENTRIES[entry])
            page.locator("#slider-3").scroll_into_view_if_needed()
            rates, moves, delays = [], [], []
            for _ in range(ROUNDS):
                elapsed, rate, counted = mouse_drag(page, "#slider-3 input[type=range]",
                                                    DRAG_SECONDS)
                rates.append((counted["frames"] + counted["pushed"]) / elapsed)
                moves.append(rate)
                delays.append(release_delay(page, "slider"))
                page.wait_for_timeout(500)
            print(f"{entry}: mouse slider drag {statistics.median(rates):5.1f} frames/s "
                  f"reach the page, worst round {min(rates):.1f} (rounds "
                  f"{', '.join(f'{r:.1f}' for r in rates)}; mouse moves "
                  f"{statistics.median(moves):.0f}/s); full frame "
                  f"{statistics.median(delays):4.0f} ms after release (worst "
                  f"{max(delays):.0f})")


def serve_views(count: int) -> None:
    """The app in this process with ``count`` views of raw anny-body opened as pages open
    them (each follows slider drags); prints one JSON line {url, component, views}, then
    serves until killed. The sessions bench runs this in a process of its own, so the
    clients' work is not the server's."""
    import json

    import httpx
    import torch

    from semantify.app import view as app_view
    from semantify.app.catalog import Entry
    from semantify.app.runtime import runtime as app_runtime
    from semantify.app.runtime import warm_up
    from semantify.app.session import Session
    from semantify.models import ModelRef

    demo = launch()
    service = demo.frame_service
    entry = Entry("raw-anny-body", "", ModelRef("anny-body"))
    warm_up(entry)  # as a public server does at start: drivers compiled, imports done
    runtime = app_runtime(entry)
    with torch.no_grad():
        start = app_view.opened(Session(), runtime)
    views = []
    for _ in range(count):
        views.append(service.open())
        service.show(views[-1], app_view.scene(start, runtime, start.vertices))
        service.follow(views[-1], app_view.follow(start, runtime))
    config = httpx.get(demo.local_url + "config").json()
    component = next(c["id"] for c in config["components"]
                     if c.get("props", {}).get("elem_id") == "render")
    print(json.dumps({"url": demo.local_url, "component": component, "views": views}),
          flush=True)
    while True:
        time.sleep(3600)


def bench_sessions(sliders: bool = False) -> None:
    """CLIENTS views asking frames as pages do, one in flight, plus one flooding view, against
    the app in a process of its own. Camera frames (an orbit of one body), or with
    ``sliders`` draft frames of a slider drag on raw anny-body: each request carries the
    slider's value, so the server rebuilds the mesh before drawing."""
    import json
    import subprocess
    import sys

    import httpx

    server = subprocess.Popen([sys.executable, __file__, "--serve-views", str(CLIENTS + 1)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = json.loads(server.stdout.readline())
        url = ready["url"].rstrip("/") + "/gradio_api/component_server"

        def client(index: int, flood: bool = False) -> list:
            view = ready["views"][index]
            results = []
            with httpx.Client(timeout=60) as http:
                def ask(seq: int):
                    data = {"view": view, "seq": seq, "quality": "draft", "size": PAGE_SIZE}
                    if sliders:  # slot 3 dragged back and forth
                        data["values"] = [[3, 0.2 + 0.6 * ((seq % 20) / 19)]]
                    else:
                        data["azimuth"] = seq * 3.0
                    body = {"session_hash": f"bench{index}", "component_id": ready["component"],
                            "fn_name": "frame", "data": data}
                    started = time.perf_counter()
                    reply = http.post(url, json=body)
                    reply.raise_for_status()
                    return time.perf_counter() - started, reply.json()
                if flood:
                    with concurrent.futures.ThreadPoolExecutor(FLOOD) as pool:
                        results = list(pool.map(ask, range(1, REQUESTS * FLOOD + 1)))
                else:
                    for seq in range(1, REQUESTS + 1):
                        results.append(ask(seq))
            return results

        errors, good, flood = [], [], []
        lock = threading.Lock()

        def run(index: int) -> None:
            try:
                out = client(index, flood=index == CLIENTS)
                with lock:
                    (flood if index == CLIENTS else good).extend(out)
            except Exception as error:  # noqa: BLE001 - every failure counts as one error
                with lock:
                    errors.append(repr(error))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS + 1)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        drawn = sorted(t for t, reply in good if "image" in reply)
        later = sorted(t for i, (t, reply) in enumerate(good)  # each client's own order
                       if i % REQUESTS >= 3 and "image" in reply)
        refused = sum(1 for _, reply in flood if "dropped" in reply)
        what = "slider-drag" if sliders else "camera"
        print(f"sessions: {CLIENTS} clients x {REQUESTS} {what} frames (+1 flooding {FLOOD} "
              f"in parallel): {len(drawn)}/{len(good)} drawn, p50 "
              f"{1000 * statistics.median(drawn):.0f} ms, p95 "
              f"{1000 * drawn[int(0.95 * (len(drawn) - 1))]:.0f} ms (after each client's first "
              f"three, as all start at once: {1000 * later[int(0.95 * (len(later) - 1))]:.0f} "
              f"ms), errors {len(errors)}; flood: {refused}/{len(flood)} refused; "
              f"{elapsed:.1f} s")
    finally:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("drag", "mouse", "sessions", "slider-sessions"))
    parser.add_argument("--entries", default="raw,metric",
                        help=f"comma-separated, of {', '.join(ENTRIES)}")
    parser.add_argument("--serve-views", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_views:
        serve_views(args.serve_views)
        return
    if args.only in (None, "drag"):
        bench_drag(args.entries.split(","))
    if args.only in (None, "mouse"):
        bench_mouse(args.entries.split(","))
    if args.only in (None, "sessions"):
        bench_sessions()
    if args.only in (None, "slider-sessions"):
        bench_sessions(sliders=True)


if __name__ == "__main__":
    main()
