"""Memory and time of the stages after generation at 100,000 samples: open, score, select, train.

Writes a dataset in `semantify generate`'s format: real anny-body coefficients, 2 views of
512-d float16 image embeddings, 8 measurement columns, shards of 64 samples (generate's
default). The embeddings and measurements are synthetic: a fixed random linear map of the
coefficients, plus noise. They have the shapes and dtypes a ViT-B-32 run stores, and they
depend on the shape, so selection and training have something to find. The manifest names
ViT-B-32/random as the CLIP, so words are scored with the real ViT-B-32 text tower (random
weights, no download).

Each stage runs in its own process. Its line shows the wall time and the peak resident memory
(ru_maxrss), next to a "baseline" process that only imports and loads the same things. The
CLI stages (select, train) are what a user runs:

    python bench/scale.py                      # 100,000 samples, in a temporary folder
    python bench/scale.py --samples 20000 --keep /tmp/scale-data
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache/anny"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CLIP = "ViT-B-32/random"
DIM, VIEWS, SHARD = 512, ("front", "side"), 64
WORDS = "fat,tall,muscular,skinny,short,broad shoulders"
METRICS = "height_cm,mass_kg"
STAGES = ("write", "baseline", "open", "score", "select", "train")


def write_dataset(root: Path, samples: int, seed: int = 0) -> None:
    """A dataset of ``samples`` rows at ``root`` (see the module docstring)."""
    import torch

    from semantify.clip import ClipSpec
    from semantify.data.dataset import write_shard
    from semantify.data.generation import GenerationSpec, build_manifest, prepare_output
    from semantify.measurements.anthropometer import MEASUREMENTS
    from semantify.models import load_model

    model = load_model("anny-body")
    spec = GenerationSpec("anny-body", samples, seed, VIEWS, ClipSpec.parse(CLIP),
                          shard_size=SHARD)
    manifest = build_manifest(spec, model, list(MEASUREMENTS))
    prepare_output(root, manifest)
    generator = torch.Generator().manual_seed(seed)
    c = model.num_coefficients
    projection = torch.randn(len(VIEWS), c, DIM, generator=generator) / c**0.5
    metric_map = torch.randn(c, len(MEASUREMENTS), generator=generator)
    metric_base = torch.tensor([170.0, 95.0, 80.0, 100.0, 45.0, 80.0, 55.0, 70.0])
    low, high = model.ranges[:, 0], model.ranges[:, 1]
    for shard, start in enumerate(range(0, samples, SHARD)):
        indices = torch.arange(start, min(samples, start + SHARD))
        coefficients = model.sample(indices, seed)
        unit = (coefficients - low) / (high - low) - 0.5
        noise = torch.randn(len(indices), len(VIEWS), DIM, generator=generator)
        embeds = torch.einsum("nc,vcd->nvd", unit, projection) + 0.5 * noise
        embeds = torch.nn.functional.normalize(embeds, dim=-1).to(torch.float16)
        measurements = metric_base + 5 * unit @ metric_map
        write_shard(root, shard, {"indices": indices, "coefficients": coefficients,
                                  "image_embeds": embeds,
                                  "measurements": measurements})


def run_stage(stage: str, data: Path, work: Path, epochs: int) -> dict:
    """Run one stage in this process; return what it measured besides time and memory."""
    if stage == "write":
        write_dataset(data, ARGS.samples)
        return {"files": len(list((data / "shards").iterdir()))}
    from semantify.cli import main
    from semantify.data.dataset import open_dataset

    if stage == "baseline":  # what every later stage loads before its own work
        from semantify.compat import ensure_torchvision

        ensure_torchvision()
        import lightning  # noqa: F401

        from semantify.clip import ClipSpec, load_clip
        from semantify.models import load_model

        load_model("anny-body")
        load_clip(ClipSpec.parse(CLIP))
        return {}
    if stage == "open":
        dataset = open_dataset(data)
        return {"rows": len(dataset), "embeds_mb": dataset.image_embeds.numel() * 2 / 1e6}
    if stage == "score":
        from semantify.descriptors import descriptor_values, vocabulary

        words = vocabulary("body")
        values = descriptor_values(open_dataset(data), words)
        return {"descriptors": len(words), "values": list(values.shape)}
    if stage == "select":
        code = main(["select", str(data), "--candidates", "body", "--out", str(work / "sel")])
        chosen = json.loads((work / "sel" / "selection.json").read_text())["chosen"]
        return {"exit": code, "chosen": [row["name"] for row in chosen]}
    if stage == "train":
        code = main(["train", str(data), "--descriptors", f"{WORDS},{METRICS}", "--out",
                     str(work / "set"), "--max-epochs", str(epochs), "--no-progress"])
        metrics = json.loads((work / "set" / "metrics.json").read_text())
        return {"exit": code, "epochs": metrics["epochs"], "train_rows": metrics["train_rows"],
                "train_seconds": metrics["train_seconds"]}
    raise ValueError(stage)


def stage_main() -> None:
    """``--stage NAME``: run it and print one JSON line with seconds and peak RSS."""
    start = time.perf_counter()
    extra = run_stage(ARGS.stage, Path(ARGS.data), Path(ARGS.work), ARGS.epochs)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print("RESULT " + json.dumps({"stage": ARGS.stage, "seconds": round(seconds, 1),
                                  "peak_rss_mb": round(peak_mb), **extra}), flush=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def orchestrate() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(ARGS.keep) if ARGS.keep else Path(tmp) / "data"
        work = Path(tmp)
        print(f"{ARGS.samples} samples, {len(VIEWS)} views x {DIM}-d float16 embeddings, "
              f"shards of {SHARD}; {os.cpu_count()} CPUs, torch threads default; "
              f"load average at start {load()}")
        stages = [s for s in STAGES if not (s == "write" and (data / "manifest.json").exists())]
        for stage in stages:
            cmd = [sys.executable, __file__, "--stage", stage, "--data", str(data), "--work",
                   str(work), "--samples", str(ARGS.samples), "--epochs", str(ARGS.epochs)]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            results = [line[7:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
            if proc.returncode != 0 or not results:
                print(f"{stage}: failed (exit {proc.returncode}): {proc.stderr[-1500:]}")
                sys.exit(1)
            row = json.loads(results[-1])
            detail = {k: v for k, v in row.items() if k not in ("stage", "seconds", "peak_rss_mb")}
            print(f"{stage:<9} {row['seconds']:>7.1f} s   peak RSS {row['peak_rss_mb']:>6} MB"
                  f"   {json.dumps(detail)}")
        size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
        print(f"dataset on disk: {size / 1e6:.0f} MB ({size / ARGS.samples:.0f} bytes/sample); "
              f"load average at end {load()}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=40, help="train's --max-epochs")
    parser.add_argument("--keep", default=None, help="dataset folder to write/reuse")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse()
    stage_main() if ARGS.stage else orchestrate()
