"""The model layer: every registered model, licensed-file handling, linear models, the CLI."""

import os
import pickle
import sys

import numpy as np
import pytest
import torch

import synthetic_models
from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.models import load_model, model_ids, model_status
from semantify.models import model_files
from semantify.models.linear import linear_model

LICENSED = [i for i in model_ids() if not i.startswith("anny")]


@pytest.fixture(scope="session")
def tree(tmp_path_factory):
    return synthetic_models.write_model_tree(tmp_path_factory.mktemp("models"))


@pytest.fixture
def models_dir(tree, monkeypatch):
    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(tree))
    return tree


@pytest.fixture
def empty_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(tmp_path))
    return tmp_path


def _error(call, *parts):
    with pytest.raises(SemantifyError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message
    return message


@pytest.mark.parametrize("model_id", model_ids())
def test_every_model_builds_and_runs(models_dir, model_id):
    model = load_model(model_id)
    coefficients = model.sample(range(3), seed=1)
    vertices = model(coefficients)
    assert vertices.shape == (3, model.num_vertices, 3)
    assert vertices.dtype == torch.float32 and torch.isfinite(vertices).all()
    assert model.faces.dtype == torch.int64 and model.faces.shape[1] == 3
    ranges = model.ranges
    assert (coefficients >= ranges[:, 0]).all() and (coefficients <= ranges[:, 1]).all()
    assert model.framing in ("body", "head", "animal", "full")
    # Sampling: reproducible, and row i depends only on (seed, i), not on the batch.
    assert torch.equal(model.sample([5, 6], 3)[1], model.sample([6], 3)[0])
    assert torch.equal(model.sample([7], 3), model.sample([7], 3))
    assert not torch.equal(model.sample(range(4), 3), model.sample(range(4), 4))
    # Wrong-length and non-finite coefficients are refused in one line.
    _error(lambda: model(torch.zeros(2, model.num_coefficients + 1)), model_id, "coefficients")
    bad = model.default_coefficients()[None].clone()
    bad[0, 0] = float("nan")
    _error(lambda: model(bad), "NaN")


def test_anny_body_canonical_frame():
    model = load_model("anny-body")
    vertices = model(model.default_coefficients())[0]
    low, high = vertices.min(0).values, vertices.max(0).values
    extent = high - low
    assert 1.5 < extent[1] < 1.9  # standing along +Y
    assert extent[1] > 2 * extent[2] and extent[1] > extent[0]
    head = vertices[vertices[:, 1] > low[1] + 0.88 * extent[1]]
    nose = head[head[:, 2].argmax()]  # the head's most forward point: on the midline, in front
    assert abs(nose[0]) < 0.01 and nose[2] > head[:, 2].mean() + 0.04


def test_licensed_frames(models_dir):
    smpl = load_model("smpl-neutral")
    body = smpl(smpl.default_coefficients())[0]
    extent = body.max(0).values - body.min(0).values
    assert extent[1] > 3 * extent[2]  # +Y up, thin along Z
    smal = load_model("smal")
    animal = smal(smal.default_coefficients())[0].numpy()
    native = synthetic_models.skinned_arrays("smal")["v_template"]
    # SMAL is +Z up with the head at +X; it must come out +Y up, head towards +Z.
    np.testing.assert_allclose(np.ptp(animal, 0), np.ptp(native, 0)[[1, 2, 0]], atol=1e-5)
    assert animal[:, 2].argmax() == native[:, 0].argmax()
    flame = load_model("flame-shape")
    head = flame(flame.default_coefficients())[0]
    native = synthetic_models.skinned_arrays("flame")["v_template"]
    assert head[:, 2].argmax() == native[:, 2].argmax()  # the nose stays in front


def test_flame_combines_shape_and_expression(models_dir):
    both = load_model("flame", num_betas=4, num_expression=3)
    shape = load_model("flame-shape", num_betas=4)
    expression = load_model("flame-expression", num_expression=3)
    assert both.coefficient_names == shape.coefficient_names + expression.coefficient_names
    betas, expr = shape.sample([0], 0), torch.tensor([[1.0, -2.0, 0.5]])
    template = shape(shape.default_coefficients())
    combined = both(torch.cat([betas, expr], 1))
    torch.testing.assert_close(combined, shape(betas) + expression(expr) - template, atol=1e-5,
                               rtol=0)
    assert not torch.allclose(expression(expr), template)


def test_rest_pose_is_the_shaped_template(models_dir):
    """smplx's LBS at zero pose returns v_template + shapedirs @ betas."""
    arrays = synthetic_models.skinned_arrays("smpl")
    model = load_model("smpl-neutral")
    betas = model.sample([3], 0)
    expected = arrays["v_template"] + arrays["shapedirs"] @ betas[0].double().numpy()
    np.testing.assert_allclose(model(betas)[0].numpy(), expected, atol=1e-5)


def test_num_betas(models_dir):
    assert load_model("smpl-neutral", num_betas=4).num_coefficients == 4
    assert load_model("smplx-male", num_betas=300).num_coefficients == 300
    assert load_model("smal", num_betas=41).coefficient_names[-1] == "beta40"
    _error(lambda: load_model("smpl-neutral", num_betas=11), "at most 10", "num_betas<=10",
           "SMPL_NEUTRAL.pkl")
    _error(lambda: load_model("smplx-neutral", num_betas=301), "at most 300")
    _error(lambda: load_model("flame", num_expression=101), "at most 100", "num_expression")
    _error(lambda: load_model("smal", num_betas=0), "positive integer")


def test_older_ten_plus_ten_layout(empty_dir):
    """SMPL-X v1.0 and older FLAME files hold 10 shape then 10 expression components."""
    smplx_arrays = synthetic_models.skinned_arrays("smplx")
    smplx_arrays["shapedirs"] = smplx_arrays["shapedirs"][..., :20]
    synthetic_models.write_npz(empty_dir / "smplx" / "SMPLX_NEUTRAL.npz", smplx_arrays)
    _error(lambda: load_model("smplx-neutral", num_betas=11), "at most 10")
    flame_arrays = synthetic_models.skinned_arrays("flame")
    flame_arrays["shapedirs"] = flame_arrays["shapedirs"][..., :20]
    synthetic_models.write_pickle(empty_dir / "flame" / "FLAME_NEUTRAL.pkl", flame_arrays)
    flame = load_model("flame", num_betas=10, num_expression=10)
    torch.testing.assert_close(flame.shapedirs, torch.tensor(flame_arrays["shapedirs"]).float())
    _error(lambda: load_model("flame", num_expression=11), "at most 10 expression")


def test_chumpy_pickles_load_without_chumpy(models_dir):
    path = models_dir / "smpl" / "SMPL_NEUTRAL.pkl"
    assert b"chumpy.ch" in path.read_bytes() and b"scipy.sparse.csc" in path.read_bytes()
    arrays = model_files.read_arrays(path, ("shapedirs", "J_regressor", "v_template"))
    expected = synthetic_models.skinned_arrays("smpl")
    for key in arrays:
        np.testing.assert_array_equal(arrays[key], expected[key])
    assert not [name for name in sys.modules if name.startswith(("chumpy", "scipy"))]


def test_file_layout_and_hints(empty_dir):
    path = model_files.expected_path("smpl", "male")
    assert path == empty_dir / "smpl" / "SMPL_MALE.pkl"
    hint = model_files.missing_hint(path)
    assert hint == (f"put SMPL_MALE.pkl (from https://smpl.is.tue.mpg.de, licence required) at "
                    f"{path} or set SEMANTIFY_MODELS_DIR")
    synthetic_models.write_model_file(empty_dir / "flame" / "FLAME_NEUTRAL.pkl", "flame", "pkl")
    assert model_files.expected_path("flame").name == "FLAME_NEUTRAL.pkl"
    synthetic_models.write_model_file(empty_dir / "smpl" / "SMPL_MALE.npz", "smpl", "npz")
    assert model_files.expected_path("smpl", "male").name == "SMPL_MALE.npz"


def test_missing_file(empty_dir):
    _error(lambda: load_model("smplx-female"), "SMPLX_FEMALE.npz",
           str(empty_dir / "smplx" / "SMPLX_FEMALE.npz"), "https://smpl-x.is.tue.mpg.de",
           "SEMANTIFY_MODELS_DIR")


def test_unreadable_files(empty_dir):
    (empty_dir / "smpl").mkdir()
    (empty_dir / "smpl" / "SMPL_NEUTRAL.pkl").write_bytes(b"\x80\x02not a pickle at all")
    _error(lambda: load_model("smpl-neutral"), "cannot read model file", "SMPL_NEUTRAL.pkl")
    (empty_dir / "smpl" / "SMPL_MALE.npz").write_bytes(b"PK\x03\x04 broken zip")
    _error(lambda: load_model("smpl-male"), "cannot read model file", "SMPL_MALE.npz")
    (empty_dir / "smpl" / "SMPL_FEMALE.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    _error(lambda: load_model("smpl-female"), "not a dict of arrays")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_is_refused_and_not_run(empty_dir):
    marker = empty_dir / "pwned"
    arrays = synthetic_models.skinned_arrays("smpl")
    arrays["bs_style"] = _Exploit(marker)
    path = empty_dir / "smpl" / "SMPL_NEUTRAL.pkl"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps(arrays, protocol=2))
    message = _error(lambda: load_model("smpl-neutral"), str(path), "refuses to unpickle",
                     "convert it to .npz")
    assert "system" in message
    assert not marker.exists()
    path.write_bytes(pickle.dumps({"x": _Exploit(marker)}, protocol=0))
    _error(lambda: model_files.read_arrays(path, ()), "refuses to unpickle")
    assert not marker.exists()


def test_npz_with_missing_key_or_bad_shape(empty_dir):
    arrays = synthetic_models.skinned_arrays("smplx")
    path = empty_dir / "smplx" / "SMPLX_NEUTRAL.npz"
    synthetic_models.write_npz(path, {k: v for k, v in arrays.items() if k != "weights"})
    _error(lambda: load_model("smplx-neutral"), "lacks the key(s) weights", str(path))
    synthetic_models.write_npz(path, arrays | {"weights": arrays["weights"][:, :10]})
    _error(lambda: load_model("smplx-neutral"), "weights has shape (178, 10)",
           "expected (178, 55)")
    synthetic_models.write_npz(path, arrays | {"posedirs": arrays["posedirs"][..., :9]})
    _error(lambda: load_model("smplx-neutral"), "posedirs", "(178, 3, 486)")


def test_unknown_model_id():
    _error(lambda: load_model("smpl-robot"), "unknown model 'smpl-robot'", "anny-body",
           "linear:PATH.npz")


def test_linear_cylinder(tmp_path):
    path = synthetic_models.write_cylinder_npz(tmp_path / "cyl.npz", height=1.7, radius=0.15)
    model = load_model(f"linear:{path}")
    assert model.id == f"linear:{path}" and model.family == "body" and model.framing == "body"
    assert model.coefficient_names == ["height", "girth"]
    rest, changed = model(torch.tensor([[0.0, 0.0], [1.0, 2.0]]))
    assert float(np.ptp(rest[:, 1].numpy())) == pytest.approx(1.7, abs=1e-6)
    assert float(np.ptp(changed[:, 1].numpy())) == pytest.approx(1.8, abs=1e-6)
    radius = torch.linalg.norm(changed[:, [0, 2]], dim=1).max()
    assert float(radius) == pytest.approx(0.17, abs=1e-6)
    # Closed and wound outwards: the signed volume is the prism's, 64 wedges of 0.15 m.
    a, b, c = rest.double()[model.faces].unbind(1)
    volume = float(torch.linalg.vecdot(a, torch.linalg.cross(b, c)).sum() / 6)
    assert volume == pytest.approx(32 * 0.15**2 * np.sin(2 * np.pi / 64) * 1.7, rel=1e-6)


def test_linear_layouts_and_options(tmp_path):
    vertices, faces = synthetic_models.cylinder(rings=3, segments=8)
    basis = np.random.default_rng(0).standard_normal((4, len(vertices), 3)) * 0.01
    stacked = linear_model(synthetic_models.write_linear_npz(tmp_path / "a.npz", vertices,
                                                             basis, faces))
    flat = linear_model(synthetic_models.write_linear_npz(
        tmp_path / "b.npz", vertices, basis.reshape(4, -1).T, faces))
    c = stacked.sample(range(5), 0)
    torch.testing.assert_close(stacked(c), flat(c))
    assert stacked.coefficient_names == ["c0", "c1", "c2", "c3"] and stacked.family == "generic"
    z_up = linear_model(synthetic_models.write_linear_npz(
        tmp_path / "z.npz", vertices[:, [0, 2, 1]] * [1, -1, 1], basis, faces, up="z",
        ranges=np.tile([0.0, 1.0], (4, 1)), uvs=np.zeros((3, 2)),
        uv_faces=np.zeros_like(faces), family="face"))
    np.testing.assert_allclose(z_up(z_up.default_coefficients())[0].numpy(), vertices, atol=1e-6)
    assert z_up.framing == "head" and z_up.uv_map is not None
    assert z_up.distribution.kind == "uniform" and (z_up.sample(range(9), 0) >= 0).all()


def test_linear_bad_files(tmp_path):
    vertices, faces = synthetic_models.cylinder(rings=3, segments=8)
    basis = np.zeros((2, len(vertices), 3))
    write = synthetic_models.write_linear_npz
    _error(lambda: load_model(f"linear:{tmp_path / 'nope.npz'}"), "not found", "nope.npz")
    _error(lambda: linear_model(write(tmp_path / "1.npz", vertices, basis[:, :5], faces)),
           "basis has shape (2, 5, 3)", f"(K, {len(vertices)}, 3)")
    _error(lambda: linear_model(write(tmp_path / "2.npz", vertices, basis, faces + 1000)),
           "faces")
    _error(lambda: linear_model(write(tmp_path / "3.npz", vertices, basis, faces,
                                      family="robot")), "family must be one of")
    _error(lambda: linear_model(write(tmp_path / "4.npz", vertices, basis, faces,
                                      names=np.array(["a"]))), "names must be 2")
    np.savez(tmp_path / "5.npz", template=vertices, faces=faces)
    _error(lambda: linear_model(tmp_path / "5.npz"), "lacks the key(s) basis")


def test_cli_lists_missing_models(empty_dir, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for model_id in model_ids():
        assert f"\n{model_id} " in out
    for model_id in LICENSED:
        line = next(line for line in out.splitlines() if line.startswith(f"{model_id} "))
        assert "missing: put " in line and str(empty_dir) in line, line
    assert not model_status("flame").available
    assert str(empty_dir / "flame" / "FLAME_NEUTRAL.pkl") in model_status("flame").missing


def test_cli_lists_available_models(models_dir, capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for model_id in model_ids():
        line = next(line for line in lines if line.startswith(f"{model_id} "))
        assert line.endswith("available"), line
    flame = next(line for line in lines if line.startswith("flame "))
    assert flame.split()[1:3] == ["20", "178"]


def test_model_ref_round_trip_and_option_checks():
    from semantify.models import ModelRef

    ref = ModelRef.from_dict({"id": "smplx-male", "options": {"num_betas": 16}}, "test")
    assert ref == ModelRef.of("smplx-male", num_betas=16) and ref.to_dict()["options"] == {
        "num_betas": 16}
    assert ModelRef.from_dict("anny-body").id == "anny-body"  # old app params: a bare id
    for bad, fragment in (({"id": 3}, "model.id"), ({"id": "anny-body", "options": [1]},
                                                    "model.options"), (7, "must be an object")):
        with pytest.raises(SemantifyError, match=fragment):
            ModelRef.from_dict(bad, "test")
    with pytest.raises(SemantifyError, match="no option 'colour'"):
        ModelRef.of("smpl-male", colour="red").check()
    with pytest.raises(SemantifyError, match="must be of type int"):
        ModelRef.of("smpl-male", num_betas="ten").check()
    with pytest.raises(SemantifyError, match="unknown model"):
        ModelRef.of("nope").check()


def test_model_facts_are_model_data():
    body = load_model("anny-body")
    assert [body.coefficient_names[i] for i in body.featured_indices][:2] == ["gender", "age"]
    assert "weight" in [body.coefficient_names[i] for i in body.refinable_indices]
    face = load_model("anny-face-shape")
    assert face.featured_indices == list(range(10)) and face.refinable_indices == list(range(20))
