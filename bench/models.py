"""Forward time per sample of every model, at batch 1 and batch 64.

Run: ``ANNY_CACHE_DIR=.cache/anny python bench/models.py [--rounds 10] [--device cpu]
[--threads N] [--real-size]``.
Licensed models use the real files under SEMANTIFY_MODELS_DIR when they are there; otherwise
tiny synthetic files (a few hundred vertices, from ``tests/synthetic_models.py``) written to a
temporary folder, labelled as such: their timings say nothing of the real sizes; with
``--real-size``, also synthetic files with about the real vertex counts (SMPL-X's is over
100 MB). Prints figures only (no assertions).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from semantify.models import load_model, model_ids, model_status


def per_sample_ms(model, batch: int, rounds: int, device: str) -> float:
    """Best forward time per sample in milliseconds over ``rounds`` runs after a warm-up
    (the best, not the median, as other work on a shared machine only ever adds time)."""
    coefficients = model.sample(range(batch), seed=0).to(device)
    model(coefficients)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        model(coefficients)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return min(times) / batch * 1000


def synthetic_tree(real_size: bool) -> tempfile.TemporaryDirectory:
    """A temporary SEMANTIFY_MODELS_DIR of synthetic files (see tests/synthetic_models.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import synthetic_models

    folder = tempfile.TemporaryDirectory()
    synthetic_models.write_model_tree(Path(folder.name), real_size=real_size)
    return folder


def report(model_id: str, source: str, rounds: int, device: str) -> None:
    model = load_model(model_id).to(device)
    one, many = (per_sample_ms(model, b, rounds, device) for b in (1, 64))
    print(f"{model_id:<22} {source:<30} {model.num_vertices:>6} {model.num_coefficients:>6} "
          f"{one:>14.3f} {many:>15.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--real-size", action="store_true",
                        help="also time synthetic files with about the real vertex counts")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    if args.threads:
        torch.set_num_threads(args.threads)
    available = [i for i in model_ids() if model_status(i).available]
    licensed = [i for i in model_ids() if not i.startswith("anny")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"{'model':<22} {'source':<30} {'verts':>6} {'coeffs':>6} "
          f"{'B=1 ms/sample':>14} {'B=64 ms/sample':>15}  (best of {args.rounds})")
    for model_id in available:
        report(model_id, "bundled" if model_id.startswith("anny") else "real file",
               args.rounds, args.device)
    missing = [i for i in licensed if i not in available]
    for real_size, label in ((False, "synthetic (tiny) file"),
                             (True, "synthetic (real-size) file"))[: 1 + args.real_size]:
        if missing:
            folder = synthetic_tree(real_size)
            os.environ["SEMANTIFY_MODELS_DIR"] = folder.name
            for model_id in missing:
                report(model_id, label, args.rounds, args.device)
            folder.cleanup()


if __name__ == "__main__":
    main()
