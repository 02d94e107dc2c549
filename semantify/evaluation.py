"""How good a slider set is: held-out error, slider fidelity, disentanglement, pictures.

- held-out: mean per-vertex error (mm) and coefficient R² of the mapper on the validation rows
  of its dataset (or on all rows of another dataset);
- fidelity: each slider is set on a grid from low to high (others at default), the mesh is
  built, then measured (metric descriptors) or rendered and scored with the same CLIP (words);
  the Pearson correlation between asked and measured values, per slider;
- disentanglement: the K x K matrix of |d measured_j / d asked_i|, each slope scaled by the
  ratio of the slider ranges (range_i / range_j), and one number: mean off-diagonal over mean
  diagonal (0 is perfectly disentangled);
- metric slider sets: the absolute error of each measurement when the validation rows'
  measurements are asked for and the resulting mesh is measured (mean and p95).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from semantify.dataset import open_dataset
from semantify.describe import DescriptorMeter
from semantify.files import write_json_atomic
from semantify.errors import SemantifyError
from semantify.mapper import mean_vertex_error_mm, r2_score, validation_split
from semantify.sliders import SliderSet

PICTURE_SIZE = 256


def held_out(slider_set: SliderSet, dataset, rows: torch.Tensor,
             model) -> tuple[dict, torch.Tensor]:
    """Vertex error (mm) and R² on ``rows`` of ``dataset``, and their (N, K) descriptor values."""
    from semantify.descriptors import descriptor_values

    scorer = slider_set.scorer if slider_set.word_names else None
    values = descriptor_values(dataset, slider_set.names, scorer, slider_set.template)[rows]
    predicted = slider_set.coefficients(values.double())
    target = dataset.coefficients[rows].float()
    return {"rows": int(len(rows)),
            "vertex_mm": mean_vertex_error_mm(model, predicted, target),
            "coefficient_r2": r2_score(predicted, target)}, values


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def slider_sweeps(slider_set: SliderSet, model, meter: DescriptorMeter, grid: int) -> dict:
    """Fidelity per slider and the normalised sensitivity matrix from one grid per slider."""
    sliders = slider_set.sliders
    k = len(sliders)
    defaults = torch.tensor([s.default for s in sliders], dtype=torch.float32)
    asked = torch.stack([torch.linspace(s.low, s.high, grid) for s in sliders])  # (K, G)
    values = defaults.repeat(k * grid, 1)
    for i in range(k):
        values[i * grid:(i + 1) * grid, i] = asked[i]
    with torch.no_grad():
        vertices = model(slider_set.coefficients(values))
    measured = meter(vertices).view(k, grid, k).numpy()  # [slider moved, grid, descriptor]
    span = np.array([s.high - s.low for s in sliders], dtype=np.float64)
    span = np.where(span > 0, span, 1.0)
    fidelity, sensitivity = {}, np.zeros((k, k))
    for i, s in enumerate(sliders):
        x = asked[i].numpy().astype(np.float64)
        fidelity[s.name] = _pearson(x, measured[i, :, i].astype(np.float64))
        for j in range(k):
            slope = np.polyfit(x, measured[i, :, j].astype(np.float64), 1)[0] if span[i] > 0 \
                else 0.0
            sensitivity[i, j] = abs(slope) * span[i] / span[j]
    diagonal = float(np.diag(sensitivity).mean())
    off = float((sensitivity.sum() - np.trace(sensitivity)) / max(k * k - k, 1))
    return {"fidelity": fidelity,
            "sensitivity": sensitivity.tolist(),
            "disentanglement": off / diagonal if diagonal > 0 else float("nan")}


def metric_errors(slider_set: SliderSet, model, meter: DescriptorMeter,
                  targets: torch.Tensor) -> dict:
    """Mean and p95 |measured - asked| per measurement (mm for lengths, kg for mass).

    ``targets`` are (N, K) asked measurement rows; only rows inside every slider's range are
    asked (the rest would be clamped first). The shape comes from ``slider_set.coefficients``,
    refinement included.
    """
    low = torch.tensor([s.low for s in slider_set.sliders])
    high = torch.tensor([s.high for s in slider_set.sliders])
    targets = targets[((targets >= low) & (targets <= high)).all(1)]
    with torch.no_grad():
        vertices = model(slider_set.coefficients(targets.double()))
    error = (meter(vertices) - targets).abs().numpy()
    report = {}
    for i, (name, s) in enumerate(zip(slider_set.names, slider_set.sliders)):
        scale, unit = (10.0, "mm") if s.unit == "cm" else (1.0, s.unit)
        report[name] = {"mean": float(np.nanmean(error[:, i])) * scale,
                        "p95": float(np.nanpercentile(error[:, i], 95)) * scale, "unit": unit,
                        "rows": int(error.shape[0])}
    return report


def slider_pictures(slider_set: SliderSet, model, out: Path) -> list[str]:
    """One PNG per slider: the mesh at its low, default and high value, side by side."""
    from semantify.rendering import interactive_renderer, viewer_errors
    from viewer.images import save_png, side_by_side

    renderer = interactive_renderer(model, size=PICTURE_SIZE)
    paths = []
    for i, s in enumerate(slider_set.sliders):
        values = torch.tensor([s.default for s in slider_set.sliders]).repeat(3, 1)
        values[:, i] = torch.tensor([s.low, s.default, s.high])
        with torch.no_grad():
            vertices = model(slider_set.coefficients(values)).cpu().numpy()
        with viewer_errors():
            picture = side_by_side([renderer.render(v) for v in vertices])
            path = save_png(out / f"slider-{_file_name(s.name)}.png", picture)
        paths.append(path.name)
    return paths


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def evaluate(slider_set: SliderSet, data: Path | str | None = None, out: Path | str | None = None,
             grid: int = 9, max_rows: int = 500) -> dict:
    """Evaluate ``slider_set``; write ``evaluation.json`` and pictures into ``out`` if given."""
    if grid < 3:
        raise SemantifyError(f"--grid must be at least 3, got {grid}.")
    same = data is None
    dataset = slider_set.open_dataset() if data is None else open_dataset(data)
    data = dataset.root
    if dataset.model_id != slider_set.model_id:
        raise SemantifyError(f"dataset {data} is of {dataset.model_id!r}, the slider set drives "
                             f"{slider_set.model_id!r}; pass a {slider_set.model_id} dataset.")
    if same or Path(data).resolve() == Path(slider_set.dataset or "").resolve():
        training = slider_set.training
        _, rows = validation_split(len(dataset), training.get("val_fraction", 0.1),
                                   training.get("seed", 0))
    else:
        rows = torch.arange(len(dataset))
    rows = rows[:max_rows]
    model = slider_set.model
    report = {"slider_set": str(slider_set.root), "dataset": str(data),
              "model": slider_set.model_id}
    report["held_out"], values = held_out(slider_set, dataset, rows, model)
    meter = DescriptorMeter(slider_set, dataset.manifest.get("views") or ["front"])
    report.update(slider_sweeps(slider_set, model, meter, grid))
    if not meter.words:
        report["measurement_errors"] = metric_errors(slider_set, model, meter, values)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        report["pictures"] = slider_pictures(slider_set, model, out)
        write_json_atomic(out / "evaluation.json", report)
    return report


def summary_lines(report: dict) -> list[str]:
    """Human-readable lines of an evaluation report."""
    held = report["held_out"]
    lines = [f"held-out vertex error: {held['vertex_mm']:.2f} mm over {held['rows']} rows",
             f"coefficient R²: {held['coefficient_r2']:.3f}",
             f"disentanglement (mean off-diagonal / diagonal): {report['disentanglement']:.3f}",
             "slider fidelity (Pearson r, asked vs measured):"]
    lines += [f"  {name:<24} {r:+.3f}" for name, r in report["fidelity"].items()]
    if "measurement_errors" in report:
        rows = next(iter(report["measurement_errors"].values()))["rows"]
        lines.append(f"measurement error after shape -> measure (mean / p95, {rows} held-out "
                     "targets within the slider ranges):")
        lines += [f"  {name:<24} {e['mean']:.2f} / {e['p95']:.2f} {e['unit'] or ''}"
                  for name, e in report["measurement_errors"].items()]
    return lines
