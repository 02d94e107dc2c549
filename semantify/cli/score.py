"""``semantify score``: descriptor score statistics from stored embeddings, no rendering."""

from __future__ import annotations

from pathlib import Path

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "score", help="score new descriptors on a dataset's stored embeddings (seconds)")
    p.add_argument("data", help="dataset folder from `semantify generate`")
    p.add_argument("--descriptors", required=True,
                   help='comma-separated words ("fat,tall") or a file with one per line')
    p.add_argument("--template", default=None, help='prompt template, e.g. "{}" for bare words')
    p.add_argument("--out", default=None, help="JSON file (default DATA/scores.json)")
    p.set_defaults(run=run)


def score_statistics(values, names: list[str]) -> dict[str, dict[str, float]]:
    """Mean, std and percentiles of each column of ``values`` (N, K)."""
    import torch

    q = torch.tensor([p / 100 for p in PERCENTILES])
    stats = {}
    for k, name in enumerate(names):
        column = values[:, k].double()
        row = {"mean": column.mean().item(), "std": column.std().item()}
        quantiles = torch.quantile(column, q.double()).tolist()
        row.update({f"p{p}": v for p, v in zip(PERCENTILES, quantiles)})
        stats[name] = row
    return stats


def run(args) -> int:
    from semantify.data.dataset import open_dataset
    from semantify.descriptors import descriptor_values, parse_descriptors
    from semantify.files import write_json_atomic

    dataset = open_dataset(args.data, fields=("image_embeds", "measurements"))  # no thumbnails
    names = parse_descriptors(args.descriptors)
    values = descriptor_values(dataset, names, template=args.template)
    stats = score_statistics(values, names)
    width = max(len(n) for n in names)
    print(f"{'descriptor':<{width}} {'mean':>8} {'std':>7} {'p5':>8} {'p50':>8} {'p95':>8}")
    for name, row in stats.items():
        print(f"{name:<{width}} {row['mean']:8.3f} {row['std']:7.3f} {row['p5']:8.3f} "
              f"{row['p50']:8.3f} {row['p95']:8.3f}")
    out = Path(args.out) if args.out else Path(args.data) / "scores.json"
    write_json_atomic(out, {"dataset": str(args.data), "samples": len(dataset),
                            "template": args.template, "statistics": stats})
    print(f"saved {out}")
    return 0
