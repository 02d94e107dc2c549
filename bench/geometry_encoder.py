"""The ``--clip geometry`` test encoder: its features on a population, and its calibration.

    python bench/geometry_encoder.py [--samples 200]          # print features' spread, speed
    python bench/geometry_encoder.py --calibrate              # rewrite the lexicon's centres

Body features are calibrated on anny-body, head width on anny-face-shape, each from
front and side renders in clay at 224 px (what ``semantify generate`` renders): centre the
median, scale the interquartile range / 1.35 (a robust standard deviation).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from semantify.clip.geometry import FEATURES, LEXICON, GeometryScorer, read_lexicon
from semantify.clip.spec import ClipSpec

FACE_FEATURES = ("head_width",)


def features_of(model_id: str, samples: int, seed: int = 1) -> tuple[np.ndarray, float]:
    """(samples * 2, F) features of front and side renders, and seconds per image."""
    from semantify.models import load_model
    from semantify.rendering import batch_renderer

    model = load_model(model_id)
    renderer = batch_renderer(model, ["front", "side"], size=224)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    body, body_s = features_of("anny-body", args.samples)
    face, face_s = features_of("anny-face-shape", args.samples)
    print(f"{args.samples} samples x 2 views each; features {body_s * 1000:.1f} ms per body "
          f"image, {face_s * 1000:.1f} ms per face image")
    record = json.loads(LEXICON.read_text())
    for i, name in enumerate(FEATURES):
        table = face if name in FACE_FEATURES else body
        q1, median, q3 = np.percentile(table[:, i], [25, 50, 75])
        scale = max((q3 - q1) / 1.35, 1e-4)
        print(f"  {name:<15} median {median:.4f}  robust sd {scale:.4f}  "
              f"(p1 {np.percentile(table[:, i], 1):.4f}, p99 {np.percentile(table[:, i], 99):.4f})")
        record["features"][name] = {"centre": round(float(median), 5),
                                    "scale": round(float(scale), 5)}
    if args.calibrate:
        from semantify.files import write_json_atomic

        write_json_atomic(LEXICON, record)
        read_lexicon.cache_clear()
        print(f"wrote {LEXICON}")


if __name__ == "__main__":
    main()
