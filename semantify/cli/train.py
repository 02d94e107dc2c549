"""``semantify train``: train sliders (a mapper) on a dataset and write the slider set."""

from __future__ import annotations

import json

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    """The training settings and their defaults come from the Lightning modules' signatures
    (``lightning_modules.train.settings_defaults``), the one place they are defined."""
    from lightning_modules.train import settings_defaults

    p = subparsers.add_parser(
        "train", help="train sliders on a dataset and write the slider set folder",
        description="Train a mapper from descriptor values (CLIP words and/or measurements) to "
                    "coefficients, with Lightning; the same as `python -m lightning_modules fit "
                    "--config configs/MODEL.yaml`. Writes the slider set into --out.")
    p.add_argument("data", help="dataset folder written by `semantify generate`")
    p.add_argument("--descriptors", required=True,
                   help="comma-separated words/measurements (e.g. 'fat,tall,height_cm') or a "
                        "word-list file, one per line")
    p.add_argument("--out", required=True, help="slider set folder to write")
    p.add_argument("--selection", default=None, help="selection report to copy into --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    settings = p.add_argument_group("training settings (defaults from the Lightning modules)")
    for name, default in settings_defaults().items():
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        settings.add_argument(f"--{name.replace('_', '-')}", dest=f"setting_{name}",
                              default=None, metavar="VALUE", help=f"default {shown}")
    p.set_defaults(run=run)


def parse_setting(name: str, text: str, default):
    """A training setting typed like its default: numbers, or 'a,b' lists of widths (their
    ranges are checked by ``lightning_modules.train.TrainingSettings``, for every front)."""
    flag = f"--{name.replace('_', '-')}"
    try:
        if isinstance(default, tuple):
            return tuple(int(part) for part in text.split(",") if part.strip())
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        example = "256,256 ('' for a linear map)" if isinstance(default, tuple) else \
            f"like {default}"
        raise SemantifyError(f"{flag} {text!r} is not valid; write {example}.") from None
    return text


def run(args) -> int:
    from lightning_modules.train import settings_defaults, train

    settings = {}
    for name, default in settings_defaults().items():
        text = getattr(args, f"setting_{name}")
        if text is not None:
            settings[name] = parse_setting(name, text, default)
    _, metrics = train(args.data, args.descriptors, args.out, selection=args.selection,
                       progress=not args.no_progress, **settings)
    summary = {k: v for k, v in metrics.items() if k != "history"}
    print(json.dumps({"slider_set": args.out, **summary}, indent=2))
    return 0
