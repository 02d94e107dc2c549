"""Cross-talk of a metric slider set: one slider swept, the others at their defaults.

    python bench/metric_crosstalk.py [SLIDERS] [--slider waist_cm] [--grid 13]

Prints, over the slider's whole range and over the part of it where every asked measurement is
met (within 5 mm and 1 kg): how far the unasked lengths (arm, shoulder, inseam) move
(max - min, cm) and the largest miss of each asked value. Outside that part the request is not
a human body (for example a 148 cm waist on a 78 kg, 167 cm body with a 100 cm chest):
refinement then keeps the body human and misses the asked values instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache/anny"))
MET = {"kg": 1.0, "cm": 0.5}  # within 1 kg, 5 mm
UNASKED = ("arm_cm", "shoulder_cm", "inseam_cm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sliders", nargs="?", default=str(ROOT / "sliders/anny-body-metric"))
    parser.add_argument("--slider", default="waist_cm")
    parser.add_argument("--grid", type=int, default=13)
    args = parser.parse_args()

    from semantify.measurements.anthropometer import Anthropometer
    from semantify.sets.sliders import SliderSet

    sliders = SliderSet.load(args.sliders)
    model, meter = sliders.model, Anthropometer.for_model(sliders.model)
    i = sliders.names.index(args.slider)
    low, high = sliders.ranges(sliders.defaults)[args.slider]  # coupled: its band
    values = torch.tensor(sliders.defaults, dtype=torch.float64).repeat(args.grid, 1)
    values[:, i] = torch.linspace(low, high, args.grid, dtype=torch.float64)
    with torch.no_grad():
        measured = meter.measure(model(sliders.coefficients(values)))
    miss = np.stack([(measured[s.name].double() - values[:, j]).abs().numpy()
                     for j, s in enumerate(sliders.sliders)], axis=1)
    limits = np.array([MET[s.unit] for s in sliders.sliders])
    met = (miss <= limits).all(axis=1)
    asked = values[:, i].numpy()
    print(f"{args.slider} from {low:g} to {high:g} ({args.grid} steps), others at "
          "their defaults; met:", "".join("x" if m else "." for m in met))
    for label, rows in (("whole range", np.ones_like(met)), ("where met", met)):
        if not rows.any():
            continue
        spread = ", ".join(f"{n} {np.ptp(measured[n].numpy()[rows]):.2f}" for n in UNASKED)
        worst = ", ".join(f"{s.name} {miss[rows, j].max() * (10 if s.unit == 'cm' else 1):.2f}"
                          f" {'mm' if s.unit == 'cm' else s.unit}"
                          for j, s in enumerate(sliders.sliders))
        print(f"  {label} [{asked[rows].min():.1f}, {asked[rows].max():.1f}]: unasked move (cm) "
              f"{spread}; asked miss {worst}")


if __name__ == "__main__":
    torch.set_num_threads(min(2, torch.get_num_threads()))
    main()
