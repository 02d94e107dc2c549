"""Public mode under attack: hostile sessions flood heavy jobs, view events and frames while a
new visitor opens the page in Chromium and drags the view with real mouse events.

The server runs in its own process in public mode, behind a simulated proxy
(``SEMANTIFY_BEHIND_PROXY=1``): each client's address is the ``X-Forwarded-For`` hop the proxy
would add, so one machine can play several visitors. By default the attacker is one address
with ``--sessions`` sessions; ``--addresses N`` spreads them over N addresses (the worst case:
each address is entitled to its own turn).

The attack runs in a separate process at the lowest priority (nice 19): a real attacker's
CPU is not the server's. Prints: the page's HTML answer time for a plain client, the
visitor's page load (navigation to the first frame on screen), the visitor's frame round
trips (request to answer, as Chromium timed them) p50/p95/max, how many attacker requests were
refused, the server's peak memory (VmHWM) and any file it wrote outside its
cache root.

Run: `python bench/hostile.py [--sessions 40] [--addresses 1] [--seconds 20]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from app import free_port, percentile  # noqa: E402 - bench/app.py's helpers

VICTIM = "10.9.9.9"
SERVER = """
import json, os, sys, threading, time
from semantify.app import AppConfig, build_app, launch
demo = build_app(AppConfig.create(public=True))
viewer = next(i for i, b in demo.blocks.items() if getattr(b, "elem_id", None) == "render")
def dump():  # bench scaffolding: which views exist, and whose turn they take
    while True:
        views = {k: v.party for k, v in list(demo.frame_service._views.items())}
        with open(sys.argv[1] + ".tmp", "w") as f:
            json.dump({"viewer": viewer, "views": views}, f)
        os.replace(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(0.5)
threading.Thread(target=dump, daemon=True).start()
launch(demo, port=int(sys.argv[2]), server_name="127.0.0.1", quiet=True)
"""


def attacker_address(i: int, addresses: int) -> str:
    return f"10.0.{(i % addresses) // 250}.{(i % addresses) % 250 + 1}"


class Attack:
    """``sessions`` hostile sessions: each floods heavy jobs and slider moves through the
    queue, and frames of its own view through the viewer's channel."""

    def __init__(self, url: str, registry: Path, sessions: int, addresses: int,
                 kinds: str = "heavy,moves,frames"):
        self.url, self.registry, self.kinds = url, registry, kinds.split(",")
        self.sessions, self.addresses = sessions, addresses
        self.stop = threading.Event()
        self.counts = {"heavy": 0, "heavy_refused": 0, "moves": 0, "moves_refused": 0,
                       "frames": 0, "frames_dropped": 0}
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def start(self) -> None:
        from gradio_client import Client

        clients = []
        for i in range(self.sessions):
            address = attacker_address(i, self.addresses)
            client = Client(self.url, verbose=False, ssl_verify=False,
                            headers={"X-Forwarded-For": address})
            client.predict(api_name="/start")
            clients.append((client, address))
        time.sleep(1.0)  # the registry names the new views
        views = json.loads(self.registry.read_text())
        mine = [v for v, party in views["views"].items() if party.startswith("10.0.")]
        for client, _ in clients:
            if "heavy" in self.kinds:
                self._spawn(self._heavy, client)
            if "moves" in self.kinds:
                self._spawn(self._moves, client)
        for view in mine if "frames" in self.kinds else ():
            self._spawn(self._frames, view, views["viewer"], views["views"][view])

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _heavy(self, client) -> None:
        apis = ("/turntable", "/export", "/ramp")
        i = 0
        while not self.stop.is_set():
            api = apis[i % len(apis)]
            args = (False,) if api == "/export" else (0,) if api == "/ramp" else ()
            try:
                client.predict(*args, api_name=api)
                self.count("heavy")
            except Exception:  # noqa: BLE001 - refused before the queue
                self.count("heavy_refused")
                time.sleep(0.05)
            i += 1

    def _moves(self, client) -> None:
        i = 0
        while not self.stop.is_set():
            try:
                client.predict(0, 150 + (i % 40), api_name="/move")
                self.count("moves")
            except Exception:  # noqa: BLE001 - refused before the queue
                self.count("moves_refused")
                time.sleep(0.02)
            i += 1

    def _frames(self, view: str, viewer: int, address: str) -> None:
        import httpx

        seq = 0
        with httpx.Client(headers={"X-Forwarded-For": address}, timeout=60) as http:
            while not self.stop.is_set():
                seq += 1
                body = {"data": {"view": view, "seq": seq, "azimuth": seq % 360,
                                 "elevation": 10, "distance": 1, "pan": [0, 0],
                                 "quality": "full" if seq % 4 == 0 else "draft"},
                        "component_id": viewer, "session_hash": f"attack{view[:8]}",
                        "fn_name": "frame"}
                try:
                    reply = http.post(f"{self.url}gradio_api/component_server", json=body)
                    dropped = "dropped" in reply.json()
                except Exception:  # noqa: BLE001 - the server is shutting down
                    dropped = True
                self.count("frames_dropped" if dropped else "frames")
                if dropped:
                    time.sleep(0.01)

    def end(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def visitor(url: str, seconds: float) -> dict:
    """A new visitor in Chromium: page load to the first frame, then real mouse drags."""
    from playwright.sync_api import sync_playwright

    timings: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1366, "height": 768},
                                      extra_http_headers={"X-Forwarded-For": VICTIM})
        page = context.new_page()

        def finished(request) -> None:
            if request.url.endswith("/component_server") or "component_server" in request.url:
                timing = request.timing
                if timing.get("responseEnd", -1) > 0:
                    timings.append(timing["responseEnd"] / 1000)

        slow = []
        page.on("requestfinished", lambda r: slow.append(
            (round(r.timing["responseEnd"] / 1000, 2), r.url[-60:]))
            if r.timing.get("responseEnd", 0) > 1000 else None)
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function("() => { const i = document.querySelector('.orbit-frame');"
                               " return i && i.src.startsWith('data:image/jpeg'); }",
                               timeout=120_000)
        load = time.perf_counter() - start
        if os.environ.get("BENCH_SLOW"):
            print("slow page-load requests:", slow, file=sys.stderr)
        page.on("requestfinished", finished)
        stage = page.locator(".orbit-stage").first
        box = stage.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        end = time.monotonic() + seconds
        step = 0
        while time.monotonic() < end:
            page.mouse.move(x, y)
            page.mouse.down()
            for _ in range(20):
                step += 1
                page.mouse.move(x + 60 * ((step % 20) / 20 - 0.5), y, steps=1)
                page.wait_for_timeout(30)
            page.mouse.up()
            page.wait_for_timeout(300)  # the full frame on release
        browser.close()
    return {"load": load, "frames": timings}


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1000
    return float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--addresses", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--kinds", default="heavy,moves,frames",
                        help="what the attackers flood (default: all three)")
    parser.add_argument("--attack", nargs=5, help=argparse.SUPPRESS)  # the attacking process
    args = parser.parse_args(argv)
    if args.attack:
        url, registry, sessions, addresses, kinds = args.attack
        attack = Attack(url, Path(registry), int(sessions), int(addresses), kinds)
        attack.start()
        print("ready", flush=True)
        sys.stdin.read()
        attack.end()
        print(json.dumps(attack.counts), flush=True)
        return 0
    work = Path(tempfile.mkdtemp(prefix="semantify-bench-hostile-"))
    cache, registry, port = work / "cache", work / "views.json", free_port()
    env = {**os.environ, "SEMANTIFY_CACHE_DIR": str(cache), "SEMANTIFY_BEHIND_PROXY": "1"}
    env.pop("GRADIO_TEMP_DIR", None)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(registry), str(port)],
                              env=env, cwd=work, stdout=subprocess.DEVNULL,
                              stderr=(work / "server.log").open("w"))
    url = f"http://127.0.0.1:{port}/"
    try:
        import httpx

        for _ in range(1200):
            if server.poll() is not None:
                raise SystemExit("the server stopped at start-up: " + (
                    work / "server.log").read_text()[-2000:])
            try:
                if httpx.get(url, timeout=2).status_code == 200 and registry.exists():
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        # The attack runs in its own process at the lowest priority: a real attacker's CPU
        # is not the server's, and here both share two cores.
        attack = subprocess.Popen(
            [sys.executable, __file__, "--attack", url, str(registry), str(args.sessions),
             str(args.addresses), args.kinds], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, preexec_fn=lambda: os.nice(19))
        attack.stdout.readline()  # "ready": every hostile session is open
        time.sleep(5)  # the flood is on
        probes = []
        for _ in range(10):  # the server's own answer time for the page, without a browser
            start = time.perf_counter()
            httpx.get(url, timeout=60)
            probes.append(time.perf_counter() - start)
        seen = visitor(url, args.seconds)
        counts, _ = attack.communicate("", timeout=300)  # stdin closed: the attack ends
        memory = peak_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    outside = [p for p in work.rglob("*") if p != cache and not p.is_relative_to(cache)
               and p != registry and p.name not in ("views.json.tmp", "server.log")]
    frames = seen["frames"]
    print(f"attack: {args.sessions} sessions from {args.addresses} address(es), "
          f"{args.seconds:.0f} s of dragging by the visitor")
    print(f"  attacker requests: {counts.strip()}")
    print(f"the page's HTML, fetched by a plain client: median {statistics.median(probes):.2f} s, "
          f"max {max(probes):.2f} s")
    print(f"visitor page load (Chromium, navigation to first frame): {seen['load']:.1f} s "
          "(target <= 5)")
    if frames:
        print(f"visitor frames: {len(frames)}, round trip p50 {statistics.median(frames):.2f} s,"
              f" p95 {percentile(frames, 95) / 1000:.2f} s, "
              f"max {max(frames):.2f} s (target p95 <= 1)")
    else:
        print("visitor frames: none answered")
    print(f"server peak memory: {memory:.0f} MB (target < 3000)")
    print(f"files written outside the cache root: {len(outside)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
