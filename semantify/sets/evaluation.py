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
  measurements are asked for and the resulting mesh is measured (mean and p95), and the
  cross-talk into lengths nobody asked for: along each slider's grid (others at default), how
  far each unasked skeletal length (arm, shoulder, inseam) strays from its reference
  (:meth:`SliderSet.held_measurements`) and how far each asked value is missed, drawn in
  ``crosstalk.png``;
- receipts (:mod:`semantify.sets.receipts`): what each word slider does in cm and kg, measured on
  the meshes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from semantify.data.dataset import open_dataset
from semantify.descriptors.describe import DescriptorMeter
from semantify.errors import SemantifyError
from semantify.files import write_json_atomic
from semantify.sets.mapper import mean_vertex_error_mm, r2_score, validation_split
from semantify.sets.receipts import Receipt, measure_receipts
from semantify.sets.sliders import SliderSet

PICTURE_SIZE = 256


def held_out(slider_set: SliderSet, dataset, rows: torch.Tensor,
             model) -> tuple[dict, torch.Tensor]:
    """Vertex error (mm) and R² on ``rows`` of ``dataset``, and their (N, K) descriptor values."""
    from semantify.descriptors import descriptor_values

    scorer = slider_set.scorer if slider_set.word_names else None
    values = slider_set.in_slider_units(
        descriptor_values(dataset, slider_set.names, scorer, slider_set.template)[rows].double())
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
    defaults = torch.tensor([s.default for s in sliders], dtype=torch.float64)
    bounds = list(slider_set.ranges(slider_set.defaults).values())  # coupled sliders: their band
    asked = torch.stack([torch.linspace(lo, hi, grid, dtype=torch.float64)
                         for lo, hi in bounds])  # (K, G)
    values = defaults.repeat(k * grid, 1)
    for i in range(k):
        values[i * grid:(i + 1) * grid, i] = asked[i]
    with torch.no_grad():
        vertices = model(slider_set.coefficients(values))
    measured = meter(vertices).view(k, grid, k).numpy()  # [slider moved, grid, descriptor]
    span = np.array([hi - lo for lo, hi in bounds], dtype=np.float64)
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
    asked: the rest would be clamped first. The shape comes from
    ``slider_set.coefficients``, refinement included.
    """
    targets = targets.double()
    clamped, _ = slider_set.values(targets)
    targets = targets[(clamped == targets).all(1)]
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


def unasked_sweeps(slider_set: SliderSet, model, grid: int) -> dict:
    """Per slider, along its grid (others at default): the asked values, every measurement of
    the built mesh, and the reference of each unasked skeletal length
    (:meth:`SliderSet.held_measurements`: where a body with the asked values has it)."""
    from semantify.sets.metric_fit import held_lengths

    meter = slider_set.anthropometer
    unasked = held_lengths(meter, slider_set.names)
    sweeps = {}
    defaults = torch.tensor([s.default for s in slider_set.sliders], dtype=torch.float64)
    bounds = list(slider_set.ranges(slider_set.defaults).values())  # coupled sliders: their band
    for i, s in enumerate(slider_set.sliders):
        values = defaults.repeat(grid, 1)
        values[:, i] = torch.linspace(*bounds[i], grid, dtype=torch.float64)
        with torch.no_grad():
            measured = meter.measure(model(slider_set.coefficients(values)))
        held = slider_set.held_measurements(values)
        sweeps[s.name] = {
            "values": {d: values[:, j].tolist() for j, d in enumerate(slider_set.names)},
            "measured": {n: measured[n].tolist() for n in (*slider_set.names, *unasked)},
            "reference": {n: (held[n] if n in held else measured[n][:1].expand(grid)).tolist()
                          for n in unasked}}
    return sweeps


def crosstalk_summary(sweeps: dict) -> dict:
    """{slider: {"unasked_cm": {length: max |measured - reference|}, "asked_miss":
    {descriptor: max |measured - asked|}}} along each slider's grid."""
    summary = {}
    for slider, sweep in sweeps.items():
        measured = {n: np.array(v) for n, v in sweep["measured"].items()}
        summary[slider] = {
            "unasked_cm": {n: float(np.abs(measured[n] - np.array(r)).max())
                           for n, r in sweep["reference"].items()},
            "asked_miss": {n: float(np.abs(measured[n] - np.array(v)).max())
                           for n, v in sweep["values"].items()}}
    return summary


def crosstalk_picture(sweeps: dict, path: Path) -> Path:
    """Top: each unasked length minus its reference along each slider; bottom: how far each
    asked measurement misses (cm, or kg for mass). Grey bands: the targets (1 cm; 5 mm)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from semantify.files import write_atomic
    from semantify.measurements.registry import MEASUREMENTS

    fig, axes = plt.subplots(2, len(sweeps), figsize=(3.2 * len(sweeps), 5.4), squeeze=False,
                             sharey="row")
    for column, (slider, sweep) in enumerate(sweeps.items()):
        x = sweep["values"][slider]
        top, bottom = axes[0][column], axes[1][column]
        for name, reference in sweep["reference"].items():
            top.plot(x, np.array(sweep["measured"][name]) - np.array(reference), marker="o",
                     markersize=3, label=MEASUREMENTS[name].label)
        for name, asked in sweep["values"].items():
            bottom.plot(x, np.array(sweep["measured"][name]) - np.array(asked), marker=".",
                        markersize=3, label=MEASUREMENTS[name].heading)
        top.axhspan(-1, 1, color="0.9", zorder=0)
        bottom.axhspan(-0.5, 0.5, color="0.9", zorder=0)
        bottom.set_xlabel(MEASUREMENTS[slider].heading if slider in MEASUREMENTS else slider)
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("unasked length - reference (cm)")
    axes[1][0].set_ylabel("measured - asked (cm or kg)")
    axes[0][-1].legend(fontsize=7)
    axes[1][-1].legend(fontsize=7)
    fig.suptitle("Cross-talk along each slider, the others at their defaults (grey: ±1 cm "
                 "unasked, ±5 mm asked)", fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def slider_pictures(slider_set: SliderSet, model, out: Path) -> list[str]:
    """One PNG per slider: the mesh at its low, default and high value, side by side."""
    from semantify.pictures.renderers import interactive_renderer, viewer_errors
    from viewer.images import save_png, side_by_side

    renderer = interactive_renderer(model, size=PICTURE_SIZE)
    paths = []
    bounds = list(slider_set.ranges(slider_set.defaults).values())
    for i, s in enumerate(slider_set.sliders):
        values = torch.tensor([s.default for s in slider_set.sliders]).repeat(3, 1)
        values[:, i] = torch.tensor([bounds[i][0], s.default, bounds[i][1]])
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
    if max_rows < 2:
        raise SemantifyError(f"--max-rows must be at least 2 (R² needs two rows), got "
                             f"{max_rows}.")
    if slider_set.body_model is not None:
        raise SemantifyError(f"{slider_set.name} makes bodies from set and free measurements "
                             "(a body model, no mapper to evaluate); its figures come from "
                             "`python bench/metric_person.py`.")
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
    meter = DescriptorMeter(slider_set, list(dataset.manifest.views) or ["front"])
    report.update(slider_sweeps(slider_set, model, meter, grid))
    report["receipts"] = [r.to_dict() for r in measure_receipts(slider_set, grid)]
    sweeps = None
    if not meter.words:
        report["measurement_errors"] = metric_errors(slider_set, model, meter, values)
        sweeps = unasked_sweeps(slider_set, model, grid)
        report["crosstalk"] = crosstalk_summary(sweeps)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        report["pictures"] = slider_pictures(slider_set, model, out)
        if sweeps:
            report["pictures"].append(crosstalk_picture(sweeps, out / "crosstalk.png").name)
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
    if report.get("receipts"):
        lines.append("receipts (low to high, others at default, measured on the meshes):")
        lines += [f"  {r.slider:<24} {r.line()}"
                  for r in map(Receipt.from_dict, report["receipts"])]
    if "measurement_errors" in report:
        rows = next(iter(report["measurement_errors"].values()))["rows"]
        lines.append(f"measurement error after shape -> measure (mean / p95, {rows} held-out "
                     "targets within the slider ranges):")
        lines += [f"  {name:<24} {e['mean']:.2f} / {e['p95']:.2f} {e['unit'] or ''}"
                  for name, e in report["measurement_errors"].items()]
    if report.get("crosstalk"):
        lines.append("cross-talk along each slider (others at default): unasked lengths' largest "
                     "distance from their reference (cm) | largest miss of an asked value:")
        for slider, talk in report["crosstalk"].items():
            unasked = ", ".join(f"{n} {d:.2f}" for n, d in talk["unasked_cm"].items())
            miss = max(talk["asked_miss"].items(), key=lambda item: item[1])
            lines.append(f"  {slider:<12} {unasked} | {miss[0]} {miss[1]:.2f}")
    return lines
