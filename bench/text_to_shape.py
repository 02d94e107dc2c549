"""Text to shape: mapper-on-text-scores against top-k retrieval, on held-out samples.

With tiny-random CLIP weights a prompt means nothing, so the comparison uses each held-out
sample's own (view-averaged) image embedding as the query in place of a text embedding: the
question is which method turns a CLIP embedding into the right body. Reported: the mean
per-vertex error (mm) of each method's mesh against the sample's true mesh, and the error of
the mean shape as a floor-to-beat baseline.

- mapper: 100·cos(query, each slider word's text embedding) -> the trained mapper;
- retrieval: the top-k training samples by cosine with the query, coefficients averaged;
  and, as the app applies it (sliders stay editable), their mean slider values -> the mapper.

Run: `python bench/text_to_shape.py [--train 512] [--test 64]` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

WORDS = ["tall", "short", "fat", "thin", "muscular", "curvy"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=512)
    parser.add_argument("--test", type=int, default=64)
    parser.add_argument("--top-k", type=int, default=16)
    args = parser.parse_args(argv)

    from lightning_modules.generate import generate
    from lightning_modules.train import train
    from semantify.clip import ClipSpec, load_clip, scores, template_for
    from semantify.data.dataset import open_dataset
    from semantify.data.generation import GenerationSpec
    from semantify.models import load_model

    work = Path(tempfile.mkdtemp(prefix="semantify-bench-t2s-"))
    clip = ClipSpec.parse("tiny-random")
    started = time.perf_counter()
    generate(GenerationSpec("anny-body", args.train, seed=0, clip=clip),
             work / "train", workers=0, progress=False)
    generate(GenerationSpec("anny-body", args.test, seed=1, clip=clip),
             work / "test", workers=0, progress=False)
    sliders, _ = train(work / "train", WORDS, work / "sliders", max_epochs=40, progress=False)
    print(f"data and training: {time.perf_counter() - started:.0f} s")

    model = load_model("anny-body")
    train_data, test_data = open_dataset(work / "train"), open_dataset(work / "test")
    queries = torch.nn.functional.normalize(test_data.image_embeds.float().mean(1), dim=-1)
    truth = model(test_data.coefficients)
    scorer = load_clip(clip)
    text = scorer.encode_text(WORDS, template_for("body", sliders.template))
    by_mapper = sliders.coefficients(scores(queries, text))
    bank = torch.nn.functional.normalize(train_data.image_embeds.float().mean(1), dim=-1)
    top = (queries @ bank.T).topk(args.top_k, dim=1).indices  # (test, k)
    by_retrieval = train_data.coefficients[top].mean(1)
    # What the app applies, so the sliders stay editable: the top-k samples' mean slider values
    # (their word scores) fed to the mapper.
    train_scores = scores(train_data.image_embeds, text)
    by_retrieved_sliders = sliders.coefficients(train_scores[top].mean(1))
    mean_shape = train_data.coefficients.mean(0, keepdim=True).expand_as(by_retrieval)

    def error_mm(coefficients) -> float:
        return float((model(coefficients) - truth).norm(dim=-1).mean() * 1000.0)

    print(f"held-out samples: {args.test} (trained on {args.train}, tiny-random CLIP)")
    print(f"  mapper on text-style scores : {error_mm(by_mapper):6.1f} mm mean vertex error")
    print(f"  top-{args.top_k} retrieval, coefficients averaged : {error_mm(by_retrieval):6.1f} mm")
    print(f"  top-{args.top_k} retrieval, slider values -> mapper (as the app applies it): "
          f"{error_mm(by_retrieved_sliders):6.1f} mm")
    print(f"  mean shape (baseline)       : {error_mm(mean_shape):6.1f} mm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
