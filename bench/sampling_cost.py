"""CPU cost of sampling (priors, self-intersection rejection) against CLIP, in CPU seconds.

    python bench/sampling_cost.py [--models anny-body,...] [--samples 64] [--clip ViT-B-32/random]

Wall-clock ratios (bench/generate.py) are noise on a shared, overloaded machine; process CPU
time is not. Prints per model the CPU ms per sample of ``model.sample`` with its prior and with
``--prior reference`` (the sampler before priors), and of CLIP encoding the two 224-px views of
one sample; the prior's extra cost as a share of CLIP's bounds what it can take from generation
when the render worker and CLIP share the cores (target: generation >= 0.9 of CLIP alone).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache/anny"))


def cpu_ms(call, count: int) -> float:
    """CPU milliseconds (this process, all threads) per item of ``call()`` over ``count``."""
    start = time.process_time()
    call()
    return (time.process_time() - start) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="anny-body,anny-face-shape,anny-face-expression")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--clip", default="ViT-B-32/random")
    args = parser.parse_args()

    import torch

    from semantify.clip import ClipSpec, load_clip
    from semantify.models import load_model
    from semantify.models.self_intersection import detector_for

    scorer = load_clip(ClipSpec.parse(args.clip), device="cpu")
    images = torch.randint(0, 256, (16, 224, 224, 3), dtype=torch.uint8)
    scorer.encode_images(images)  # warm-up
    clip = cpu_ms(lambda: scorer.encode_images(images), 8)  # 16 views = 8 samples
    print(f"CLIP {args.clip}: {clip:.1f} CPU ms per sample (2 views), torch threads "
          f"{torch.get_num_threads()}")
    for model_id in args.models.split(","):
        model = load_model(model_id)
        detector_for(model)  # built once per process: not a per-sample cost
        model.sample([10_000], seed=1)  # warm-up (kernel load)
        indices = range(args.samples)
        prior = cpu_ms(lambda m=model, i=indices: m.sample(i, seed=0), args.samples)
        reference = cpu_ms(lambda m=model, i=indices: m.sample(i, seed=0, prior="reference"),
                           args.samples)
        print(f"{model_id}: prior {model.prior.name} {prior:.1f} CPU ms per sample, reference "
              f"{reference:.2f}; extra {prior - reference:.1f} ms = "
              f"{(prior - reference) / clip:.1%} of CLIP's")


if __name__ == "__main__":
    main()
