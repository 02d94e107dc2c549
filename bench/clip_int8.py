"""Dynamic int8 CLIP image tower on CPU against fp32: speed and agreement on the same renders.

    python bench/clip_int8.py [--clip ViT-B-32/random] [--samples 64] [--model anny-body]

Renders ``--samples`` bodies from the front and the side (in a spawned process, as generation
does), encodes every render with the fp32 image tower and with the int8 one
(``ClipSpec.int8``), and prints images/s of each at 1 and 2 torch threads, the cosine between
the two embeddings of each image, and the Pearson r between fp32 and int8 per-sample scores
(100·cos with the family's vocabulary, averaged over views, as training sees them) for each
word: min, median and the r of all words' centred scores pooled. Random weights time the real
architecture; their agreement says how much int8 perturbs this network, not what a trained one
would do.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ANNY_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache/anny"))


def render(model_id: str, samples: int):
    """(B, 2, 224, 224, 3) uint8 front and side renders of samples 0..B-1."""
    import torch

    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model(model_id)
    with torch.no_grad():
        vertices = model(model.sample(torch.arange(samples), 0))
    return batch_renderer(model, ["front", "side"]).render(vertices)


def images_per_second(scorer, flat, threads: int, repeats: int = 2) -> float:
    import torch

    torch.set_num_threads(threads)
    scorer.encode_images(flat[:32])  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        scorer.encode_images(flat)
    return repeats * len(flat) / (time.perf_counter() - start)


def pearson(a, b):
    """Pearson r of matching columns of two (N, K) tensors: (K,)."""
    a, b = a - a.mean(0), b - b.mean(0)
    return (a * b).sum(0) / (a.norm(dim=0) * b.norm(dim=0)).clamp_min(1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="ViT-B-32/random")
    parser.add_argument("--model", default="anny-body")
    parser.add_argument("--samples", type=int, default=64)
    args = parser.parse_args()
    os.environ.setdefault("SEMANTIFY_CACHE_DIR", tempfile.mkdtemp(prefix="semantify-bench-"))

    import torch

    from semantify.clip import ClipSpec, load_clip, scores, template_for
    from semantify.descriptors import vocabulary
    from semantify.models import spec as model_spec

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        images = pool.submit(render, args.model, args.samples).result()
    b, v = images.shape[:2]
    flat = images.reshape(b * v, *images.shape[2:])
    fp32 = load_clip(ClipSpec.parse(args.clip), device="cpu")
    int8 = load_clip(dataclasses.replace(fp32.spec, int8=True), device="cpu")
    threads = torch.get_num_threads()
    rates = {(name, t): images_per_second(scorer, flat, t)
             for name, scorer in (("fp32", fp32), ("int8", int8)) for t in sorted({1, threads})}
    torch.set_num_threads(threads)

    family = model_spec(args.model).family
    words = vocabulary(family)
    text = fp32.encode_text(words, template_for(family))
    e32, e8 = fp32.encode_images(flat), int8.encode_images(flat)
    cosine = (e32 * e8).sum(1)
    s32 = scores(e32.view(b, v, -1), text)  # (B, K) view-averaged, as training uses them
    s8 = scores(e8.view(b, v, -1), text)
    per_word = pearson(s32, s8)
    pooled = pearson((s32 - s32.mean(0)).reshape(-1, 1), (s8 - s8.mean(0)).reshape(-1, 1))[0]
    spread = float(s32.std(0).mean())

    print(f"CLIP {fp32.spec.label}, {b} {args.model} samples x {v} views at 224 px, "
          f"{len(words)} {family} words, machine threads {threads}")
    for (name, t), rate in rates.items():
        speed = rate / rates[("fp32", t)]
        print(f"  {name} threads={t}: {rate:6.1f} images/s ({speed:.2f}x fp32)")
    print(f"  embedding cosine int8 vs fp32: min {float(cosine.min()):.5f}, "
          f"mean {float(cosine.mean()):.5f}")
    print(f"  per-sample score Pearson r int8 vs fp32, per word: min {float(per_word.min()):.4f}, "
          f"median {float(per_word.median()):.4f}; pooled (centred per word) "
          f"{float(pooled):.4f}")
    print(f"  score spread across samples (mean std over words): {spread:.4f}; mean |int8 - "
          f"fp32| {float((s8 - s32).abs().mean()):.4f}")
    if not fp32.spec.is_semantic:
        print("  note: random weights; a trained CLIP's scores may agree differently")


if __name__ == "__main__":
    main()
