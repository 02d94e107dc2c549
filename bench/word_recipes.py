"""Which views and how many samples a word recipe needs, decided with the ground-truth encoder.

    python bench/word_recipes.py [--sizes 250,500,1000] [--views front,front+side]
                                 [--recipe anny-body] [--out results.json]

Real CLIP cannot be had here, so each variant is built with ``--clip geometry`` (the test
encoder whose words mean known things about the silhouette; `semantify.clip.geometry`), through
the real ``semantify build`` (generate, select, train, evaluate, card). For each it prints:

- fidelity: Pearson r of each forced word's asked value against its score on the built mesh;
- receipts (measured on the meshes): "tall"'s height change and whether it ever reverses,
  "fat"'s mass change and its height change (should be near 0);
- photo fit: 30 random bodies (another seed than training) rendered in skin at 512 px, fitted
  from the front photo and from front + side photos; Pearson r of recovered and true height
  and BMI;
- text: height and BMI of "a tall thin person" and "a short heavy person";
- build seconds on this machine.

Sizes are small enough to finish in minutes on 2 CPU cores (the recipes' 2000 samples and
more were not run here: about 2.5 minutes of generation per 1000 front+side samples).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HELD_OUT_SEED = 20_261_206
PHOTOS = 30


def held_out_bodies(size: int = 512):
    """(PHOTOS, 2, size, size, 3) skin renders (front, side), true heights and BMIs."""
    from semantify.measurements.anthropometer import Anthropometer
    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model("anny-body")
    with torch.no_grad():
        vertices = model(model.sample(torch.arange(PHOTOS), seed=HELD_OUT_SEED))
    measured = Anthropometer.for_model(model).measure(vertices)
    height = measured["height_cm"].numpy()
    images = batch_renderer(model, ["front", "side"], size=size,
                            appearance="skin").render(vertices)
    return images, height, measured["mass_kg"].numpy() / (height / 100) ** 2


def bmi_of(measured: dict) -> float:
    return measured["mass_kg"] / (measured["height_cm"] / 100) ** 2


def photo_fit(slider_set, images, views) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    heights, bmis = [], []
    for photo in images:
        measured = slider_set.fit_photos([Image.fromarray(photo[v]) for v in views]).measurements()
        heights.append(measured["height_cm"])
        bmis.append(bmi_of(measured))
    return np.array(heights), np.array(bmis)


def variant(recipe: dict, views: list[str], samples: int, work: Path, bodies) -> dict:
    from semantify.cli import main
    from semantify.sets.receipts import read_receipts
    from semantify.sets.sliders import SliderSet

    name = f"{'+'.join(views)}-{samples}"
    recipe_file = work / f"{name}.json"
    recipe_file.write_text(json.dumps({**recipe, "views": views}))
    out = work / name
    began = time.perf_counter()
    assert main(["build", str(recipe_file), "--clip", "geometry", "--samples", str(samples),
                 "--out", str(out)]) == 0
    seconds = time.perf_counter() - began
    slider_set = SliderSet.load(out)
    receipts = read_receipts(out)
    evaluation = json.loads((out / "evaluation" / "evaluation.json").read_text())
    images, height, bmi = bodies
    row = {"views": views, "samples": samples, "build_seconds": round(seconds, 1),
           "sliders": slider_set.names,
           "fidelity": {w: round(evaluation["fidelity"][w], 3) for w in ("tall", "fat")},
           "tall_height_cm": round(receipts["tall"].change("height_cm").delta, 1),
           "tall_monotonic": receipts["tall"].change("height_cm").monotonic,
           "fat_mass_kg": round(receipts["fat"].change("mass_kg").delta, 1),
           "fat_height_cm": round(receipts["fat"].change("height_cm").delta, 1)}
    for label, photo_views in (("front", [0]), ("front+side", [0, 1])):
        fitted_height, fitted_bmi = photo_fit(slider_set, images, photo_views)
        row[f"photo_{label}_r_height"] = round(float(np.corrcoef(fitted_height, height)[0, 1]), 3)
        row[f"photo_{label}_r_bmi"] = round(float(np.corrcoef(fitted_bmi, bmi)[0, 1]), 3)
    for prompt in ("a tall thin person", "a short heavy person"):
        measured = slider_set.from_text(prompt).measurements()
        row[f"text {prompt}"] = f"{measured['height_cm']:.0f} cm, BMI {bmi_of(measured):.1f}"
    return row


def main() -> None:
    from semantify.recipes.recipe import recipe_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--views", default="front,front+side")
    parser.add_argument("--recipe", default="anny-body")
    parser.add_argument("--out", default=None, help="also write the rows as JSON here")
    args = parser.parse_args()
    recipe = json.loads(recipe_path(args.recipe).read_text())
    bodies = held_out_bodies()
    rows = []
    with tempfile.TemporaryDirectory(prefix="word-recipes-") as work:
        for views in (v.split("+") for v in args.views.split(",")):
            for samples in (int(s) for s in args.sizes.split(",")):
                rows.append(variant(recipe, views, samples, Path(work), bodies))
                print(json.dumps(rows[-1]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
