"""Time and accuracy of metric refinement for one slider move (B=1), as the app calls it.

Run: ANNY_CACHE_DIR=.cache/anny .venv/bin/python bench/metric_fit.py [SLIDERS]
Prints the median ms per ``SliderSet.coefficients`` call for small moves of one slider
(a drag), jumps to random values, and the mapper alone, with the worst measurement miss after each.
"""

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


if __name__ == "__main__":
    torch.set_num_threads(min(2, torch.get_num_threads()))
    main(*sys.argv[1:])
