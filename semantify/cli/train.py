"""``semantify train``: train sliders (a mapper) on a dataset and write the slider set."""

from __future__ import annotations

import json

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    from semantify.mapper import DEFAULT_VERTEX_LOSS

    p = subparsers.add_parser(
        "train", help="train sliders on a dataset and write the slider set folder",
        description="Train a mapper from descriptor values (CLIP words and/or measurements) to "
                    "coefficients, with Lightning; the same as `python -m lightning_modules fit "
                    "--config configs/MODEL.yaml` with defaults. Writes mapper.safetensors, "
                    "sliders.json and metrics.json into --out.")
    p.add_argument("data", help="dataset folder written by `semantify generate`")
    p.add_argument("--descriptors", required=True,
                   help="comma-separated words/measurements (e.g. 'fat,tall,height_cm') or a "
                        "word-list file, one per line")
    p.add_argument("--out", required=True, help="slider set folder to write")
    p.add_argument("--max-epochs", type=int, default=40)
    p.add_argument("--vertex-loss", type=float, default=DEFAULT_VERTEX_LOSS,
                   help="weight of the mean per-vertex error in metres (0: coefficient MSE "
                        f"only; default {DEFAULT_VERTEX_LOSS:g})")
    p.add_argument("--hidden", default="256,256", help="hidden layer widths, e.g. 256,256 "
                                                        "('' for a linear map)")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the weights")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--template", default=None, help="CLIP prompt template name or text")
    p.add_argument("--selection", default=None, help="selection report to copy into --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def parse_hidden(text: str) -> tuple[int, ...]:
    """'256,256' -> (256, 256); '' -> () (a linear map)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        hidden = tuple(int(part) for part in parts)
    except ValueError:
        raise SemantifyError(f"--hidden must be comma-separated integers like 256,256, got "
                             f"{text!r}.") from None
    if any(h <= 0 for h in hidden):
        raise SemantifyError(f"--hidden widths must be positive, got {text!r}.")
    return hidden


def run(args) -> int:
    for name in ("max_epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise SemantifyError(f"--{name.replace('_', '-')} must be at least 1.")
    if args.vertex_loss < 0:
        raise SemantifyError("--vertex-loss must be 0 or more.")
    hidden = parse_hidden(args.hidden)
    from lightning_modules.train import train

    _, metrics = train(args.data, args.descriptors, args.out, max_epochs=args.max_epochs,
                       vertex_loss=args.vertex_loss, hidden=hidden, batch_size=args.batch_size,
                       lr=args.lr, seed=args.seed, val_fraction=args.val_fraction,
                       template=args.template, selection=args.selection,
                       progress=not args.no_progress)
    summary = {k: v for k, v in metrics.items() if k != "history"}
    print(json.dumps({"slider_set": args.out, **summary}, indent=2))
    return 0
