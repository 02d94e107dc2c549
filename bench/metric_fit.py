"""Time and accuracy of metric refinement for one slider move (B=1), as the app calls it.

Run: ANNY_CACHE_DIR=.cache/anny .venv/bin/python bench/metric_fit.py [SLIDERS]
(with the app's torch threads per request, semantify.app.blocks.VIEW_THREADS).
Prints the median ms per ``SliderSet.coefficients`` call for small moves of one slider
(a drag), jumps to random values, and the mapper alone, with the worst measurement miss after
each; on a set with a body model, also whole shapes asked with height and mass (and a waist)
set and the rest free, ordinary and impossible ones.
"""

import itertools
import statistics
import sys
import time

import torch

from semantify.measurements.anthropometer import Anthropometer
from semantify.sets.sliders import SliderSet


def main(path: str = "sliders/anny-body-metric") -> None:
    sliders = SliderSet.load(path)
    model = sliders.model
    meter = Anthropometer.for_model(model)
    names = sliders.names
    low = torch.tensor([s.low for s in sliders.sliders])
    high = torch.tensor([s.high for s in sliders.sliders])
    default = torch.tensor([s.default for s in sliders.sliders])
    generator = torch.Generator().manual_seed(0)
    drag = [default.clone() for _ in range(12)]
    for i, row in enumerate(drag):
        row[0] += (i - 6) * 0.01 * (high[0] - low[0])  # height moved 1 % of its range a time
    jumps = [low + (high - low) * (0.25 + 0.5 * torch.rand(len(names), generator=generator))
             for _ in range(8)]
    sliders.coefficients(default[None])  # warm up
    for label, rows, refine in (("mapper only", drag, False), ("drag", drag, True),
                                ("jump", jumps, True)):
        times, misses = [], []
        for row in rows:
            start = time.perf_counter()
            coefficients = sliders.coefficients(row[None], refine=refine)
            times.append(time.perf_counter() - start)
            with torch.no_grad():
                measured = meter.measure(model(coefficients))
            misses.append(max(abs(float(measured[n][0]) - float(row[i])) * (10 if
                              n.endswith("_cm") else 1) for i, n in enumerate(names)
                              if n in measured))  # the build slider is not a measurement
        print(f"{label:<12} {1000 * statistics.median(times):7.1f} ms median  "
              f"{1000 * max(times):7.1f} ms max  worst miss {max(misses):.2f} (mm or kg)")
    if "mass_kg" in names and sliders.body_model is not None:
        requests(sliders)


def requests(sliders: SliderSet) -> None:
    """Shapes asked as people ask them (height and mass set, alone or with a waist; the rest
    free), ordinary and impossible: 5 heights x 5 masses x 3, timed whole."""
    times = []
    for height, mass, waist in itertools.product((150, 162.5, 175, 185, 195),
                                                 (45, 68.7, 90, 110, 140), (None, 80, 111.2)):
        asked = {"height_cm": height, "mass_kg": mass}
        if waist is not None:
            asked["waist_cm"] = waist
        start = time.perf_counter()
        sliders.shape(asked)
        times.append((time.perf_counter() - start, asked))
    worst = max(times, key=lambda row: row[0])
    print(f"{'requests':<12} {1000 * statistics.median(t for t, _ in times):7.1f} ms median  "
          f"{1000 * worst[0]:7.1f} ms max ({worst[1]}), {len(times)} shapes with free sliders")


if __name__ == "__main__":
    from semantify.app.blocks import VIEW_THREADS

    torch.set_num_threads(VIEW_THREADS)  # as the app's server refines a slider move
    main(*sys.argv[1:])
