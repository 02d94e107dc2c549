"""Figures for the web app, measured over localhost with gradio_client against the real server.

- cold start: from launching the server process to the first rendered frame;
- slider move round trip (512x512 render, JPEG), p50/p95 over 200 moves;
- photo to shape round trip with the ViT-B-32 architecture (random weights: timing only);
- 20 concurrent clients x 20 slider moves, all sessions open first: errors and p95
  (``--crowd URL`` against any running server);
- the move's server-side work alone (mesh, render, JPEG, measurements), in process, to tell
  it apart from Gradio's queue and gradio_client's round trip.

Run: `python bench/app.py` (ANNY_CACHE_DIR set as in the Makefile); `--only move --moves 60`
times the slider moves alone, to compare variants quickly.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

MOVES = 200
# gradio_client builds two TLS contexts (loading the CA bundle, ~10-15 ms each here) per call
# even for http:// URLs; that is client-side overhead a browser never pays, so it is skipped.
CLIENT_OPTIONS = {"verbose": False, "ssl_verify": False}
CLIENTS, CLIENT_MOVES = 20, 20
RAW = "raw-anny-body"  # the picker id of raw anny-body
PHOTOS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vit_slider_set(folder: Path) -> Path:
    """A slider set on ViT-B-32 with random weights and an untrained mapper (timing only)."""
    from semantify.clip import ClipSpec
    from semantify.models import ModelRef
    from semantify.sets.mapper import Mapper
    from semantify.sets.sliders import Slider, TrainedSliders

    ref = ModelRef("anny-body")
    model = ref.load()
    words = ["tall", "fat", "muscular", "thin", "short", "curvy"]
    sliders = [Slider(w, 15.0, 35.0, 25.0) for w in words]
    TrainedSliders(folder.name, sliders, ref, Mapper(len(words), model.num_coefficients, (64,)),
                   model.coefficient_names, ClipSpec.parse("ViT-B-32/random"),
                   "a 3D render of a {} person").save(folder)
    return folder


def percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


class StreamingClient:
    """A browser-like client: keep-alive HTTP, and it wakes on the result message itself.

    gradio_client checks for its result every 50 ms, which rounds every round trip up to a
    multiple of that; the page, like this client, joins the queue and then reads the event
    stream (which the server closes once the session has no event left).
    """

    def __init__(self, url: str):
        import uuid

        import httpx

        self.http = httpx.Client(base_url=url + "gradio_api/", timeout=60)
        self.session = uuid.uuid4().hex[:12]
        config = self.http.get(url + "config").json()
        self.fns = {d.get("api_name"): d["id"] for d in config["dependencies"]}

    def call(self, api_name: str, *data) -> list:
        import json

        self.http.post("queue/join", json={
            "data": list(data), "fn_index": self.fns[api_name], "session_hash": self.session,
            "event_data": None, "trigger_id": None}).raise_for_status()
        with self.http.stream("GET", "queue/data",
                              params={"session_hash": self.session}) as response:
            for line in response.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(f"{api_name} failed: {message}")
                    return message["output"]["data"]
        raise RuntimeError(f"{api_name}: the event stream closed without a result")


def compute_only(moves: int = 50) -> list[float]:
    """Seconds per move of the handler's work alone (mesh, render, JPEG, measurements)."""
    import torch

    from semantify.app import frames, view
    from semantify.app.catalog import Entry
    from semantify.app.runtime import Runtime
    from semantify.app.session import Session
    from semantify.app.viewport import FrameService
    from semantify.models import ModelRef

    torch.set_num_threads(1)  # as the server runs
    runtime = Runtime(Entry("raw-anny-body", "", ModelRef("anny-body")))
    service = FrameService(frames.jpeg_data_url)
    session = view.opened(Session(), runtime)
    times = []
    for i in range(moves):
        values = list(session.values)
        values[3] = 0.1 + 0.8 * (i % 2)
        t = time.perf_counter()
        session, _ = view.with_values(session, runtime, values)
        session, _ = view.frame(session, runtime, service)
        runtime.table(session.vertices, session.values)
        view.record(session, runtime)
        times.append(time.perf_counter() - t)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=MOVES, help="slider moves to time")
    parser.add_argument("--verify-tls", action="store_true",
                        help="let gradio_client build its TLS contexts (its default)")
    parser.add_argument("--only", choices=("all", "move"), default="all",
                        help="'move': cold start and slider moves only")
    parser.add_argument("--crowd", metavar="URL",
                        help="only the concurrent clients, against a server already running "
                             "at URL (an older checkout's, say)")
    parser.add_argument("--raw", default=RAW, help="the picker id of raw anny-body there "
                                                   f"(default {RAW}; 'raw:anny-body' before "
                                                   "the runtime redesign)")
    args = parser.parse_args(argv)
    if args.crowd:
        crowd(args.crowd.rstrip("/") + "/", args.raw)
        return 0
    if args.verify_tls:
        CLIENT_OPTIONS["ssl_verify"] = True
    from gradio_client import Client

    work = Path(tempfile.mkdtemp(prefix="semantify-bench-app-"))
    sliders = vit_slider_set(work / "vit-random")
    port = free_port()
    env = {**os.environ, "SEMANTIFY_CACHE_DIR": str(work / "cache")}
    code = ("import sys; from semantify.app import AppConfig, build_app, launch; "
            "launch(build_app(AppConfig.create([sys.argv[1]], public=False)), "
            f"port={port}, server_name='127.0.0.1', quiet=True)")
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-c", code, str(sliders)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(240):
            try:
                client = Client(url, **CLIENT_OPTIONS)
                break
            except Exception:  # noqa: BLE001 - the server is not up yet
                time.sleep(0.25)
        else:
            raise SystemExit("the server did not start within 60 s")
        client.predict(api_name="/start")
        cold = time.perf_counter() - started
        print(f"cold start to first frame: {cold:.1f} s")
        client.predict(RAW, api_name="/open")

        times = []
        for i in range(args.moves):
            t = time.perf_counter()
            client.predict(3, 0.1 + 0.8 * (i % 2), api_name="/move")
            times.append(time.perf_counter() - t)
        print(f"slider move round trip (gradio_client), 512x512, {args.moves} moves: p50 "
              f"{percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms "
              "(targets 60 / 120)")
        streaming = StreamingClient(url)
        streaming.call("start", None)
        streaming.call("open", None, RAW)
        stream_times = []
        for i in range(args.moves):
            t = time.perf_counter()
            streaming.call("move", None, 3, 0.1 + 0.8 * (i % 2))
            stream_times.append(time.perf_counter() - t)
        print(f"the same moves, browser-like client (no 50 ms polling): p50 "
              f"{percentile(stream_times, 50):.0f} ms, p95 {percentile(stream_times, 95):.0f} ms")
        if args.only == "all":
            photo_and_crowd(client, url, sliders, work)
    finally:
        server.terminate()
        server.wait(30)
    work_times = compute_only()
    print(f"the same move's server-side work alone (no Gradio): p50 "
          f"{percentile(work_times, 50):.0f} ms, p95 {percentile(work_times, 95):.0f} ms")
    return 0


def photo_and_crowd(client, url: str, sliders: Path, work: Path) -> None:
    """Print the photo-to-shape round trip, then 20 concurrent clients' slider moves."""
    from gradio_client import handle_file
    from PIL import Image

    from semantify.app.catalog import set_id

    client.predict(set_id(sliders), api_name="/open")
    photo = work / "photo.jpg"
    noise = np.random.default_rng(0).integers(0, 255, (900, 600, 3), np.uint8)
    Image.fromarray(noise).save(photo)
    client.predict([handle_file(str(photo))], api_name="/photos")  # loads ViT-B-32 once
    photo_times = []
    for _ in range(PHOTOS):
        t = time.perf_counter()
        client.predict([handle_file(str(photo))], api_name="/photos")
        photo_times.append(time.perf_counter() - t)
    print(f"photo to shape round trip (ViT-B-32, random weights), {PHOTOS} runs: median "
          f"{statistics.median(photo_times) * 1000:.0f} ms (target 1000)")

    crowd(url, RAW)


def crowd(url: str, raw: str) -> None:
    """CLIENTS sessions open raw anny-body (picker id ``raw``), then all move a slider
    CLIENT_MOVES times at once: p50/p95 per move and errors. Opening is not timed: 20 pages
    opening at once is another figure (cold start above)."""
    from gradio_client import Client

    errors, lags = [], []
    lock = threading.Lock()
    ready = threading.Barrier(CLIENTS)

    def user(seed: int):
        try:
            own = Client(url, **CLIENT_OPTIONS)
            own.predict(api_name="/start")
            own.predict(raw, api_name="/open")
        except Exception as error:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(repr(error))
            ready.abort()
            return
        ready.wait()
        try:
            for i in range(CLIENT_MOVES):
                t = time.perf_counter()
                own.predict(seed % 6, 0.2 + 0.6 * (i % 2), api_name="/move")
                with lock:
                    lags.append(time.perf_counter() - t)
        except Exception as error:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(repr(error))

    threads = [threading.Thread(target=user, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    print(f"{CLIENTS} concurrent clients x {CLIENT_MOVES} moves (all open first): "
          f"{len(errors)} errors, {len(lags)} moves, p50 {percentile(lags, 50):.0f} ms, "
          f"p95 {percentile(lags, 95):.0f} ms (target p95 500)")
    for error in errors[:3]:
        print("  error:", error)

if __name__ == "__main__":
    sys.exit(main())
