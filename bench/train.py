"""Mapper training speed and quality on a 10,000-sample metric-only anny-body dataset.

Writes the dataset (coefficients + measurements, no CLIP) straight from the model and
semantify.measurements.anthropometer unless --data is given, trains with `semantify train`'s
defaults, and prints the training wall time and the held-out mean per-vertex error in mm.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ANNY_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache/anny"))

import torch  # noqa: E402

from semantify.data.dataset import write_shard  # noqa: E402
from semantify.files import write_json_atomic  # noqa: E402
from semantify.measurements.anthropometer import MEASUREMENTS, Anthropometer  # noqa: E402
from semantify.models import load_model  # noqa: E402

DESCRIPTORS = "height_cm,mass_kg,waist_cm,chest_cm,hips_cm,inseam_cm"


def write_metric_dataset(root: Path, samples: int, seed: int = 0, shard_size: int = 1000) -> None:
    """A metric-only anny-body dataset at ``root`` in the `semantify generate` format."""
    model = load_model("anny-body")
    meter = Anthropometer.for_model(model)
    for shard, start in enumerate(range(0, samples, shard_size)):
        indices = torch.arange(start, min(samples, start + shard_size))
        coefficients = model.sample(indices, seed)
        with torch.no_grad():
            values = meter.measure(model(coefficients))
        measurements = torch.stack([values[name] for name in MEASUREMENTS], dim=1)
        write_shard(root, shard, {"indices": indices, "coefficients": coefficients,
                                  "measurements": measurements})
    write_json_atomic(root / "manifest.json", {
        "format": "semantify-dataset", "version": 1,
        "model": {"id": "anny-body", "options": {}, "family": "body",
                  "coefficients": model.coefficient_names},
        "samples": samples, "seed": seed, "shard_size": shard_size, "views": ["front", "side"],
        "clip": None, "measurements": list(MEASUREMENTS)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=None, help="existing dataset (default: write one)")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--descriptors", default=DESCRIPTORS)
    parser.add_argument("--vertex-loss", type=float, default=None, help="default: train's")
    args = parser.parse_args()
    from lightning_modules.train import settings_defaults, train

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else Path(tmp) / "data"
        if args.data is None:
            start = time.perf_counter()
            write_metric_dataset(data, args.samples)
            print(f"dataset: {args.samples} samples written in {time.perf_counter() - start:.1f} s")
        weight = settings_defaults()["vertex_loss"] if args.vertex_loss is None \
            else args.vertex_loss
        start = time.perf_counter()
        _, metrics = train(data, args.descriptors, Path(tmp) / "sliders", vertex_loss=weight,
                           progress=False)
        wall = time.perf_counter() - start
    print(f"descriptors: {args.descriptors}; vertex loss weight {weight:g}")
    print(f"training wall time: {wall:.1f} s ({metrics['epochs']} epochs, best "
          f"{metrics['best_epoch']}, {metrics['train_rows']} train rows)")
    print(f"held-out vertex error: {metrics['val_vertex_mm']:.2f} mm over "
          f"{min(metrics['val_rows'], 2000)} rows; coefficient R2 {metrics['val_r2']:.3f}")


if __name__ == "__main__":
    main()
