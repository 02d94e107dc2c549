"""The metric set's gallery: ordinary requests, and the nearest person for impossible ones.

Run: ANNY_CACHE_DIR=.cache/anny nice .venv/bin/python bench/metric_gallery.py [SLIDERS] [OUT]
Writes OUT (default SLIDERS/gallery.png): each request rendered front and side at one scale
(the model's fixed framing, so heights compare), captioned with what was asked and what the
body measures (free values follow the body), and prints the same as a Markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from semantify.pictures.renderers import batch_renderer
from semantify.sets.sliders import SliderSet

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = (
    {"height_cm": 150.0, "mass_kg": 48.0},
    {"height_cm": 165.0, "mass_kg": 60.0},
    {"height_cm": 175.0, "mass_kg": 90.0},
    {"height_cm": 185.0, "mass_kg": 110.0},
    {"height_cm": 150.0, "mass_kg": 48.0, "waist_cm": 72.0},
    {"height_cm": 165.0, "mass_kg": 60.0, "waist_cm": 70.0},
    {"height_cm": 175.0, "mass_kg": 90.0, "waist_cm": 108.0},
    {"height_cm": 185.0, "mass_kg": 110.0, "waist_cm": 112.0},
    {"height_cm": 190.9, "mass_kg": 42.3},  # impossible: BMI 11.6
    {"height_cm": 146.9, "mass_kg": 155.0},  # impossible: BMI 72
)
SHORT = {"height_cm": "h", "chest_cm": "chest", "waist_cm": "waist", "hips_cm": "hips",
         "mass_kg": "kg", "build": "build"}
SIZE = 256


def main(path: str = str(ROOT / "sliders/anny-body-metric"), out: str | None = None) -> None:
    sliders = SliderSet.load(path)
    out = Path(out) if out else Path(path) / "gallery.png"
    shapes = [sliders.shape(r) for r in REQUESTS]
    renderer = batch_renderer(sliders.model, ["front", "side"], size=SIZE, appearance="clay")
    images = renderer.render(torch.as_tensor(np.stack([s.vertices for s in shapes])))
    images = np.asarray(images, dtype=np.uint8)  # (N, 2, SIZE, SIZE, 3)
    columns, caption = 5, 64
    rows = (len(shapes) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * 2 * SIZE, rows * (SIZE + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    print("| asked | measured (free values follow the body) | note |\n|---|---|---|")
    for i, (request, shape) in enumerate(zip(REQUESTS, shapes)):
        x, y = (i % columns) * 2 * SIZE, (i // columns) * (SIZE + caption)
        for view in range(2):
            sheet.paste(Image.fromarray(images[i, view]), (x + view * SIZE, y))
        measured = shape.measurements()
        got = {n: measured[n] if n in measured else shape.named_values[n] for n in SHORT}
        asked = " ".join(f"{SHORT[n]} {v:g}" for n, v in request.items())
        body = " ".join(f"{SHORT[n]} {v:.1f}" if n != "build" else f"build {v:.2f}"
                        for n, v in got.items())
        draw.text((x + 6, y + SIZE + 4), f"asked: {asked}", fill="black")
        draw.text((x + 6, y + SIZE + 20), body[:80], fill="black")
        draw.text((x + 6, y + SIZE + 36), "missed, nearest person" if shape.notes else "met",
                  fill="firebrick" if shape.notes else "darkgreen")
        print(f"| {asked} | {body} | {' '.join(shape.notes) or 'met'} |")
    sheet.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
