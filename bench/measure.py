"""Anthropometry speed: time per sample when measuring a batch of body meshes.

    python bench/measure.py [--model anny-body] [--batch-size 64] [--repeats 5]

Prints the best-of-``repeats`` wall time of ``Anthropometer.measure`` on a batch of sampled
bodies, per batch and per sample, with the share spent in the three girths and in the volume.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache" / "anny"))


def best_time(function, repeats: int) -> float:
    """Smallest wall time of ``function()`` over ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="anny-body")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    from semantify.measurements.anthropometer import Anthropometer, enclosed_volume
    from semantify.models import load_model

    model = load_model(args.model)
    meter = Anthropometer.for_model(model)
    with torch.no_grad():
        vertices = model(model.sample(range(args.batch_size), seed=0))
    marks = meter.landmarks
    total = best_time(lambda: meter.measure(vertices), args.repeats)
    girths = best_time(lambda: [meter._girth(vertices.numpy(), g)
                                for g in (marks.chest, marks.waist, marks.hips)], args.repeats)
    volume = best_time(lambda: enclosed_volume(vertices.numpy(), meter.faces), args.repeats)
    print(f"model {args.model}, {vertices.shape[1]} vertices, {len(meter.faces)} faces, "
          f"batch {args.batch_size}, torch threads {torch.get_num_threads()}")
    print(f"measure: {total * 1000:.0f} ms per batch, {total / args.batch_size * 1000:.2f} ms "
          f"per sample ({args.batch_size / total:.0f} samples/s)")
    print(f"  girths {girths * 1000:.0f} ms, volume {volume * 1000:.0f} ms")


if __name__ == "__main__":
    main()
