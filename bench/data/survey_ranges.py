"""Derive the per-measurement survey ranges a metric set's sliders must cover.

    python bench/data/survey_ranges.py

Writes semantify/measurements/survey_ranges.json (committed; this script documents and
reproduces it) from bench/data/anthropometric_surveys.json: for each measurement NHANES has
(height, mass, waist), the lowest and highest value of the region bench/metric_person.py draws
its requests from (the survey's 99% region given sex: normal scores of height, BMI and the
waist's copula noise within the chi-square 99% quantile for 3 degrees of freedom, which holds
the 2-degree one of height-and-mass requests; each score clipped to the survey's p0.5..p99.5,
as the draws are), over both sexes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from metric_person import CHI2_99, SURVEYS, WAIST_BMI_R, _probit  # noqa: E402

OUT = ROOT / "semantify" / "measurements" / "survey_ranges.json"
GRID = 161  # points per score axis of the ball: mass edges within about 0.05 kg


def region_edges() -> dict[str, tuple[float, float]]:
    """{name: (low, high)} of height, mass and waist over the 99% region, both sexes."""
    data = json.loads(SURVEYS.read_text())
    levels = np.array([_probit(p / 100) for p in data["percentiles"]])
    radius = CHI2_99[3] ** 0.5
    axis = np.linspace(-radius, radius, GRID)
    z_height, z_bmi, noise = (a.ravel() for a in np.meshgrid(axis, axis, axis))
    points = np.stack([z_height, z_bmi, noise], 1)
    length = np.linalg.norm(points, axis=1, keepdims=True)
    points = np.concatenate([points[length[:, 0] <= radius],  # the ball and its surface
                             points[length[:, 0] > 0] / length[length[:, 0] > 0] * radius])
    z_height, z_bmi, noise = points.T
    z_waist = WAIST_BMI_R * z_bmi + (1 - WAIST_BMI_R ** 2) ** 0.5 * noise
    edges: dict[str, list[float]] = {}
    for sex in ("men", "women"):
        table = data["nhanes"][sex]

        def draw(name, z, table=table):
            return np.interp(np.clip(z, levels[0], levels[-1]), levels, table[name])

        height = draw("height_cm", z_height)
        values = {"height_cm": height, "mass_kg": draw("bmi", z_bmi) * (height / 100) ** 2,
                  "waist_cm": draw("waist_cm", z_waist)}
        for name, v in values.items():
            low, high = edges.get(name, (np.inf, -np.inf))
            edges[name] = [min(low, float(v.min())), max(high, float(v.max()))]
    return {name: (round(low, 2), round(high, 2)) for name, (low, high) in edges.items()}


def main() -> None:
    record = json.loads(OUT.read_text())
    record["ranges"] = [{"name": n, "low": lo, "high": hi}
                        for n, (lo, hi) in region_edges().items()]
    OUT.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["ranges"]))


if __name__ == "__main__":
    main()
