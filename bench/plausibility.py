"""Do sampled shapes look like people? A plausibility report per model and sampling prior.

    python bench/plausibility.py [--models anny-body,anny-face-shape,anny-face-expression]
        [--samples 500] [--prior default|reference|NAME|FILE.json] [--seed 0] [--out DIR]

Over N sampled shapes per model (what generation trains on and the app's Random shows):
- the sampler's rejection rate and seconds per accepted sample;
- the share of samples with a visible skin self-intersection
  (:mod:`semantify.models.self_intersection`) and the share cut by the frame (mesh pixels on
  the top edge of the generation's front view, or its sides for bodies);
- for bodies: height, BMI, waist and chest percentiles against adult surveys
  (bench/data/anthropometric_surveys.json, made by bench/data/survey_percentiles.py: NHANES
  2017-March 2020 for height, BMI and waist; ANSUR II women for chest), whether the samples
  cover the survey's 1st-99th percentile range, and the share outside its 0.5-99.5 range;
- a contact sheet of the first 32 samples as rendered for CLIP (front view), as a PNG.

``--prior reference`` is the sampler before issue 11 (the reference implementation's draws,
Anny phenotypes uniform, no rejection). A script rather than a `semantify evaluate` flag:
it judges samplers, not slider sets, and its figures go into reports like the other benches.
Writes DIR/plausibility.json and DIR/MODEL.png (default DIR: bench/results/plausibility-PRIOR).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache/anny"))
SURVEYS = Path(__file__).parent / "data" / "anthropometric_surveys.json"
SHEET = 32
SHEET_COLUMNS = 8


def survey_check(values: np.ndarray, survey: list[float], percentiles: list[float]) -> dict:
    """(N,) sampled values against a survey's percentile list: coverage and tails."""
    p = dict(zip(percentiles, survey))
    return {
        "sampled": {str(q): round(float(np.percentile(values, q)), 2)
                    for q in (0.5, 1, 5, 50, 95, 99, 99.5)},
        "survey": {str(q): p[q] for q in (0.5, 1, 5, 50, 95, 99, 99.5)},
        "covers_p1_p99": bool(values.min() <= p[1] and values.max() >= p[99]),
        "outside_p0.5_p99.5": round(float(np.mean((values < p[0.5]) | (values > p[99.5]))), 4),
    }


def body_figures(model, vertices, coefficients) -> dict:
    from semantify.measurements.anthropometer import Anthropometer

    surveys = json.loads(SURVEYS.read_text())
    percentiles = surveys["percentiles"]
    measured = {k: v.numpy() for k, v in Anthropometer.for_model(model).measure(vertices).items()}
    height = measured["height_cm"]
    values = {"height_cm": height, "bmi": measured["mass_kg"] / (height / 100) ** 2,
              "waist_cm": measured["waist_cm"]}
    out = {name: survey_check(v, surveys["nhanes"]["all"][name], percentiles)
           for name, v in values.items()}
    names = model.coefficient_names
    if "gender" in names:  # Anny: gender 1 is female
        women = coefficients[:, names.index("gender")].numpy() > 0.5
        if women.sum() >= 10:
            out["chest_cm_women"] = survey_check(measured["chest_cm"][women],
                                                 surveys["ansur2"]["women"]["chest_cm"],
                                                 percentiles)
    return out


def cut_by_frame(images: np.ndarray, framing: str) -> np.ndarray:
    """(B, H, W, 3) renders on black -> (B,) bool: mesh pixels on the top edge (and, unless the
    framing is a head on shoulders, the left or right edge)."""
    lit = images.max(axis=-1) > 0
    cut = lit[:, 0, :].any(axis=1)
    if framing != "head":
        cut |= lit[:, :, 0].any(axis=1) | lit[:, :, -1].any(axis=1)
    return cut


def contact_sheet(images: np.ndarray) -> np.ndarray:
    """(B, H, W, 3) -> one (rows*H, SHEET_COLUMNS*W, 3) grid, 2 px grey gaps."""
    b, h, w, _ = images.shape
    rows = -(-b // SHEET_COLUMNS)
    sheet = np.full((rows * (h + 2), SHEET_COLUMNS * (w + 2), 3), 96, dtype=np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, SHEET_COLUMNS)
        sheet[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = image
    return sheet


def run_model(model_id: str, samples: int, prior_choice, seed: int, out: Path) -> dict:
    import torch

    from semantify.measurements.anthropometer import has_landmarks
    from semantify.models import load_model
    from semantify.models.prior import resolve_prior
    from semantify.models.self_intersection import detector_for
    from semantify.pictures.renderers import batch_renderer
    from viewer import save_png

    model = load_model(model_id)
    prior = resolve_prior(prior_choice, model)
    detector = detector_for(model)
    detector.check(model(model.default_coefficients()[None])[0].detach().numpy())  # warm-up
    started = time.perf_counter()
    if prior.fallback:
        coefficients, stats = prior.sample(model, range(samples), seed), None
    else:
        coefficients, stats = prior.bind(model).sample_with_stats(range(samples), seed)
    seconds = (time.perf_counter() - started) / samples
    with torch.no_grad():
        vertices = torch.cat([model(chunk) for chunk in coefficients.split(256)])
    found = [detector.check(v) for v in vertices.numpy()]
    renderer = batch_renderer(model, "front", size=160)
    try:
        images = np.concatenate([renderer.render(chunk)[:, 0]
                                 for chunk in vertices.split(64)])
    finally:
        renderer.release()
    sheet = out / f"{model_id}.png"
    save_png(sheet, contact_sheet(images[:SHEET]))
    report = {
        "prior": prior.record(),
        "samples": samples,
        "seconds_per_sample": round(seconds, 4),
        "rejection": None if stats is None else {
            "drawn": stats.drawn, "rejected": stats.rejected,
            "rate": round(stats.rejection_rate, 4), "unresolved": stats.unresolved},
        "visible_self_intersections": round(float(np.mean([f.visible for f in found])), 4),
        "cut_by_frame": round(float(cut_by_frame(images, model.framing).mean()), 4),
        "contact_sheet": sheet.name,  # beside plausibility.json
    }
    if has_landmarks(model):
        report["body"] = body_figures(model, vertices, coefficients)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="anny-body,anny-face-shape,anny-face-expression")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--prior", default="default",
                        help="default (each model's own), reference, a shipped name or a .json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    label = Path(args.prior).stem if args.prior.endswith(".json") else args.prior
    out = Path(args.out or ROOT / "bench" / "results" / f"plausibility-{label}")
    out.mkdir(parents=True, exist_ok=True)
    choice = None if args.prior == "default" else args.prior
    report = {"seed": args.seed, "models": {}}
    for model_id in args.models.split(","):
        report["models"][model_id] = result = run_model(model_id, args.samples, choice,
                                                        args.seed, out)
        rejection = result["rejection"]
        print(f"{model_id}: prior {result['prior']['name']} r{result['prior']['revision']}, "
              f"{args.samples} samples, {result['seconds_per_sample'] * 1e3:.1f} ms/sample, "
              f"rejected {'-' if rejection is None else rejection['rate']:}, visible "
              f"self-intersections {result['visible_self_intersections']:.1%}, cut by the frame "
              f"{result['cut_by_frame']:.1%}; sheet {out / result['contact_sheet']}")
        for name, figures in result.get("body", {}).items():
            s, v = figures["sampled"], figures["survey"]
            print(f"  {name:15s} sampled p1 {s['1']:7.1f} p50 {s['50']:7.1f} p99 {s['99']:7.1f}"
                  f" | survey p1 {v['1']:7.1f} p50 {v['50']:7.1f} p99 {v['99']:7.1f} | covers "
                  f"p1-p99 {figures['covers_p1_p99']}, outside p0.5-p99.5 "
                  f"{figures['outside_p0.5_p99.5']:.1%}")
    (out / "plausibility.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out / 'plausibility.json'}")


if __name__ == "__main__":
    main()
