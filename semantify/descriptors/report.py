"""The selection report: ``selection.json``, ``selection.md`` and ``correlation.png``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from semantify.descriptors.selection import Selection, correlation_matrix
from semantify.files import write_atomic, write_json_atomic


def selection_warnings(selection: Selection) -> list[str]:
    """Hints when the result looks unusable: nothing predicted, or everything correlated."""
    warnings = []
    if selection.r2 < 0.05:
        warnings.append(f"the chosen descriptors barely predict the coefficients (test R² "
                        f"{selection.r2:.3f}): are the CLIP weights semantic and the words apt "
                        "for this model?")
    correlated = sum(r.startswith("correlated") for r in selection.rejected.values())
    if correlated >= 0.8 * len(selection.rejected) > 0 and len(selection.chosen) < 3:
        warnings.append(f"{correlated} candidates were dropped as correlated with a chosen "
                        f"one; raise --max-corr (now {selection.settings['max_corr']}) to keep "
                        "more.")
    return warnings


def selection_record(selection: Selection, values: torch.Tensor, names: Sequence[str],
                     metadata: dict | None = None) -> dict:
    """The JSON-ready report: chosen words with stats and R² per step, rejections, baseline."""
    names = list(names)
    mean, std = values.double().mean(0), values.double().std(0)
    stats = {name: {"mean": round(float(mean[i]), 4), "std": round(float(std[i]), 4)}
             for i, name in enumerate(names)}
    previous = [0.0, *selection.r2_steps[:-1]]
    return {
        **(metadata or {}),
        "chosen": [{"name": name, **stats[name], "r2": round(r2, 4), "gain": round(r2 - p, 4)}
                   for name, r2, p in zip(selection.chosen, selection.r2_steps, previous)],
        "r2_steps": [round(r2, 4) for r2 in selection.r2_steps],
        "r2_test": round(selection.r2, 4),
        "baseline": {"method": "reference heuristic: by variance, |r| and antonym filters",
                     "chosen": selection.baseline.chosen,
                     "r2_test": round(selection.baseline.r2, 4),
                     "r2_validation": round(selection.baseline.r2_validation, 4)},
        "rejected": {name: {"reason": reason, **stats[name]}
                     for name, reason in selection.rejected.items()},
        "candidates": stats,
        "warnings": selection_warnings(selection),
        "settings": selection.settings,
    }


def summary_table(selection: Selection, values: torch.Tensor, names: Sequence[str]) -> str:
    """A short plain-text table of the chosen words and the two methods' test R²."""
    record = selection_record(selection, values, names)
    width = max(len("descriptor"), *(len(row["name"]) for row in record["chosen"]))
    lines = [f"{'#':>2}  {'descriptor':<{width}}  {'mean':>8}  {'std':>7}  {'val R²':>7}"]
    lines += [f"{k:>2}  {row['name']:<{width}}  {row['mean']:>8.2f}  {row['std']:>7.3f}  "
              f"{row['r2']:>7.3f}" for k, row in enumerate(record["chosen"], start=1)]
    lines.append(f"test R²: selected {selection.r2:.3f} vs variance baseline "
                 f"{selection.baseline.r2:.3f} ({', '.join(selection.baseline.chosen)})")
    lines += [f"warning: {warning}" for warning in record["warnings"]]
    return "\n".join(lines)


def _markdown(record: dict) -> str:
    lines = ["# Descriptor selection", ""]
    if "dataset" in record:
        lines += [f"Dataset: `{record['dataset']}`", ""]
    lines += ["| # | descriptor | mean | std | validation R² | gain |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {k} | {row['name']} | {row['mean']:.2f} | {row['std']:.3f} | "
              f"{row['r2']:.3f} | {row['gain']:+.3f} |"
              for k, row in enumerate(record["chosen"], start=1)]
    baseline = record["baseline"]
    lines += ["", f"Held-out test R²: **{record['r2_test']:.3f}** for the selection, "
              f"{baseline['r2_test']:.3f} for the {baseline['method']} ("
              f"{', '.join(baseline['chosen'])}).", ""]
    lines += [f"**Warning:** {warning}\n" for warning in record["warnings"]]
    lines += ["## Rejected", "",
              "| descriptor | std | reason |", "|---|---|---|"]
    lines += [f"| {name} | {row['std']:.3f} | {row['reason']} |"
              for name, row in record["rejected"].items()]
    return "\n".join(lines) + "\n"


def _heatmap(path: Path, corr: torch.Tensor, names: list[str], chosen: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(names)
    size = min(4 + 0.28 * k, 40)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(corr.numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="Pearson r")
    labels = [f"★ {name}" if name in chosen else name for name in names]
    ax.set_xticks(range(k), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        for label, name in zip(ticks, names):
            if name in chosen:
                label.set_color("darkgreen")
                label.set_fontweight("bold")
    for name in chosen:
        i = names.index(name)
        ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="lime", lw=2))
    ax.set_title(f"Descriptor correlation ({len(chosen)} chosen of {k}, ★)")
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def write_report(selection: Selection, out_dir: Path | str, values: torch.Tensor,
                 names: Sequence[str], metadata: dict | None = None) -> dict:
    """Write ``selection.json``, ``selection.md`` and ``correlation.png`` to ``out_dir``.

    ``values`` (N, K) are the candidates' values in ``names`` order; ``metadata`` (e.g. the
    dataset path) is merged into the JSON. Returns the JSON record.
    """
    out = Path(out_dir)
    record = selection_record(selection, values, names, metadata)
    write_json_atomic(out / "selection.json", record)
    write_atomic(out / "selection.md",
                 lambda tmp: Path(tmp).write_text(_markdown(record), encoding="utf-8"))
    _heatmap(out / "correlation.png", correlation_matrix(values), list(names), selection.chosen)
    return record
