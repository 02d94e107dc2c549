"""4 bones a vertex fitted to Anny's own 9-bone skinning: a rigged GLB, loaded back and posed by
its own joints, walks within 1 mm of semantify's posed body, with walking among the poses the
weights were fitted on and held out of them; the fit, its record, and what the CLI says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_export import glb_skinned, read_glb  # the GLB reader the export tests pose with

from semantify.cli import main
from semantify.export import export_shape
from semantify.export.weights import (blend, bone_transforms, example_rotations, fit, largest,
                                      skin_weights)
from semantify.models.reference import ModelRef
from semantify.poses import posed_vertices, resolve_pose
from semantify.poses.posing import bone_rotations
from semantify.sets.sliders import raw_sliders

METRIC = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"


@pytest.fixture(scope="module")
def body():
    """A raw anny-body shape away from the mean (as in the export tests)."""
    return raw_sliders(ModelRef("anny-body")).shape(weight=0.8, height=0.7, muscle=0.3)


@pytest.fixture(scope="module")
def at_rest(body):
    """(model, (J, 4, 4) rest frames, (V, J) dense weights, (V, 3) rest vertices) of ``body``."""
    model = body.slider_set.model
    coefficients = torch.as_tensor(body.coefficients, dtype=torch.float32)
    still = torch.eye(3).repeat(len(model.bone_names), 1, 1)
    skinning = model.skinning(coefficients, still)
    with torch.no_grad():
        _, rest = model.skin(coefficients[None], still)
    return (model, skinning.rest.numpy(), skinning.weights.double().numpy(),
            rest[0].double().numpy())


def test_four_bones_loaded_back_walk_within_1mm(body, tmp_path):
    path = tmp_path / "walking.glb"
    exported = export_shape(body, path, "walking", rig=True)
    lift = [0.0, -body.vertices[:, 1].min(), 0.0]
    truth = posed_vertices(body.slider_set.model, body.coefficients[None], "walking")[0].numpy()
    error = np.linalg.norm(glb_skinned(path) - (truth + lift), axis=1) * 1000
    assert error.max() < 1.0, error.max()  # keeping the 4 largest weights: 9.2 mm
    assert error.max() == pytest.approx(exported.rig.deviation_mm[1], abs=0.05)
    gltf, array = read_glb(path)
    attributes = gltf.meshes[0].primitives[0].attributes
    weights = array(attributes.WEIGHTS_0)
    assert weights.shape[1] == 4 and (weights >= 0).all()
    assert np.allclose(weights.astype(np.float64).sum(axis=1), 1.0, atol=1e-6)
    record, stated = exported.rig.fit, gltf.skins[0].extras["skin_weights"]
    assert record.fitted and "walking" in record.presets and record.vertices == 1846
    assert stated["method"] == record.method and "least squares" in stated["method"]
    assert stated["preset_error_mm"] == {"mean": round(record.preset_error_mm[0], 3),
                                         "max": round(record.preset_error_mm[1], 3)}
    assert record.preset_error_mm[1] < 1.0 and record.blend_error_mm[1] < 1.0


def test_walking_held_out_of_the_fit_still_within_1mm(body, at_rest):
    """Fitted without walking, the 4-bone skin still walks within 1 mm of the model's own
    skinning (semantify's posed vertices before the floor lift, which moves every vertex
    alike); the 4 largest weights, renormalised, stray 9 mm."""
    model, rest, dense, vertices = at_rest
    joints, weights, record = skin_weights(model, rest, dense, vertices, 4, exclude=("walking",))
    assert "walking" not in record.presets and len(record.presets) == 7
    coefficients = torch.as_tensor(body.coefficients, dtype=torch.float32)
    rotations = bone_rotations(model, resolve_pose(model, "walking"))
    skinning = model.skinning(coefficients, rotations)
    with torch.no_grad():
        truth = model.skin(coefficients[None], rotations)[0][0].double().numpy()
    transforms = (skinning.posed @ torch.linalg.inv(skinning.rest)).numpy()[None]
    error = np.linalg.norm(blend(transforms, joints, weights.astype(np.float64), vertices)[0]
                           - truth, axis=1) * 1000
    assert error.max() < 1.0 and error.mean() < 0.01, (error.mean(), error.max())
    top, kept = largest(dense, 4)
    kept = kept / kept.sum(axis=1, keepdims=True)
    before = np.linalg.norm(blend(transforms, top, kept, vertices)[0] - truth, axis=1) * 1000
    assert before.max() > 5.0


def test_the_example_poses_move_the_bones_as_the_model_does(body, at_rest):
    model, rest, _, _ = at_rest
    names, rotations = example_rotations(model)
    assert "walking" in names and "rest" not in names
    ours = bone_transforms(rest, np.asarray(model.bone_parents), rotations)
    coefficients = torch.as_tensor(body.coefficients, dtype=torch.float32)
    for index, name in enumerate(names):
        skinning = model.skinning(coefficients, bone_rotations(model, resolve_pose(model, name)))
        theirs = (skinning.posed @ torch.linalg.inv(skinning.rest)).numpy()
        assert np.abs(ours[index] - theirs).max() < 1e-5, name


def test_narrow_rows_are_kept_and_fitted_rows_are_convex_blends(at_rest):
    model, rest, dense, vertices = at_rest
    joints, weights, record = skin_weights(model, rest, dense, vertices, 4)
    bones = (dense > 0).sum(axis=1)
    narrow = bones <= 4
    top, kept = largest(dense, 4)
    assert (joints[narrow] == top[narrow]).all()
    assert np.allclose(weights[narrow], kept[narrow], atol=1e-6)
    assert (weights >= 0).all() and np.allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert (np.diff(weights, axis=1) <= 0).all()  # largest first
    used = np.take_along_axis(dense, joints.astype(np.int64), axis=1)
    assert ((used > 0) | (weights == 0)).all()  # each fitted row chooses among its own bones
    assert record.vertices == int((~narrow).sum())
    eight = skin_weights(model, rest, dense, vertices, 8)
    assert not eight[2].fitted and "largest" in eight[2].method  # --influences 8 as it was
    top8, kept8 = largest(dense, 8)
    assert (eight[0] == top8).all()
    assert np.allclose(eight[1], kept8 / kept8.sum(axis=1, keepdims=True), atol=1e-6)


def test_the_fit_is_exact_when_four_bones_can_be(at_rest):
    """Five bones, two of which always move together: four reproduce them exactly."""
    import roma

    rng = np.random.default_rng(3)
    rotations = roma.rotvec_to_rotmat(torch.as_tensor(rng.normal(scale=0.4, size=(12, 6, 3))))
    rotations = rotations.numpy()
    rotations[:, 5] = rotations[:, 4]
    frames = np.broadcast_to(np.eye(4), (6, 4, 4)).copy()
    frames[:, :3, 3] = rng.normal(scale=0.2, size=(6, 3))
    frames[5] = frames[4]
    transforms = bone_transforms(frames, np.full(6, -1), rotations)
    dense = np.array([[0.0, 0.3, 0.2, 0.2, 0.15, 0.15]])
    vertex = np.array([[0.1, 0.5, -0.2]])
    joints, weights = fit(dense, vertex, transforms, 4)
    error = np.abs(blend(transforms, joints, weights, vertex)
                   - blend(transforms, np.arange(6)[None], dense, vertex)).max()
    chosen = set(joints[0].tolist())
    assert error < 1e-6 and chosen - {4, 5} == {1, 2, 3} and len(chosen & {4, 5}) == 1


def test_cli_says_how_the_weights_were_fitted(tmp_path, capsys):
    out = tmp_path / "body.glb"
    assert main(["export", str(METRIC), "--rig", "--pose", "walking", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    line = next(line for line in printed.splitlines() if line.startswith("skin weights: "))
    assert "fitted by least squares" in line and "in the presets" in line
    assert "not fitted on" in line
