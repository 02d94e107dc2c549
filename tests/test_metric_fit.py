"""Metric refinement: shapes that measure what was asked, monotone sliders, ranges kept."""

import itertools
import json

import pytest
import torch

from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.sets.mapper import Mapper
from semantify.measurements.anthropometer import Anthropometer
from semantify.measurements.human import inhuman
from semantify.sets.metric_fit import refine_to_measurements
from semantify.clip import ClipSpec
from semantify.models import ModelRef
from semantify.sets.sliders import Refine, Slider, SliderSet, TrainedSliders

DESCRIPTORS = ["height_cm", "chest_cm", "waist_cm", "hips_cm", "mass_kg"]


@pytest.fixture(scope="module")
def trained(metric_data):
    """An anny-body metric slider set trained briefly on 600 generated bodies (no CLIP)."""
    data, out = metric_data, metric_data.parent / "metric-fit"
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
    from semantify.sets.slider_files import manifest_hash

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


PERSON = [*DESCRIPTORS, "build"]


@pytest.fixture(scope="module")
def person(trained):
    """A metric set with a build slider and a body model, fitted on the same 600 bodies."""
    out = trained.parent / "person"
    assert main(["train", str(trained.parent / "data"), "--descriptors", ",".join(PERSON),
                 "--out", str(out)]) == 0
    return SliderSet.load(out)


def _met(shape, asked):
    measured = shape.measurements()
    return {n: abs(measured[n] - v) <= (1.0 if n == "mass_kg" else 0.5)
            for n, v in asked.items()}


def test_unset_sliders_are_free_and_show_the_body(person):
    asked = {"height_cm": 158.0, "mass_kg": 52.0}
    shape = person.shape(asked)
    assert all(_met(shape, asked).values()) and shape.notes == ()
    assert shape.free == ("chest_cm", "waist_cm", "hips_cm", "build")
    measured = shape.measurements()
    for name in ("chest_cm", "waist_cm", "hips_cm"):
        assert shape.named_values[name] == pytest.approx(measured[name])
    gender = shape.coefficients[person.model.coefficient_names.index("gender")]
    assert shape.named_values["build"] == pytest.approx(1 - float(gender))
    default = person.shape()  # nothing set: the population's most likely body
    assert default.free == tuple(person.names)
    assert shape.named_values["waist_cm"] < default.named_values["waist_cm"] - 5


def test_impossible_requests_give_the_nearest_person_and_name_every_miss(person):
    height, mass = person.sliders[0], person.sliders[4]
    shape = person.shape(height_cm=height.high, mass_kg=mass.low)
    note = " ".join(shape.notes)
    assert "Height (cm) asked" in note and "Mass (kg) asked" in note and "got" in note
    measured = shape.measurements()
    assert not inhuman({k: torch.tensor([v]) for k, v in measured.items()})[0]
    for slider in person.sliders[1:4]:  # free values stay on their sliders
        assert slider.low <= measured[slider.name] <= slider.high
    beyond = person.shape(height_cm=height.high + 10, mass_kg=80.0)
    assert beyond.clamped == ("height_cm",) and "beyond the slider" in beyond.notes[0]


def test_a_set_slider_sweep_is_monotone_and_smooth(person):
    masses = torch.linspace(55.0, 110.0, 5).tolist()
    shapes = [person.shape(height_cm=172.0, mass_kg=m) for m in masses]
    got = [s.measurements()["mass_kg"] for s in shapes]
    assert all(b > a for a, b in itertools.pairwise(got)), got
    span = person.model.ranges[:, 1] - person.model.ranges[:, 0]
    steps = [float(((b.coefficients - a.coefficients).abs() / span).max())
             for a, b in itertools.pairwise(shapes)]
    assert max(steps) < 0.35, steps
    builds = [s.named_values["build"] for s in shapes]  # free: it moves, and never flips
    assert max(abs(b - a) for a, b in itertools.pairwise(builds)) < 0.35, builds


def test_the_build_slider_sets_the_gender_phenotype(person):
    gender = person.model.coefficient_names.index("gender")
    for build in (0.0, 1.0):
        shape = person.shape(height_cm=170.0, mass_kg=70.0, build=build)
        assert float(shape.coefficients[gender]) == pytest.approx(1 - build)
        assert all(_met(shape, {"height_cm": 170.0, "mass_kg": 70.0}).values())
    assert person.word_names == [] and person.sliders[5].label == "Build (female–male)"


def test_params_record_which_sliders_are_set(person, tmp_path):
    from semantify.sets.params import Params

    shape = person.shape(height_cm=175.0, mass_kg=80.0)
    path = shape.params().write(tmp_path / "p.json")
    assert json.loads(path.read_text())["set"] == ["height_cm", "mass_kg"]
    again = person.shape_from_params(Params.read(path))
    assert again.free == shape.free and torch.equal(again.coefficients, shape.coefficients)
    record = json.loads(path.read_text())
    record["set"] = ["wingspan_cm"]
    with pytest.raises(SemantifyError, match="'set'"):
        Params.from_dict(record)


@pytest.mark.parametrize("request_, message", [
    ({"height_cm": float("nan")}, "NaN"), ({"wingspan_cm": 80.0}, "unknown slider"),
    ({"height_cm": "tall"}, "numbers")])
def test_bad_metric_requests_are_one_line(person, request_, message):
    with pytest.raises(SemantifyError, match=message):
        person.shape(request_)


def test_a_tampered_body_model_is_refused(person, tmp_path):
    from semantify.sets.slider_files import manifest_hash

    folder = tmp_path / "set"
    folder.mkdir()
    for file in person.root.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    manifest = json.loads((folder / "sliders.json").read_text())
    manifest["body_model"]["covariance"][0][0] = -1.0
    manifest["sha256"] = manifest_hash(manifest)
    (folder / "sliders.json").write_text(json.dumps(manifest))
    with pytest.raises(SemantifyError, match="body model"):
        SliderSet.load(folder)


@pytest.fixture(scope="module")
def shipped():
    from pathlib import Path

    return SliderSet.load(Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric")


def test_the_shipped_ranges_cover_the_surveys_people(shipped):
    """NHANES 2017-2020's 99% region given sex reaches 142.9-195.5 cm and 36.8 kg (bench/
    metric_person.py): a survey height is asked as it is, never cut to the slider."""
    ranges = {s.name: (s.low, s.high) for s in shipped.sliders}
    assert ranges["height_cm"][0] <= 142.9 and ranges["height_cm"][1] >= 195.5
    assert ranges["mass_kg"][0] <= 36.8
    shape = shipped.shape(height_cm=194.6, mass_kg=86.4)
    assert shape.clamped == () and shape.notes == () and all(
        _met(shape, {"height_cm": 194.6, "mass_kg": 86.4}).values())


@pytest.mark.parametrize("asked", [
    {"height_cm": 172.0, "mass_kg": 139.3, "waist_cm": 129.4},  # the old region left it out
    {"height_cm": 162.5, "mass_kg": 68.7, "waist_cm": 111.2},  # needs the loose refit
])
def test_survey_people_the_prior_barely_has_are_met(shipped, asked):
    shape = shipped.shape(asked)
    assert shape.notes == () and all(_met(shape, asked).values()), shape.measurements()
    measured = shape.measurements()
    assert not inhuman({k: torch.tensor([v]) for k, v in measured.items()})[0]


def test_the_training_step_widens_ranges_to_the_survey_where_bodies_reach():
    """A measurement slider covers the survey's range on each side the training bodies reach,
    keeps p1..p99 on a side beyond every body, and an unsurveyed girth reaches the bodies' max
    rounded down to 10 cm."""
    from lightning_modules.body_sliders import _widened
    from semantify.measurements.human import survey_ranges
    from semantify.sets.sliders import sliders_from_values

    people = survey_ranges()
    assert {"height_cm", "mass_kg", "waist_cm"} <= set(people)

    def widened(name, values):
        values = torch.tensor(values, dtype=torch.float64)
        return _widened(sliders_from_values([name], values[:, None])[0], values)

    for name, survey in people.items():
        inner = torch.linspace(survey.low + 5, survey.high - 5, 1000).tolist()  # p1..p99 inside
        wide = widened(name, [*inner, survey.low - 1, survey.high + 1])  # the bodies reach out
        assert survey.low - 0.1 <= wide.low <= survey.low, (wide, survey)
        assert survey.high <= wide.high <= survey.high + 0.1, (wide, survey)
        narrow = widened(name, inner)  # no body reaches the survey's edges
        assert narrow.low > survey.low and narrow.high < survey.high, (narrow, survey)
    chest = widened("chest_cm", [*torch.linspace(76.0, 144.0, 1000).tolist(), 154.97])
    assert chest.high == 150.0 and chest.low < 77, chest  # the low side keeps p1


def test_a_trained_metric_set_covers_the_survey_range_its_bodies_reach(person, metric_data):
    from semantify.data.dataset import open_dataset
    from semantify.measurements.human import survey_ranges

    data = open_dataset(metric_data, ("measurements",))
    fit = data.measurements[:round(len(data.measurements) * 0.9)]  # the rows the set fits on
    checked = 0
    for slider in person.sliders:
        survey = survey_ranges().get(slider.name)
        if survey is None:
            continue
        values = fit[:, data.measurement_names.index(slider.name)].double()
        if survey.low >= values.min():
            assert slider.low <= survey.low, (slider, survey)
            checked += 1
        if survey.high <= values.max():
            assert slider.high >= survey.high, (slider, survey)
            checked += 1
        assert values.min() - 0.1 <= slider.low and slider.high <= values.max() + 0.1
    assert checked


@pytest.mark.parametrize("asked", [
    {"height_cm": 182.425, "mass_kg": 36.5, "build": 1.0},
    {"height_cm": 182.425, "mass_kg": 36.5, "waist_cm": 66.5},
    {"height_cm": 185.0, "mass_kg": 45.0, "waist_cm": 80.0}],
    ids=["build-1", "waist-low", "refitted-for-a-check"])
def test_free_values_stay_inside_their_sliders_at_impossible_corners(shipped, asked):
    """182.4 cm and 36.5 kg (BMI 11) at the male end of the build left the free hips at
    86.5 cm, past the slider's end (87.5), and with the waist at its low end 4 cm short, where
    the plain refit with the hips at the end was not a person: the body is refitted (held
    firmly and ever more toward the mean if need be) until a person has them inside, and the
    set values it misses (nobody has them) are named. 185 cm, 45 kg with an 80 cm waist, a
    body refitted for a human check, kept its hips 2.3 cm short: now it is refitted too."""
    shape = shipped.shape(asked)
    measured = shape.measurements()
    for slider in shipped.sliders:
        if slider.measurement is not None:
            assert slider.low - 0.05 <= measured[slider.name] <= slider.high + 0.05, slider.name
    assert not inhuman({k: torch.tensor([v]) for k, v in measured.items()})[0]
    labels = {s.name: s.label for s in shipped.sliders}
    missed = [n for n, ok in _met(shape, {n: v for n, v in asked.items() if n != "build"})
              .items() if not ok]
    assert missed and all(labels[n] in " ".join(shape.notes) for n in missed)


def test_the_shortest_heaviest_corner_is_a_person_without_crossings(shipped):
    """142.9 cm and 125.8 kg (BMI 62, the grid's shortest, heaviest corner) stayed visibly
    self-intersecting after retreating half way to the mean; it now retreats further. Then it
    met both with a 155.0 cm waist, past the slider's (and the survey's people's) 153.5: its
    free values now stay inside their sliders, and its note names the set values it misses."""
    from semantify.models.self_intersection import detector_for

    asked = {"height_cm": 142.9, "mass_kg": 125.825}
    shape = shipped.shape(asked)
    assert not detector_for(shipped.model).visible(shape.vertices[None])[0]
    measured = shape.measurements()
    assert not inhuman({k: torch.tensor([v]) for k, v in measured.items()})[0]
    for slider in shipped.sliders:
        if slider.measurement is not None and slider.name in shape.free:
            assert slider.low - 0.05 <= measured[slider.name] <= slider.high + 0.05, slider.name
    missed = [n for n, ok in _met(shape, asked).items() if not ok]
    labels = {s.name: s.label for s in shipped.sliders}
    assert all(labels[n] in " ".join(shape.notes) for n in missed)


def test_a_secant_update_explains_the_step_it_saw():
    """Broyden's update: the new Jacobian maps the step taken onto the change it made, and
    a row whose mesh did not measure (residual 1e6) keeps its Jacobian."""
    from semantify.sets.metric_fit import _secant

    generator = torch.Generator().manual_seed(0)
    jacobian = torch.randn(3, 4, 2, generator=generator)
    r_from, r_to = torch.randn(3, 4, generator=generator), torch.randn(3, 4, generator=generator)
    r_to[2, 0] = 1e6
    d = torch.randn(3, 2, generator=generator)
    updated = _secant(jacobian, r_from, r_to, d)
    assert torch.allclose((updated[:2] @ d[:2, :, None])[..., 0], (r_to - r_from)[:2], atol=1e-5)
    assert torch.equal(updated[2], jacobian[2])
