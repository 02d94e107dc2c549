"""How long other Python threads wait while frames are drawn: moderngl's own calls (the
interpreter's lock held through the draw) against viewer.unlocked's (released while the driver
draws), in one run on the same frames.

A second thread sleeps 1 ms in a loop while the main thread draws Anny frames at the app's
sizes (full 768 px with MSAA, drafts at 384); the sleeps' lengths show how long a waiting
thread (the web server's event loop, in the app) is held up.

Run: `python bench/render_lock.py [--seconds 5]`
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import torch

import viewer.interactive
from semantify.models import load_model
from semantify.pictures.renderers import interactive_renderer
from viewer import OrbitCamera


def run(renderer, vertices, seconds: float) -> dict:
    stop, sleeps = threading.Event(), []

    def probe():
        while not stop.is_set():
            start = time.perf_counter()
            time.sleep(0.001)
            sleeps.append(time.perf_counter() - start)

    thread = threading.Thread(target=probe)
    thread.start()
    frames, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        quality = "full" if frames % 4 == 0 else "draft"
        renderer.render(vertices, OrbitCamera(frames * 7 % 360, 10, None, (0, 0)),
                        quality=quality, size=768)
        frames += 1
    stop.set()
    thread.join()
    sleeps.sort()
    return {"frames/s": frames / seconds, "sleeps": len(sleeps),
            "median ms": 1000 * statistics.median(sleeps),
            "p95 ms": 1000 * sleeps[int(0.95 * len(sleeps))], "max ms": 1000 * sleeps[-1]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    model = load_model("anny-body")
    with torch.no_grad():
        vertices = model(model.default_coefficients()[None])[0].numpy()
    renderer = interactive_renderer(model, size=768)
    renderer.render(vertices)  # warm
    found = viewer.interactive.unlocked_calls
    figures = {"unlocked (viewer.unlocked)": run(renderer, vertices, args.seconds)}
    viewer.interactive.unlocked_calls = lambda: None
    figures["moderngl's calls"] = run(renderer, vertices, args.seconds)
    viewer.interactive.unlocked_calls = found
    print(f"a 1 ms sleep in another thread while Anny frames are drawn ({args.seconds:.0f} s "
          "each; 1 full 768 px MSAA frame in 4, the rest drafts):")
    for name, row in figures.items():
        print(f"  {name:28s} " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else
                                            f"{k} {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
