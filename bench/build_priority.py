"""Slider moves while a build runs beside the app, with the build at the app's priority and at
the build queue's (lightning_modules.build_queue.lower_priority).

Run: ANNY_CACHE_DIR=.cache/anny .venv/bin/python bench/build_priority.py [--moves 30]

A build's heaviest stage, generation with CLIP (ViT-B-32 architecture, random weights: real
cost, no meaning), runs in a process of its own, as the app's build queue runs it; this
process times refined moves of the shipped metric set (height moved, height and mass set) with
one torch thread, as the app's view workers do. Prints the median, 90th percentile and worst
move alone, beside a build at the same priority, and beside a build lowered by the queue.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from lightning_modules.build_queue import BUILD_NICENESS, lower_priority
from semantify.app.blocks import VIEW_THREADS
from semantify.sets.sliders import SliderSet

GENERATE = ["generate", "anny-body", "--samples", "100000", "--clip", "ViT-B-32/random",
            "--workers", "0"]


def moves(sliders: SliderSet, count: int) -> list[float]:
    times = []
    for i in range(count):
        start = time.perf_counter()
        sliders.shape(height_cm=160 + 0.5 * i, mass_kg=70)
        times.append(time.perf_counter() - start)
    return sorted(times)


def beside_a_build(sliders: SliderSet, count: int, lowered: bool) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        build = subprocess.Popen([sys.executable, "-m", "semantify", *GENERATE, "--out",
                                  str(Path(folder) / "data")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if lowered:
            lower_priority(build.pid)
        try:
            time.sleep(10)  # imports, the body model and CLIP loaded: generating
            assert build.poll() is None, "the build process ended early"
            return moves(sliders, count)
        finally:
            build.kill()
            build.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(VIEW_THREADS)  # as the app's server refines a slider move
    sliders = SliderSet.load("sliders/anny-body-metric")
    sliders.shape(height_cm=170, mass_kg=70)  # warm
    rows = [("alone", moves(sliders, args.moves)),
            ("beside a build, same priority", beside_a_build(sliders, args.moves, False)),
            (f"beside a build, niceness +{BUILD_NICENESS}",
             beside_a_build(sliders, args.moves, True))]
    print(f"refined move, {args.moves} moves each (ms): median / p90 / worst")
    for name, times in rows:
        p90 = times[int(0.9 * (len(times) - 1))]
        print(f"  {name:<32} {1000 * statistics.median(times):5.0f} / {1000 * p90:5.0f} / "
              f"{1000 * times[-1]:5.0f}")


if __name__ == "__main__":
    main()
