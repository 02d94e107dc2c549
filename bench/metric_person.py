"""Figures of a metric set with a body model: set values met, bodies that stay people.

Run: ANNY_CACHE_DIR=.cache/anny nice .venv/bin/python bench/metric_person.py [SLIDERS]
     [--requests 200] [--grid 5] [--steps 15] [--moves 12]

Prints, for ``SLIDERS`` (default the shipped ``sliders/anny-body-metric``):
1. survey requests: height and mass (and, every other request, the waist) drawn from NHANES
   2017-2020 per sex (bench/data/anthropometric_surveys.json: height and BMI independent, as
   their correlation is ~0; the waist by a Gaussian copula with BMI, r = 0.9), inside the
   survey's 99% region given sex (the issue's "joint range people have": the drawn normal
   scores' squared length within the chi-square 99% quantile) and inside the set's slider
   ranges, each asked with the other sliders free. How many meet every set value within
   5 mm / 1 kg, how many carry a note instead, how many miss silently, and how many free
   values leave their slider's range or fail a human check. The draws left out (outside the
   99% region, or beyond a slider: what the model's prior cannot make) are counted and asked
   too: each must carry a note, never miss silently;
2. the slider grid: height x mass over the sliders' whole ranges, alone, with the waist at its
   low and high end and with the build at each end: impossible corners included. Bodies
   failing a human check (proportions, semantify/measurements/human_checks.json; visible
   self-intersections) and silent misses (a set value missed by more than 5 mm / 1 kg with
   no note naming it);
3. sweeps: each slider alone across its range, the others free: the largest drop of the
   measured value between neighbouring steps and the largest coefficient step (share of the
   coefficient's range);
4. time of one refined move (a drag's release): height moved 0.5 % of its range with height
   and mass set, as the app asks it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from semantify.measurements.human import inhuman
from semantify.models.self_intersection import detector_for
from semantify.sets.coupling import MET
from semantify.sets.sliders import SliderSet

ROOT = Path(__file__).resolve().parents[1]
SURVEYS = ROOT / "bench" / "data" / "anthropometric_surveys.json"
WAIST_BMI_R = 0.9
CHI2_99 = {2: 9.2103, 3: 11.3449}  # the chi-square 99% quantile by degrees of freedom


def survey_requests(count: int, seed: int = 0, ranges: dict | None = None
                    ) -> tuple[list[dict[str, float]], dict[str, list]]:
    """``count`` {height_cm, mass_kg[, waist_cm]} requests drawn from NHANES per sex inside
    the survey's 99% region given sex and inside ``ranges`` ({name: (low, high)}), and the
    draws left out: {"outside 99%": [...], "beyond a slider": [...]}."""
    data = json.loads(SURVEYS.read_text())
    levels = np.array(data["percentiles"]) / 100
    nhanes = data["nhanes"]
    rng = np.random.default_rng(seed)
    normal_levels = np.array([_probit(p) for p in levels])
    out, left_out = [], {"outside 99%": [], "beyond a slider": []}
    i = 0
    while len(out) < count:
        sex = "men" if rng.random() < nhanes["count"]["men"] / nhanes["count"]["all"] else "women"
        table = nhanes[sex]
        z_height, z_bmi, noise = rng.standard_normal(3)
        z_waist = WAIST_BMI_R * z_bmi + (1 - WAIST_BMI_R ** 2) ** 0.5 * noise
        with_waist = bool(i % 2)

        def draw(name, z, table=table):
            z = float(np.clip(z, normal_levels[0], normal_levels[-1]))
            return float(np.interp(z, normal_levels, table[name]))

        height = draw("height_cm", z_height)
        request = {"height_cm": round(height, 1),
                   "mass_kg": round(draw("bmi", z_bmi) * (height / 100) ** 2, 1)}
        if with_waist:
            request["waist_cm"] = round(draw("waist_cm", z_waist), 1)
        scores = (z_height, z_bmi, noise) if with_waist else (z_height, z_bmi)
        if sum(z * z for z in scores) > CHI2_99[len(scores)]:
            left_out["outside 99%"].append(request)
        elif any(not low <= request[n] <= high for n, (low, high) in (ranges or {}).items()
                 if n in request):
            left_out["beyond a slider"].append(request)
        else:
            out.append(request)
            i += 1
    return out, left_out


def _probit(p: float) -> float:
    return float(torch.special.ndtri(torch.tensor(p, dtype=torch.float64)))


class Judge:
    """Measures shapes and says what is wrong with them."""

    def __init__(self, sliders):
        self.sliders = sliders
        self.detector = detector_for(sliders.model)

    def judge(self, request: dict[str, float], intersections: bool = False) -> dict:
        shape = self.sliders.shape(request)
        measured = shape.measurements()
        missed = [n for n, v in request.items() if shape.slider_set.sliders[
            shape.slider_set.names.index(n)].unit in MET and abs(measured[n] - v) > MET[
                shape.slider_set.sliders[shape.slider_set.names.index(n)].unit]]
        noted = " ".join(shape.notes)
        silent = [n for n in missed if shape.slider_set.sliders[
            shape.slider_set.names.index(n)].label not in noted]
        proportions = inhuman({k: torch.tensor([v]) for k, v in measured.items()})[0]
        crossing = bool(self.detector.visible(shape.vertices[None])[0]) if intersections else False
        outside = [s.name for s in self.sliders.sliders if s.name in shape.free
                   and s.measurement is not None and not s.low <= measured[s.name] <= s.high]
        return {"request": request, "shape": shape, "measured": measured, "missed": missed,
                "silent": silent, "proportions": proportions, "crossing": crossing,
                "outside": outside}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sliders", nargs="?", default=str(ROOT / "sliders/anny-body-metric"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--grid", type=int, default=5)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--moves", type=int, default=12)
    args = parser.parse_args()
    sliders = SliderSet.load(args.sliders)
    judge = Judge(sliders)
    sliders.shape(height_cm=170.0, mass_kg=70.0)  # warm up

    requests, left_out = survey_requests(
        args.requests, ranges={x.name: (x.low, x.high) for x in sliders.sliders})
    results = [judge.judge(r) for r in requests]
    print(f"survey requests: {len(results)} (height+mass, every other one + waist) inside the "
          f"survey's 99% region and the sliders' ranges; left out of "
          f"{len(results) + sum(map(len, left_out.values()))} draws: "
          + ", ".join(f"{len(v)} {k}" for k, v in left_out.items()))
    print(f"  met within 5 mm / 1 kg: {sum(not r['missed'] for r in results)}; "
          f"missed with a note: {sum(bool(r['missed']) and not r['silent'] for r in results)}; "
          f"silent misses: {sum(bool(r['silent']) for r in results)}")
    print(f"  free values outside the population's range: "
          f"{sum(bool(r['outside']) for r in results)}; failing a proportion check: "
          f"{sum(bool(r['proportions']) for r in results)}")
    worst = {n: max((abs(r["measured"][n] - v) for r in results
                     for n2, v in r["shape"].set_values.items() if n2 == n), default=0.0)
             for n in ("height_cm", "mass_kg", "waist_cm")}
    print("  worst set-value error: " + ", ".join(f"{n} {v:.2f}" for n, v in worst.items()))
    for r in results:
        if r["missed"] or r["outside"] or r["proportions"]:
            print(f"    {r['request']}: missed {r['missed']} outside {r['outside']} "
                  f"{r['proportions'] or ''} {' '.join(r['shape'].notes)}")
    for reason, drawn in left_out.items():
        judged = [judge.judge(r) for r in drawn]
        print(f"  left out, {reason}: {len(judged)}; met {sum(not r['missed'] for r in judged)}, "
              f"noted {sum(bool(r['missed']) and not r['silent'] for r in judged)}, "
              f"silent {sum(bool(r['silent']) for r in judged)}")

    s = {x.name: x for x in sliders.sliders}
    heights = np.linspace(s["height_cm"].low, s["height_cm"].high, args.grid)
    masses = np.linspace(s["mass_kg"].low, s["mass_kg"].high, args.grid)
    extras = [{}, {"waist_cm": s["waist_cm"].low}, {"waist_cm": s["waist_cm"].high},
              {"build": 0.0}, {"build": 1.0}]
    grid = [judge.judge({"height_cm": float(h), "mass_kg": float(m), **extra}, True)
            for extra in extras for h in heights for m in masses]
    print(f"slider grid: {len(grid)} requests ({args.grid} heights x {args.grid} masses x "
          f"{{free, waist low, waist high, build 0, build 1}})")
    print(f"  failing a proportion check: {sum(bool(r['proportions']) for r in grid)}; "
          f"visibly self-intersecting: {sum(r['crossing'] for r in grid)}; "
          f"silent misses: {sum(bool(r['silent']) for r in grid)}; "
          f"noted misses: {sum(bool(r['missed']) for r in grid)}; "
          f"free values outside their slider: {sum(bool(r['outside']) for r in grid)}")
    for r in grid:
        if r["proportions"] or r["crossing"] or r["silent"] or r["outside"]:
            print(f"    {r['request']}: {r['proportions'] or ''} "
                  f"{'self-intersecting' if r['crossing'] else ''} {r['silent'] or ''} "
                  + " ".join(f"{n} {r['measured'][n]:.1f}" for n in r["outside"]))

    print(f"sweeps ({args.steps} steps, each slider alone, the others free):")
    span = sliders.model.ranges[:, 1] - sliders.model.ranges[:, 0]
    for slider in sliders.sliders:
        values = np.linspace(slider.low, slider.high, args.steps)
        shapes = [sliders.shape({slider.name: float(v)}) for v in values]
        got = [sh.measurements()[slider.name] if slider.measurement is not None
               else sh.named_values[slider.name] for sh in shapes]
        drop = max(0.0, max(a - b for a, b in itertools.pairwise(got)))
        jump = max(float(((b.coefficients - a.coefficients).abs() / span).max())
                   for a, b in itertools.pairwise(shapes))
        print(f"  {slider.name:10s} measured {got[0]:7.2f} .. {got[-1]:7.2f}  largest drop "
              f"{drop:.3f}  largest coefficient step {jump:.3f} of its range")

    height = s["height_cm"]
    times, cpu = [], []
    for i in range(args.moves):
        value = 165.0 + (i - args.moves / 2) * 0.005 * (height.high - height.low)
        start, start_cpu = time.perf_counter(), time.process_time()
        sliders.shape(height_cm=value, mass_kg=70.0)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"refined move (height and mass set): median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s over {args.moves} (CPU time, all {torch.get_num_threads()} "
          f"threads: median {statistics.median(cpu):.3f} s, max {max(cpu):.3f} s)")


if __name__ == "__main__":
    main()
