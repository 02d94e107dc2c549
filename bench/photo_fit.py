"""Photo fit recovery: Pearson r of height and BMI from front, side and front + side photos.

    python -m semantify build anny-body --clip geometry --samples 2000 --out /tmp/g2000
    python bench/photo_fit.py /tmp/g2000 [--bodies 30]

Renders ``--bodies`` random anny-body bodies (not the training set's seed) in skin at 512 px
from the front and the side, as ``tests/test_geometry_encoder.py`` does, fits each from its
front photo, its side photo and both, and measures the fitted bodies. A set trained before its
bodies were photographed (``semantify.sets.photo_views``) averages the photos' scores; pass
``--average`` to measure that way on a newer set.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from semantify.measurements.anthropometer import Anthropometer
from semantify.models import load_model
from semantify.pictures.renderers import batch_renderer
from semantify.sets.sliders import SliderSet

SEED = 20_261_206  # the photo test's bodies


def height_bmi(measured) -> tuple[np.ndarray, np.ndarray]:
    height = np.asarray(measured["height_cm"], dtype=float)
    return height, np.asarray(measured["mass_kg"], dtype=float) / (height / 100) ** 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("--bodies", type=int, default=30)
    parser.add_argument("--average", action="store_true",
                        help="ignore the set's photographed bodies: average the photos' scores")
    args = parser.parse_args()
    slider_set = SliderSet.load(args.set)
    if args.average:
        slider_set.photo_views = None
    model = load_model("anny-body")
    coefficients = model.sample(torch.arange(args.bodies), seed=SEED)
    with torch.no_grad():
        vertices = model(coefficients)
    truth = height_bmi(Anthropometer.for_model(model).measure(vertices))
    images = batch_renderer(model, ["front", "side"], size=512, appearance="skin").render(vertices)
    print(f"{slider_set.name}: words {', '.join(slider_set.word_names)}; {args.bodies} bodies")
    if slider_set.photo_views is not None:
        embeds = torch.stack([slider_set.scorer.encode_photo(Image.fromarray(photo))
                              for body in images for photo in body])
        read = slider_set.photo_views.views_of(embeds)
        right = sum(got == want for got, want in zip(read, ["front", "side"] * len(images)))
        print(f"  photos read as the side they show: {right} of {len(read)}")
    for name, views in (("front", (0,)), ("side", (1,)), ("front + side", (0, 1))):
        fitted = [slider_set.fit_photos([Image.fromarray(body[v]) for v in views]).measurements()
                  for body in images]
        got = height_bmi({k: [m[k] for m in fitted] for k in ("height_cm", "mass_kg")})
        r = [np.corrcoef(g, t)[0, 1] for g, t in zip(got, truth)]
        print(f"  {name:13s} r height {r[0]:.3f}  BMI {r[1]:.3f}")


if __name__ == "__main__":
    main()
