"""Metric refinement: shapes that measure what was asked, monotone sliders, ranges kept."""

import json

import pytest
import torch

from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.mapper import Mapper
from semantify.measure import Anthropometer
from semantify.metric_fit import refine_to_measurements
from semantify.clip import ClipSpec
from semantify.models import ModelRef
from semantify.sliders import Refine, Slider, SliderSet, TrainedSliders

DESCRIPTORS = ["height_cm", "chest_cm", "waist_cm", "hips_cm", "mass_kg"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An anny-body metric slider set trained briefly on 600 generated bodies (no CLIP)."""
    tmp = tmp_path_factory.mktemp("metric")
    data, out = tmp / "data", tmp / "sliders"
    assert main(["generate", "anny-body", "--samples", "600", "--clip", "none",
                 "--out", str(data)]) == 0
    assert main(["train", str(data), "--descriptors", ",".join(DESCRIPTORS), "--out", str(out),
                 "--max-epochs", "12", "--hidden", "64", "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def anny():
    from semantify.models import load_model

    model = load_model("anny-body")
    return model, Anthropometer.for_model(model)


def _measure(model, meter, coefficients):
    with torch.no_grad():
        return meter.measure(model(coefficients))


def test_refined_shapes_hit_real_bodies_measurements(trained, anny):
    model, meter = anny
    sliders = SliderSet.load(trained)
    assert json.loads((trained / "sliders.json").read_text())["refine"] == {
        "iterations": 3, "free": None}
    truth = _measure(model, meter, model.sample(range(12), 9999))  # not the training seed
    values = torch.stack([truth[n] for n in DESCRIPTORS], 1)
    low = torch.tensor([s.low for s in sliders.sliders])
    high = torch.tensor([s.high for s in sliders.sliders])
    values = values[((values >= low) & (values <= high)).all(1)][:5]
    assert len(values) >= 3
    got = _measure(model, meter, sliders.coefficients(values))
    plain = _measure(model, meter, sliders.coefficients(values, refine=False))
    height_mm = (got["height_cm"] - values[:, 0]).abs() * 10
    waist_mm = (got["waist_cm"] - values[:, 2]).abs() * 10
    assert height_mm.max() < 5 and waist_mm.max() < 10, (height_mm, waist_mm)
    plain_height_mm = (plain["height_cm"] - values[:, 0]).abs() * 10
    assert height_mm.mean() < plain_height_mm.mean()


def test_height_slider_is_monotone(trained, anny):
    model, meter = anny
    sliders = SliderSet.load(trained)
    height = sliders.sliders[0]
    rows = torch.tensor([s.default for s in sliders.sliders]).repeat(5, 1)
    rows[:, 0] = torch.linspace(height.low, height.high, 5)
    measured = _measure(model, meter, sliders.coefficients(rows))["height_cm"]
    assert (measured.diff() > 0).all(), measured


def test_refinement_keeps_coefficients_in_range(anny):
    model, meter = anny
    start = model.sample(range(2), 3)
    targets = {"height_cm": torch.tensor([300.0, 90.0]), "mass_kg": torch.tensor([400.0, 5.0])}
    refined = refine_to_measurements(model, start, targets, meter, iterations=2)
    low = torch.tensor([c.low for c in model.coefficients])
    high = torch.tensor([c.high for c in model.coefficients])
    assert ((refined >= low) & (refined <= high)).all()
    free = torch.zeros(len(model.coefficients), dtype=torch.bool)
    free[model.refinable_indices] = True
    assert torch.equal(refined[:, ~free], start[:, ~free])  # only the subspace moves
    before, after = _measure(model, meter, start), _measure(model, meter, refined)
    assert ((after["height_cm"] - targets["height_cm"]).abs()
            <= (before["height_cm"] - targets["height_cm"]).abs()).all()


def test_mixed_set_refines_toward_its_metric_sliders_only(anny):
    model, meter = anny
    names = ["tall", "height_cm"]
    sliders = [Slider("tall", 0.0, 1.0, 0.5), Slider("height_cm", 150.0, 190.0, 170.0)]
    mapper = Mapper(len(names), len(model.coefficients), ())
    mapper.out_mean.copy_(model.default_coefficients())  # the mean body, not all at 0.5
    mixed = TrainedSliders("mixed", sliders, ModelRef("anny-body"), mapper,
                           model.coefficient_names, clip=ClipSpec.parse("tiny-random"))
    assert mixed.metric_names == ["height_cm"] and mixed.word_names == ["tall"]
    coefficients = mixed.coefficients({"tall": 0.9, "height_cm": 160.0})
    assert abs(float(_measure(model, meter, coefficients)["height_cm"][0]) - 160.0) < 0.5
    assert mixed.refiner.names == ["height_cm"]


def test_refine_entry_round_trip_and_refusal(trained, tmp_path):
    from semantify.slider_files import manifest_hash

    manifest = json.loads((trained / "sliders.json").read_text())
    folder = tmp_path / "set"
    folder.mkdir()
    weights = manifest["mapper"]["file"]
    (folder / weights).write_bytes((trained / weights).read_bytes())

    def write(edited):
        edited["sha256"] = manifest_hash(edited)
        (folder / "sliders.json").write_text(json.dumps(edited))

    for entry, expected in ((None, Refine(3)), ({"iterations": 0}, Refine(0)),
                            ({"iterations": 2, "free": ["weight"]}, Refine(2, ("weight",)))):
        if entry is None:
            manifest.pop("refine")  # a set written before refinement existed
        else:
            manifest["refine"] = entry
        write(manifest)
        assert SliderSet.load(folder).refine == expected
    for entry in ({"iterations": "three"}, {"iterations": 3, "free": ["wingspan"]}):
        manifest["refine"] = entry
        write(manifest)
        with pytest.raises(SemantifyError, match="refine"):
            SliderSet.load(folder)
