"""Train a metric slider set on a body model instead of a network.

``semantify train DATA --descriptors height_cm,chest_cm,waist_cm,hips_cm,mass_kg,build`` (a
descriptor list with a phenotype slider, ``build``) lands here: the set's free sliders follow
the most likely person given the set ones, which a network trained on all sliders at once cannot
give. The body model (:class:`semantify.measurements.conditional.BodyModel`) is the Gaussian of
the dataset's measured bodies and their coefficients (the training rows; the validation rows
score it). The set's mapper is that model with every slider set (an affine map), written as a
linear :class:`semantify.sets.mapper.Mapper` so the set keeps the one file format.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from semantify.errors import SemantifyError
from semantify.measurements.conditional import BodyModel, phenotype
from semantify.measurements.human import survey_ranges
from semantify.measurements.registry import MEASUREMENTS
from semantify.sets.mapper import Mapper
from semantify.sets.sliders import Refine, Slider, TrainedSliders, sliders_from_values

VAL_FRACTION = 0.1  # the last rows (by sample index) score the model; the rest fit it
# Refinement steps (up to twice as many for rows off target): a drag converges in 2-3, but with
# 3 requests near the typical region's edge stopped 0.6-2.4 cm short (more steps met 3 of 5).
ITERATIONS = 5
UNSURVEYED_ROUND = 10.0  # cm: a girth no survey measured reaches the bodies' max rounded down


def uses_body_model(descriptors: Sequence[str]) -> bool:
    """Whether a descriptor list asks for a body-model set (it names a phenotype slider)."""
    return any(phenotype(name) is not None for name in descriptors)


def train_body_sliders(data: str | Path, descriptors: Sequence[str],
                       out: str | Path | None) -> tuple[TrainedSliders, dict]:
    """Fit the body model on dataset ``data`` and write the set of ``descriptors``
    (measurements and phenotypes) to ``out``; return (slider set, metrics)."""
    from semantify.data.dataset import open_dataset

    started = time.perf_counter()
    words = [n for n in descriptors if n not in MEASUREMENTS and phenotype(n) is None]
    if words:
        raise SemantifyError(f"a set with a build slider takes measurements only; drop "
                             f"{words[0][:60]!r} or the phenotype sliders.")
    dataset = open_dataset(data, ("measurements",))
    model = dataset.model_ref.load()
    measured = [n for n in dataset.measurement_names if n in MEASUREMENTS]
    missing = [n for n in descriptors if phenotype(n) is None and n not in measured]
    if dataset.measurements is None or missing:
        raise SemantifyError(f"dataset {data} has no measurement {(missing or ['at all'])[0]!r}; "
                             "generate it for a model with body landmarks.")
    for name in descriptors:
        build = phenotype(name)
        if build is not None and build.coefficient not in model.coefficient_names:
            raise SemantifyError(f"slider {name!r} needs coefficient {build.coefficient!r}, "
                                 f"which {model.id} does not have; use an Anny body.")
    columns = [dataset.measurement_names.index(n) for n in measured]
    rows = torch.cat([dataset.measurements[:, columns].double(),
                      dataset.coefficients.double()], 1)
    fit_rows = round(len(rows) * (1 - VAL_FRACTION))
    names = (*measured, *model.coefficient_names)
    body = BodyModel.fit(names, rows[:fit_rows])
    sliders = _sliders(descriptors, body, rows[:fit_rows])
    mapper = _all_set_mapper(body, sliders, model.coefficient_names)
    slider_set = TrainedSliders(
        Path(out).name if out is not None else "body-sliders", sliders, dataset.model_ref,
        mapper, model.coefficient_names, dataset=Path(data),
        training={"val_fraction": VAL_FRACTION, "samples": len(rows),
                  "body_model": "gaussian over measurements and coefficients"},
        refine=Refine(ITERATIONS), body_model=body)
    metrics = _metrics(slider_set, rows[fit_rows:], measured, time.perf_counter() - started)
    if out is not None:
        slider_set.save(out, metrics)
    return slider_set, metrics


def _sliders(descriptors: Sequence[str], body: BodyModel, rows: torch.Tensor) -> list[Slider]:
    """Measurement sliders over what people have (default the median, see :func:`_widened`); a
    phenotype slider over 0..1, its default the population's mean."""
    out = []
    for name in descriptors:
        build = phenotype(name)
        if build is None:
            values = rows[:, body.index([name])]  # (N, 1)
            out.append(_widened(sliders_from_values([name], values)[0], values[:, 0]))
        else:
            mean = float(build.slider_value(body.mean[body.index([build.coefficient])[0]]))
            out.append(Slider.readable(name, 0.0, 1.0, mean))
    return out


def _widened(slider: Slider, values: torch.Tensor) -> Slider:
    """``slider`` over the bodies' p1..p99 widened to people: to the survey's range
    (:func:`semantify.measurements.human.survey_ranges`) on each side the bodies' (N,)
    ``values`` reach (a side beyond every body keeps p1/p99: the set could not meet it); a girth
    no survey measured (chest, hips) reaches up to the bodies' max rounded down to
    UNSURVEYED_ROUND, room for the free girths of the heaviest bodies the mass slider asks."""
    lowest, highest = float(values.min()), float(values.max())
    people = survey_ranges().get(slider.name)
    if people is None:
        high = max(slider.high, math.floor(highest / UNSURVEYED_ROUND) * UNSURVEYED_ROUND)
        return Slider.readable(slider.name, slider.low, high, slider.default)
    low = min(slider.low, people.low) if people.low >= lowest else slider.low
    high = max(slider.high, people.high) if people.high <= highest else slider.high
    return Slider.readable(slider.name, low, high, slider.default)


def _all_set_mapper(body: BodyModel, sliders: Sequence[Slider],
                    coefficient_names: Sequence[str]) -> Mapper:
    """The body model's most likely coefficients given every slider, an affine map of the
    slider values, as a linear mapper (identity standardisation)."""
    known = [phenotype(s.name).coefficient if phenotype(s.name) else s.name for s in sliders]
    points = torch.cat([torch.zeros(1, len(sliders)), torch.eye(len(sliders))]).double()
    for i, slider in enumerate(sliders):
        if phenotype(slider.name) is not None:
            points[:, i] = phenotype(slider.name).coefficient_value(points[:, i])
    index = body.index(coefficient_names)
    predicted = body.predict(known, points)[:, index]  # (K + 1, C)
    mapper = Mapper(len(sliders), len(coefficient_names), ())
    with torch.no_grad():
        mapper.net[-1].bias.copy_(predicted[0].float())
        mapper.net[-1].weight.copy_((predicted[1:] - predicted[0]).T.float())
    return mapper.eval()


def _metrics(slider_set: TrainedSliders, rows: torch.Tensor, measured: Sequence[str],
             seconds: float) -> dict:
    """How well the body model predicts held-out bodies' free measurements from height and
    mass alone (mean absolute error per measurement), and its size."""
    body = slider_set.body_model
    known = ["height_cm", "mass_kg"]
    if not set(known) <= set(measured) or not len(rows):
        return {"bodies": len(rows), "seconds": seconds}
    predicted = body.predict(known, rows[:, body.index(known)])
    errors = {f"val_mae_{n}": float((predicted[:, i] - rows[:, i]).abs().mean())
              for i, n in enumerate(measured) if n not in known}
    return {"given": known, **errors, "val_rows": len(rows), "seconds": round(seconds, 2)}
