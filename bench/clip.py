"""CLIP image and text encoding throughput on this machine.

    python bench/clip.py [--clip ViT-B-32/random] [--batch-size 32] [--batches 8] [--device cpu]

Prints images/s for ``encode_images`` on uint8 (N, 224, 224, 3) batches (already at the
model's size, as renders arrive) next to the bare model's ``encode_image`` on ready float
tensors (the wrapper's overhead is their gap), images/s when the inputs need resizing
(256 px), and uncached prompts/s for ``encode_text``. Random weights time the real
architecture; they carry no semantics.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rate(function, items: int, repeats: int) -> float:
    """Items/s of ``function()`` over ``repeats`` calls, after one warm-up call."""
    function()
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return repeats * items / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="ViT-B-32/random")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    os.environ["SEMANTIFY_CACHE_DIR"] = tempfile.mkdtemp(prefix="semantify-bench-")

    import numpy as np
    import torch

    from semantify.clip import ClipSpec, load_clip

    start = time.perf_counter()
    scorer = load_clip(ClipSpec.parse(args.clip), device=args.device)
    load_seconds = time.perf_counter() - start
    rng = np.random.default_rng(0)
    n = args.batch_size
    at_size = rng.integers(0, 256, (n, scorer.image_size, scorer.image_size, 3), np.uint8)
    larger = rng.integers(0, 256, (n, 256, 256, 3), np.uint8)
    counter = iter(range(10**9))

    def new_prompts():  # fresh words each call, so nothing comes from the cache
        return [f"word{next(counter)}" for _ in range(n)]

    model, ready = scorer._model, torch.randn(n, 3, scorer.image_size, scorer.image_size)

    def bare():
        with torch.inference_mode():
            model.encode_image(ready.to(scorer.device))

    raw = rate(bare, n, args.batches)
    images = rate(lambda: scorer.encode_images(at_size, batch_size=n), n, args.batches)
    resized = rate(lambda: scorer.encode_images(larger, batch_size=n), n, args.batches)
    prompts = rate(lambda: scorer.encode_text(new_prompts(), "a 3D render of a {} person"),
                   n, args.batches)
    print(f"CLIP {scorer.spec.label} on {scorer.device} ({scorer.dtype}), batch {n}, "
          f"torch threads {torch.get_num_threads()}, load {load_seconds:.1f} s")
    rows = [("bare model encode_image", raw, "images/s"),
            (f"encode_images, {scorer.image_size} px input", images,
             f"images/s ({images / raw:.2f} of bare)"),
            ("encode_images, 256 px input", resized, "images/s (letterbox + resize)"),
            ("encode_text, uncached", prompts, "prompts/s (with disk cache writes)")]
    for label, value, unit in rows:
        print(f"{label:<30} {value:8.1f} {unit}")


if __name__ == "__main__":
    main()
