"""The ``--clip geometry`` test encoder: its features on a population, and its calibration.

    python bench/geometry_encoder.py [--samples 200]          # print features' spread, speed
    python bench/geometry_encoder.py --calibrate              # rewrite the lexicon's centres
    python bench/geometry_encoder.py --calibrate --features jaw_drop,smile_span  # only these

Body features are calibrated on anny-body, head width on anny-face-shape, each from
front and side renders in clay at 224 px (what ``semantify generate`` renders), the
expression features on anny-face-expression's front renders: centre the median, scale the
interquartile range / 1.35 (a robust standard deviation; the standard deviation where most
of the population sits at one value, as expressions at rest do), over the views that show the
feature (a depth only in side views, a width only in front ones).

A side view must read as its body's front view does (CLIP's "fat" does not depend on the
camera): each depth is calibrated so that the side views' z-scores have the median and robust
spread that its width's z-scores have in the front views, and so is the side views' height
(``side_centre``/``side_scale``: the side camera sees a body a few pixels taller). A feature
one view cannot show gets a ``neutral`` value, its median over the views that show it (a side
view reports a typical front's widths, a front view a typical side's depths).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from semantify.clip.geometry import (DEPTHS, FEATURES, FRONT_ONLY, LEXICON, GeometryScorer,
                                     read_lexicon)
from semantify.clip.geometry_face import FACE_FEATURES
from semantify.clip.spec import ClipSpec

HEAD_FEATURES = ("head_width",)


def features_of(model_id: str, samples: int, seed: int = 1,
                views: tuple[str, ...] = ("front", "side")) -> tuple[np.ndarray, float]:
    """(samples * len(views), F) features of the renders in ``views``, and seconds per
    image."""
    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model(model_id)
    renderer = batch_renderer(model, list(views), size=224)
    scorer = GeometryScorer(ClipSpec.parse("geometry"))
    rows, seconds = [], 0.0
    for start in range(0, samples, 32):
        indices = torch.arange(start, min(start + 32, samples))
        with torch.no_grad():
            images = renderer.render(model(model.sample(indices, seed=seed)))
        flat = images.reshape(-1, *images.shape[2:])
        began = time.perf_counter()
        rows.append(scorer.features(flat))
        seconds += time.perf_counter() - began
    table = np.concatenate(rows)
    return table, seconds / len(table)


def robust(values: np.ndarray) -> tuple[float, float]:
    """(median, robust sd) of ``values``: the interquartile range / 1.35, or the standard
    deviation where most of the population sits at one value (a face at rest)."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    scale = (q3 - q1) / 1.35
    if scale < 0.5 * values.std():
        scale = float(values.std())
    return float(median), max(float(scale), 1e-4)


def matched(side: np.ndarray, front: np.ndarray, centre: float, scale: float) -> tuple[float,
                                                                                         float]:
    """(centre, scale) that give ``side`` values the z-score median and robust spread that
    ``front`` values have under (``centre``, ``scale``)."""
    front_median, front_sd = robust(front)
    side_median, side_sd = robust(side)
    spread = front_sd / scale
    side_scale = side_sd / spread
    return side_median - (front_median - centre) / scale * side_scale, side_scale


def neutral(name: str, body: np.ndarray) -> float | None:
    """The raw value a view that cannot show body feature ``name`` reports: its median over
    the views that show it (``body``: front and side rows of each body), or None."""
    views = body[0::2] if name in FRONT_ONLY else body[1::2] if name in DEPTHS else None
    return None if views is None else float(np.median(views[:, FEATURES.index(name)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--features", default=",".join(FEATURES),
                        help="comma-separated features to print and calibrate (default all)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.features.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(FEATURES))
    if unknown:
        parser.error(f"unknown feature {unknown[0]!r}; features are {', '.join(FEATURES)}")
    tables = {}
    if set(chosen) - set(HEAD_FEATURES) - set(FACE_FEATURES):
        tables["body"], seconds = features_of("anny-body", args.samples)
        print(f"anny-body: {seconds * 1000:.1f} ms per image (front and side)")
    if set(chosen) & set(HEAD_FEATURES):
        tables["head"], seconds = features_of("anny-face-shape", args.samples)
        print(f"anny-face-shape: {seconds * 1000:.1f} ms per image (front and side)")
    if set(chosen) & set(FACE_FEATURES):
        tables["face"], seconds = features_of("anny-face-expression", args.samples,
                                              views=("front",))
        print(f"anny-face-expression: {seconds * 1000:.1f} ms per image (front)")
    record = json.loads(LEXICON.read_text())
    for name in chosen:
        i = FEATURES.index(name)
        table = tables["face" if name in FACE_FEATURES else
                       "head" if name in HEAD_FEATURES else "body"]
        shown = table[:, i][~np.isnan(table[:, i])]
        median, scale = robust(shown)
        front, side = table[0::2], table[1::2]  # body tables: front and side of each body
        if name in DEPTHS:
            width = record["features"][DEPTHS[name]]
            j = FEATURES.index(DEPTHS[name])
            median, scale = matched(side[:, i], front[:, j], width["centre"], width["scale"])
        print(f"  {name:<15} centre {median:.4f}  scale {scale:.4f}  "
              f"(p1 {np.percentile(shown, 1):.4f}, p99 {np.percentile(shown, 99):.4f}; "
              f"{shown.size} images)")
        record["features"][name] = {"centre": round(float(median), 5),
                                    "scale": round(float(scale), 5)}
        typical = neutral(name, table) if table is tables.get("body") else None
        if typical is not None:
            record["features"][name]["neutral"] = round(typical, 5)
        if name == "height":
            centre, side_scale = matched(side[:, i], front[:, i], median, scale)
            record["features"][name].update(side_centre=round(float(centre), 5),
                                            side_scale=round(float(side_scale), 5))
            print(f"  {'':<15} side views: centre {centre:.4f}  scale {side_scale:.4f}")
    if args.calibrate:
        from semantify.files import write_json_atomic

        write_json_atomic(LEXICON, record)
        read_lexicon.cache_clear()
        print(f"wrote {LEXICON}")


if __name__ == "__main__":
    main()
