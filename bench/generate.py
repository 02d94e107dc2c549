"""Generation throughput against the CLIP-only bound, measured in one run.

    python bench/generate.py [--samples 256] [--clip ViT-B-32/random] [--batch-size 64]
                             [--workers 0,1]

Prints steady-state generation samples/s (sample -> mesh -> render 2 views -> CLIP -> write),
CLIP-only samples/s on the same images and batch size, and their ratio; with ``--workers``,
the whole generation's wall time (start-up included) with each number of render processes,
in turn in this run. Random weights time the real architecture; they carry no semantics.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ANNY_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache/anny"))


def steady_rate(out: Path, shard_size: int) -> float:
    """Samples/s between the first and the last shard write (start-up excluded)."""
    times = sorted(p.stat().st_mtime for p in (out / "shards").glob("*.safetensors"))
    return (len(times) - 1) * shard_size / (times[-1] - times[0])


def render_batch(manifest):
    """(B, V, H, W, 3) uint8 renders of shard 0, made in a worker process."""
    from semantify.data.generation import SamplePipeline

    return SamplePipeline(manifest)(manifest.shard_indices(0))["images"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="anny-body")
    parser.add_argument("--samples", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--clip", default="ViT-B-32/random")
    parser.add_argument("--prior", default=None,
                        help="sampling prior (default: the model's own; reference: no priors)")
    parser.add_argument("--workers", default=None,
                        help="render process counts to compare, e.g. 0,1 (default: the default)")
    args = parser.parse_args()

    import torch

    from lightning_modules.generate import generate
    from semantify.clip import ClipSpec, load_clip
    from semantify.data.generation import GenerationSpec, build_manifest
    from semantify.measurements.anthropometer import MEASUREMENTS
    from semantify.models import load_model

    spec = ClipSpec.parse(args.clip)
    scorer = load_clip(spec, device="cpu")
    gen = GenerationSpec(args.model, args.samples, shard_size=args.batch_size,
                         clip=spec, prior=args.prior)
    manifest = build_manifest(gen, load_model(args.model), list(MEASUREMENTS))

    # CLIP alone first, on one batch of real renders made in another process (this one
    # keeps no GL context, exactly like the generation's main process).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        images = pool.submit(render_batch, manifest).result()
    flat = images.reshape(-1, *images.shape[2:])
    scorer.encode_images(flat)  # warm-up
    repeats = max(2, args.samples // args.batch_size // 2)
    start = time.perf_counter()
    for _ in range(repeats):
        scorer.encode_images(flat)
    clip_only = repeats * images.shape[0] / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "data"
        summary = generate(gen, out, progress=False)
        generation = steady_rate(out, args.batch_size)

    print(f"model {args.model}, prior {manifest.prior['name']}, CLIP {spec.label}, "
          f"{len(gen.views)} views at {gen.size}px, "
          f"batch {args.batch_size}, torch threads {torch.get_num_threads()}")
    print(f"generation (steady state): {generation:8.2f} samples/s "
          f"({summary['samples_per_second']:.2f} including start-up)")
    print(f"CLIP only, same images:    {clip_only:8.2f} samples/s")
    print(f"ratio generation / CLIP:   {generation / clip_only:8.3f}  (target >= 0.9)")
    for workers in map(int, args.workers.split(",")) if args.workers else ():
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate(gen, Path(tmp) / "data", progress=False, workers=workers)
            print(f"--workers {workers}: {time.perf_counter() - start:6.1f} s for "
                  f"{args.samples} samples, start-up included; steady state "
                  f"{steady_rate(Path(tmp) / 'data', args.batch_size):.2f} samples/s")


if __name__ == "__main__":
    main()
