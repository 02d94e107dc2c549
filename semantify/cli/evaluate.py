"""``semantify evaluate``: held-out error, slider fidelity, disentanglement and pictures."""

from __future__ import annotations

from pathlib import Path


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="measure how well a slider set works",
        description="Held-out vertex error (mm) and coefficient R², per-slider fidelity (Pearson "
                    "r of asked vs measured), disentanglement, measurement errors for metric "
                    "sliders, and a low/default/high picture per slider.")
    p.add_argument("sliders", help="slider set folder written by `semantify train`")
    p.add_argument("--data", default=None,
                   help="dataset to evaluate on (default: the validation rows of its own)")
    p.add_argument("--out", default=None,
                   help="folder for evaluation.json and pictures (default SLIDERS/evaluation)")
    p.add_argument("--grid", type=int, default=9, help="values per slider for fidelity")
    p.add_argument("--max-rows", type=int, default=500, help="held-out rows to use at most")
    p.set_defaults(run=run)


def run(args) -> int:
    from semantify.sets.evaluation import evaluate, summary_lines
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(args.sliders)
    out = Path(args.out) if args.out else Path(args.sliders) / "evaluation"
    report = evaluate(slider_set, args.data, out, grid=args.grid, max_rows=args.max_rows)
    print("\n".join(summary_lines(report)))
    print(f"wrote {out / 'evaluation.json'} and {len(report['pictures'])} pictures")
    return 0
