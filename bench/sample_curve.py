"""How many samples the mapper needs: held-out error against training-set size.

    python bench/sample_curve.py [--sizes 250,500,1000,2000,3000,5000,10000] [--test 1000]
                                 [--plot docs/build-sample-curve.png] [--data DIR]

Words need real CLIP, which cannot be had here, so the proxy is the metric descriptors
(height, mass, waist, chest, hips: five numbers per body, about as many as a word set's
sliders). One anny-body dataset without CLIP (fast: no rendering) gives each training size
as its first N samples (sample i depends only on (seed, i), so they are exactly what a build
of N samples generates); a second dataset with another seed is the fixed test set. Each size
is trained with `semantify train`'s defaults; the mapper alone (no measurement refinement,
which words do not have) is scored on the test set: how far its bodies measure from the asked
values (mean |measured - asked| over the five, in units of each one's spread across bodies:
what a slider is for), their height (mm) and mass (kg) errors, and the mean per-vertex error
(mm) and coefficient R² against the test bodies themselves (bounded below by everything five
numbers cannot say about a body). CLIP scores are noisier inputs than measurements, so real
word sets level off later than this curve: read it as a lower bound on the samples needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache/anny"))

DESCRIPTORS = ["height_cm", "mass_kg", "waist_cm", "chest_cm", "hips_cm"]
SHARD = 250


def metric_dataset(out: Path, samples: int, seed: int) -> Path:
    """A measurements-only anny-body dataset (generated once; reruns resume/skip)."""
    from lightning_modules.generate import generate
    from semantify.data.generation import GenerationSpec

    generate(GenerationSpec("anny-body", samples, seed, clip=None, shard_size=SHARD), out,
             progress=False)
    return out


def first_rows(full: Path, size: int, out: Path) -> Path:
    """A dataset folder holding the first ``size`` samples of ``full`` (links to its shards)."""
    import dataclasses

    from semantify.data.dataset import read_manifest, shard_path, write_manifest

    manifest = dataclasses.replace(read_manifest(full), samples=size)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    for shard in range(-(-size // SHARD)):
        shard_path(out, shard).symlink_to(shard_path(full, shard).resolve())
    write_manifest(out, manifest)
    return out


def test_error(slider_set, test) -> dict:
    """Errors of the mapper alone on every row of ``test`` (see the module docstring)."""
    import torch

    from semantify.descriptors import descriptor_values
    from semantify.sets.mapper import mean_vertex_error_mm, r2_score

    model = slider_set.model
    values = descriptor_values(test, list(slider_set.names))
    predicted = slider_set.coefficients(values, refine=False)
    target = test.coefficients.to(torch.float32)
    with torch.no_grad():
        measured = slider_set.anthropometer.measure(model(predicted))
    error = torch.stack([(measured[n].float() - values[:, i]).abs()
                         for i, n in enumerate(slider_set.names)], dim=1)
    return {"descriptor_error": float((error / values.std(0)).mean()),
            "height_mm": float(error[:, DESCRIPTORS.index("height_cm")].mean()) * 10,
            "mass_kg": float(error[:, DESCRIPTORS.index("mass_kg")].mean()),
            "vertex_mm": mean_vertex_error_mm(model, predicted, target),
            "r2": r2_score(predicted, target)}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from semantify.files import write_atomic

    sizes = [r["samples"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(sizes, [r["descriptor_error"] for r in rows], "o-", color="tab:red")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes], rotation=45)
    ax.set_xlabel("training samples generated")
    ax.set_ylabel("held-out |measured - asked| / spread", color="tab:red")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.plot(sizes, [r["vertex_mm"] for r in rows], "s--", color="tab:blue")
    twin.set_ylabel("held-out mean vertex error (mm)", color="tab:blue")
    ax.set_title("anny-body mapper vs data size (proxy: 5 metric descriptors)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000,2000,3000,5000,10000")
    parser.add_argument("--test", type=int, default=1000, help="test samples (another seed)")
    parser.add_argument("--data", default=None, help="folder to keep the datasets in")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "build-sample-curve.png"))
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if any(s % SHARD for s in sizes):
        parser.error(f"sizes must be multiples of {SHARD}")

    from lightning_modules.train import train
    from semantify.data.dataset import open_dataset

    keep = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="sample-curve-"))
    start = time.perf_counter()
    full = metric_dataset(keep / "train", sizes[-1], seed=0)
    test = open_dataset(metric_dataset(keep / "test", args.test, seed=1))
    print(f"datasets: {sizes[-1]} + {args.test} test samples in "
          f"{time.perf_counter() - start:.0f} s (no CLIP)")
    rows = []
    print(f"{'samples':>8} {'asked err/spread':>16} {'height mm':>9} {'mass kg':>7} "
          f"{'vertex mm':>9} {'coef R²':>7} {'epochs':>6} {'train s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            data = first_rows(full, size, Path(tmp) / f"data-{size}")
            started = time.perf_counter()
            slider_set, metrics = train(data, DESCRIPTORS, Path(tmp) / f"sliders-{size}",
                                        progress=False)
            seconds = time.perf_counter() - started
            row = {"samples": size, **{k: round(v, 4) for k, v in
                                       test_error(slider_set, test).items()},
                   "epochs": metrics["epochs"], "train_seconds": round(seconds, 1)}
            rows.append(row)
            print(f"{size:>8} {row['descriptor_error']:>16.3f} {row['height_mm']:>9.1f} "
                  f"{row['mass_kg']:>7.2f} {row['vertex_mm']:>9.1f} {row['r2']:>7.3f} "
                  f"{row['epochs']:>6} {seconds:>7.1f}", flush=True)
    plot(rows, Path(args.plot))
    print(json.dumps(rows))
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
