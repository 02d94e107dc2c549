"""Sampling priors: data files, their use by model.sample and generation, self-intersection
rejection, bad prior files, manifest records, and refinement that leaves unasked lengths alone."""

import json

import numpy as np
import pytest
import torch

from semantify.errors import SemantifyError
from semantify.data.generation import GenerationSpec, build_manifest, prepare_output
from semantify.models import load_model
from semantify.models.prior import Prior, prior_names, read_prior, resolve_prior
from semantify.models.self_intersection import SelfIntersections, triangles_intersect

EXCLUSIVE = [("eyeBlinkLeft", "eyeWideLeft"), ("mouthSmileLeft", "mouthFrownLeft"),
             ("jawOpen", "mouthClose"), ("eyeLookInLeft", "eyeLookInRight")]


def _prior(**changes) -> dict:
    data = {"format": "semantify-prior", "version": 1, "name": "test", "revision": 1,
            "groups": [{"kind": "independent", "coefficients": ["c0"],
                        "draw": {"uniform": [0.0, 1.0]}}]}
    return {**data, **changes}


def _strip(tmp_path):
    """A ``linear:`` strip of three quads whose one coefficient folds its far end back through
    its near end (0: flat, 1: folded through by half a metre)."""
    x, y = np.meshgrid([0.0, 1.0, 2.0, 3.0], [0.0, 1.0])
    template = np.stack([x.ravel(), y.ravel(), np.zeros(8)], axis=1)  # row-major: y, then x
    faces = []
    for i in range(3):
        a, b, c, d = i, i + 1, 4 + i, 4 + i + 1
        faces += [[a, b, d], [a, d, c]]
    folded = template.copy()
    folded[3] = [0.5, 0.2, -0.5]
    folded[7] = [0.5, 0.8, 0.5]
    path = tmp_path / "strip.npz"
    np.savez(path, template=template, basis=(folded - template)[None], faces=np.array(faces),
             ranges=np.array([[0.0, 1.0]]), names=np.array(["c0"]))
    return load_model(f"linear:{path}"), template, folded, np.array(faces)


def test_shipped_priors_load_and_fit_their_models():
    assert {"anny-body", "anny-face-shape", "anny-face-expression", "reference-betas",
            "reference"} <= set(prior_names())
    for model_id in ("anny-body", "anny-face-shape", "anny-face-expression"):
        model = load_model(model_id)
        prior = model.prior
        assert prior.name == model_id and prior.revision >= 1 and len(prior.sha256) == 64
        assert prior.reject_self_intersections and not prior.fallback
        prior.bind(model)  # every pattern names coefficients of the model


def test_expression_samples_are_few_actions_without_exclusive_pairs():
    model = load_model("anny-face-expression")
    rows = model.sample(range(40), seed=5)  # what the app's Random and generation call
    names = model.coefficient_names
    active = (rows > 0).sum(dim=1)
    assert active.float().mean() < 10 and active.max() <= 16, active  # not all 52 at once
    for a, b in EXCLUSIVE:
        assert not ((rows[:, names.index(a)] > 0) & (rows[:, names.index(b)] > 0)).any(), (a, b)
    reference = model.sample(range(40), seed=5, prior="reference")
    assert (reference > 0).sum(dim=1).float().mean() > 12  # the old sampler: ~30% of all 52
    # row i depends only on (seed, i), rejection included
    assert torch.equal(model.sample([7, 3], seed=5)[1], rows[3])


def test_body_samples_are_adults_with_small_local_changes():
    model = load_model("anny-body")
    rows = model.sample(range(24), seed=2)
    names = model.coefficient_names
    age = rows[:, names.index("age")]
    assert ((age >= 0.77) & (age <= 0.89)).all()
    # local changes outside the shared adiposity of the obesity classes: few and small
    import fnmatch

    from semantify.models.prior import PRIOR_DIR

    groups = json.loads((PRIOR_DIR / "anny-body.json").read_text())["groups"]
    patterns = {part for component in groups[0]["components"]
                for key in component["values"] for part in key.split("|")}
    free = [i for i, n in enumerate(names) if "-" in n
            and not any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    local = rows[:, free].abs()
    assert (local <= 0.3).all()  # no single huge thigh
    assert ((local > 0).sum(dim=1) <= 3).all()


def test_triangles_intersect_and_the_detector_on_a_hand_made_mesh(tmp_path):
    flat = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0]]], dtype=float)
    through = np.array([[[0.2, 0.2, -1], [0.2, 0.2, 1], [5, 5, 0.1]]], dtype=float)
    touching = np.array([[[1, 0, 0], [2, 0, 0], [1, 1, 0]]], dtype=float)  # shares a corner
    above = through + [0, 0, 2]
    assert triangles_intersect(flat, through).tolist() == [True]
    assert triangles_intersect(flat, touching).tolist() == [False]
    assert triangles_intersect(flat, above).tolist() == [False]
    _, template, folded, faces = _strip(tmp_path)
    detector = SelfIntersections(faces, template, min_depth=0.01)
    assert detector.rest_pairs == 0 and not detector.check(template).visible
    found = detector.check(folded)
    assert found.visible and len(found.pairs) > 0 and found.depth > 0.1


def test_prior_rejects_self_intersecting_samples(tmp_path):
    model, *_ = _strip(tmp_path)
    path = tmp_path / "fold.json"
    path.write_text(json.dumps(_prior(reject_self_intersections=True)))
    prior = resolve_prior(str(path), model)
    rows, stats = prior.bind(model).sample_with_stats(range(40), seed=0)
    assert stats.rejected > 0 and stats.unresolved == 0
    from semantify.models.self_intersection import detector_for

    detector = detector_for(model)
    with torch.no_grad():
        meshes = model(rows).numpy()
    assert not detector.visible(meshes).any()
    unchecked = Prior.from_dict(_prior(), "unchecked").sample(model, range(40), 0)
    with torch.no_grad():
        assert detector.visible(model(unchecked).numpy()).any()
    # the model's own sampling: no prior file, so the reference draw, and said so
    assert model.prior.fallback and "fallback" in model.prior.record()


@pytest.mark.parametrize("changes, words", [
    ({"groups": [{"kind": "independent", "coefficients": ["nope*"],
                  "draw": {"uniform": [0, 1]}}]}, ["unknown coefficient", "nope*"]),
    ({"groups": [{"kind": "mixture", "components": [
        {"probability": -0.5, "values": {}}, {"probability": 1.5, "values": {}}]}]},
     ["probability", "-0.5"]),
    ({"groups": [{"kind": "independent", "coefficients": ["c0"],
                  "draw": {"uniform": [2, 1]}}]}, ["impossible range"]),
    ({"groups": [{"kind": "independent", "coefficients": ["c0"],
                  "draw": {"beta": [2, 2], "range": [1, 0]}}]}, ["impossible range"]),
    ({"groups": [{"kind": "independent", "coefficients": ["c0"],
                  "draw": {"uniform": [5, 6]}}]}, ["impossible range", "c0"]),
    ({"groups": [{"kind": "sparse", "coefficients": ["c0"], "count": [3, 1],
                  "draw": {"normal": [0, 1]}}]}, ["impossible count"]),
    ({"version": 7}, ["version 7"]),
])
def test_bad_prior_files_get_one_line(tmp_path, changes, words):
    model, *_ = _strip(tmp_path)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_prior(**changes)))
    with pytest.raises(SemantifyError) as info:
        resolve_prior(str(path), model)
    message = str(info.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_unknown_prior_name_lists_the_choices():
    with pytest.raises(SemantifyError, match="anny-body.*reference"):
        resolve_prior("no-such-prior", load_model("anny-face-expression"))
    with pytest.raises(SemantifyError, match="does not exist"):
        read_prior("/nonexistent/prior.json")


def test_generation_uses_the_prior_and_the_manifest_records_it(tmp_path):
    from lightning_modules.generate import generate

    spec = GenerationSpec("anny-face-expression", 6, seed=3, shard_size=3, clip=None,
                          measurements=False)
    out = tmp_path / "data"
    generate(spec, out, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    model = load_model("anny-face-expression")
    assert manifest["prior"]["name"] == "anny-face-expression"
    assert manifest["prior"]["sha256"] == model.prior.sha256
    from semantify.data.dataset import open_dataset

    assert torch.equal(open_dataset(out).coefficients, model.sample(range(6), 3))
    # another prior is refused, naming the one that made the dataset
    other = GenerationSpec("anny-face-expression", 6, seed=3, shard_size=3, clip=None,
                           measurements=False, prior="reference")
    with pytest.raises(SemantifyError, match="sampled with prior 'anny-face-expression'"):
        prepare_output(out, build_manifest(other, model, []))
    # a model without a prior file falls back to the reference's sampling, and says so
    reference = build_manifest(other, model, []).prior
    assert reference["name"] == "reference" and "fallback" in reference


def test_refinement_holds_unasked_lengths_across_the_waist_range():
    from semantify.sets.mapper import Mapper
    from semantify.measurements.anthropometer import Anthropometer
    from semantify.models import ModelRef
    from semantify.sets.sliders import Slider, TrainedSliders

    model = load_model("anny-body")
    meter = Anthropometer.for_model(model)
    sliders = [Slider("height_cm", 160.0, 180.0, 170.0), Slider("waist_cm", 80.0, 100.0, 90.0)]
    mapper = Mapper(2, len(model.coefficients), ())
    mapper.out_mean.copy_(model.default_coefficients())
    metric = TrainedSliders("metric", sliders, ModelRef("anny-body"), mapper,
                            model.coefficient_names)
    values = torch.tensor([[170.0, 80.0], [170.0, 90.0], [170.0, 100.0]])
    held = metric.held_measurements(values)
    assert set(held) == {"arm_cm", "shoulder_cm", "inseam_cm"}
    with torch.no_grad():
        measured = meter.measure(model(metric.coefficients(values)))
    assert (measured["waist_cm"] - values[:, 1]).abs().max() < 0.5  # within 5 mm
    assert (measured["height_cm"] - values[:, 0]).abs().max() < 0.5
    for name in held:  # unasked lengths move by at most 1 cm across the waist range
        assert float(measured[name].max() - measured[name].min()) <= 1.0, (name, measured[name])
