"""Photo fit recovery: Pearson r of what a photo shows against the truth, measured on meshes.

    python -m semantify build anny-body --clip geometry --samples 2000 --out /tmp/g2000
    python bench/photo_fit.py /tmp/g2000 [--bodies 30]
    python -m semantify build anny-face-expression --clip geometry --out /tmp/face
    python bench/photo_fit.py /tmp/face

Renders ``--bodies`` random shapes of the set's model (not the training set's seed) in skin at
512 px, as ``tests/test_geometry_encoder.py`` does, fits each and measures the fitted meshes:
a body from its front photo, its side photo and both (height and BMI), a face from its front
photo (smile and mouth opening, ``semantify.measurements.head``). A set trained before its
bodies were photographed (``semantify.sets.photo_views``) averages the photos' scores; pass
``--average`` to measure that way on a newer set.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from semantify.pictures.renderers import batch_renderer
from semantify.sets.sliders import SliderSet

SEED = 20_261_206  # the photo test's bodies


def truths(model, vertices) -> dict[str, np.ndarray]:
    """{name: (N,)} what a fit should recover: height and BMI of a body, smile and mouth
    opening of a face."""
    if model.id.startswith("anny-face"):
        from semantify.measurements.head import HeadMeter

        measured = HeadMeter.for_model(model).measure(vertices)
        return {name: np.asarray(measured[name], dtype=float)
                for name in ("smile_cm", "mouth_open_cm")}
    from semantify.measurements.anthropometer import Anthropometer

    measured = Anthropometer.for_model(model).measure(vertices)
    height = np.asarray(measured["height_cm"], dtype=float)
    return {"height": height,
            "BMI": np.asarray(measured["mass_kg"], dtype=float) / (height / 100) ** 2}


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
    model = slider_set.model
    coefficients = model.sample(torch.arange(args.bodies), seed=SEED)
    with torch.no_grad():
        vertices = model(coefficients)
    truth = truths(model, vertices)
    face = model.id.startswith("anny-face")
    views = ["front"] if face else ["front", "side"]
    images = batch_renderer(model, views, size=512, appearance="skin").render(vertices)
    print(f"{slider_set.name}: words {', '.join(slider_set.word_names)}; {args.bodies} shapes")
    if slider_set.photo_views is not None and not face:
        embeds = torch.stack([slider_set.scorer.encode_photo(Image.fromarray(photo))
                              for body in images for photo in body])
        read = slider_set.photo_views.views_of(embeds)
        right = sum(got == want for got, want in zip(read, views * len(images)))
        print(f"  photos read as the side they show: {right} of {len(read)}")
    for name, chosen in (("front", (0,)), ("side", (1,)), ("front + side", (0, 1))):
        if max(chosen) >= len(views):
            continue
        fitted = [slider_set.fit_photos([Image.fromarray(body[v]) for v in chosen]).vertices
                  for body in images]
        got = truths(model, torch.as_tensor(np.stack(fitted)))
        print(f"  {name:13s} " + "  ".join(
            f"r {k} {np.corrcoef(got[k], truth[k])[0, 1]:.3f}" for k in truth))


if __name__ == "__main__":
    main()
