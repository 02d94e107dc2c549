"""Poses on the real Anny skeleton (and on synthetic SMPL-family files): what moves, what does
not, and the one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import roma
import torch

from semantify.errors import SemantifyError
from semantify.measurements.anthropometer import Anthropometer
from semantify.models import load_model
from semantify.poses import Pose, offered_poses, pose_names, posed_vertices, resolve_pose
from semantify.poses.posing import bone_rotations

BODY_POSES = {"rest", "a-pose", "t-pose", "standing-relaxed", "walking", "sitting",
              "arms-crossed"}


@pytest.fixture(scope="module")
def body():
    return load_model("anny-body")


@pytest.fixture(scope="module")
def shapes(body):
    coefficients = body.sample(range(3), seed=4)
    with torch.no_grad():
        return coefficients, body(coefficients)


def test_anny_lists_its_poses(body):
    names = pose_names(body)
    assert names[0] == "rest" and BODY_POSES <= set(names)
    assert "jaw-open" not in names  # Anny has no jaw bone
    face = pose_names(load_model("anny-face-shape"))
    assert face[0] == "rest" and "head-turned" in face
    assert not BODY_POSES - {"rest"} & set(face)  # a face shows only poses of the head


def test_pickers_offer_poses_that_suit_the_model(body):
    """A body is not offered the poses that move only its head (they still work by name); a
    face is offered exactly its head poses; sitting says its seat is not drawn."""
    offered = {pose.name: pose.label for pose in offered_poses(body)}
    assert "head-turned" in pose_names(body) and "head-turned" not in offered
    assert "looking-up" not in offered and BODY_POSES <= set(offered)
    assert offered["sitting"] == "Sitting (seat not shown)"
    face = load_model("anny-face-shape")
    assert [p.name for p in offered_poses(face)] == pose_names(face)


def test_rest_is_the_model_itself(body, shapes):
    coefficients, rest = shapes
    assert torch.equal(posed_vertices(body, coefficients, "rest"), rest)


def test_identity_rotations_reproduce_the_rest_shape(body, shapes):
    """Our rest bones and forward kinematics agree with Anny's rest mesh exactly."""
    coefficients, rest = shapes
    identity = torch.eye(3).repeat(len(body.bone_names), 1, 1)
    with torch.no_grad():
        posed, rest_again = body.skin(coefficients, identity)
    assert torch.allclose(rest_again, rest, atol=1e-6)
    assert (posed - rest).abs().max() < 1e-4


def test_a_bent_elbow_turns_the_forearm_rigidly_about_the_elbow(body, shapes):
    coefficients, rest = shapes
    bend = Pose("bend", "Bend", rotations=(("left_elbow", (0.0, -90.0, 0.0)),), base="rest")
    with torch.no_grad():
        posed = posed_vertices(body, coefficients[:1], bend)[0]
    names, parents = body.bone_names, body.bone_parents
    elbow = names.index("lowerarm01.L")
    subtree = {elbow}
    for bone in range(len(names)):  # parents come first
        if parents[bone] in subtree:
            subtree.add(bone)
    from semantify.models.anny_models import anny_module

    anny = anny_module()
    weights, bones = anny.vertex_bone_weights, anny.vertex_bone_indices
    on_forearm = torch.zeros(len(weights), dtype=torch.bool)
    for bone in subtree:
        on_forearm |= ((bones == bone) * weights).sum(dim=1) > 0.999
    assert on_forearm.sum() > 100
    head = body.joint_positions(coefficients[:1])[0, elbow]
    rotation = roma.euler_to_rotmat("xyz", torch.tensor([[0.0, -90.0, 0.0]]), degrees=True)[0]
    expected = (rest[0, on_forearm] - head) @ rotation.T + head
    assert (posed[on_forearm] - expected).abs().max() < 1e-4
    far = rest[0, :, 0] < 0  # the right half of the body does not move
    assert (posed[far] - rest[0, far]).abs().max() < 1e-5


@pytest.mark.parametrize("pose", ["walking", "sitting", "arms-crossed", "t-pose"])
def test_poses_move_the_body_and_keep_rest_measurements(body, shapes, pose):
    coefficients, rest = shapes
    with torch.no_grad():
        posed = posed_vertices(body, coefficients, pose)
    assert posed.shape == rest.shape and torch.isfinite(posed).all()
    assert (posed - rest).norm(dim=-1).max() > 0.15  # something moved by 15 cm or more
    # feet stay on the rest floor
    assert torch.allclose(posed[..., 1].amin(dim=1), rest[..., 1].amin(dim=1), atol=1e-5)
    meter = Anthropometer.for_model(body)
    assert torch.equal(meter.measure(body(coefficients))["height_cm"],
                       meter.measure(rest)["height_cm"])


def test_t_pose_puts_the_arms_level(body, shapes):
    coefficients, rest = shapes
    with torch.no_grad():
        posed = posed_vertices(body, coefficients[:1], "t-pose")[0]
        sitting = posed_vertices(body, coefficients[:1], "sitting")[0]
    tip = posed[posed[:, 0].argmax()]  # the left fingertips
    shoulder = body.joint_positions(coefficients[:1])[0, body.bone_names.index("upperarm01.L")]
    lift = rest[0, :, 1].amin() - posed[:, 1].amin()
    assert abs(float(tip[1] - lift - shoulder[1])) < 0.08

    def span(v):
        return float(v[:, 0].max() - v[:, 0].min())

    assert span(posed) > span(rest[0]) + 0.25
    assert float(sitting[:, 1].max()) < float(rest[0, :, 1].max()) - 0.3  # sitting is lower


def test_bone_rotations_are_cached_per_model_and_pose(body):
    pose = resolve_pose(body, "walking")
    assert bone_rotations(body, pose) is bone_rotations(body, pose)


@pytest.mark.parametrize("model_id, pose, fragment", [
    ("anny-body", "dancing", "unknown pose 'dancing'"),
    ("anny-body", "jaw-open", "lacks (jaw)"),
    ("anny-face-shape", "walking", "shows only the head"),
])
def test_bad_poses_give_one_line_listing_valid_poses(model_id, pose, fragment):
    model = load_model(model_id)
    with pytest.raises(SemantifyError) as error:
        posed_vertices(model, model.default_coefficients(), pose)
    message = str(error.value)
    assert fragment in message and "valid poses: rest" in message and "\n" not in message


def test_a_users_pose_file(body, tmp_path):
    path = tmp_path / "wave.json"
    path.write_text(json.dumps({"format": "semantify-pose", "version": 1, "label": "Wave",
                                "rotations": {"right_shoulder": [0, 0, -40],
                                              "right_elbow": [0, 0, -80]}}))
    with torch.no_grad():
        waved = posed_vertices(body, body.default_coefficients(), str(path))
    assert waved.shape[1] == body.num_vertices
    path.write_text(json.dumps({"format": "semantify-pose", "version": 1,
                                "rotations": {"right_elbow": [0, "a lot", 0]}}))
    with pytest.raises(SemantifyError, match="right_elbow.*degrees"):
        posed_vertices(body, body.default_coefficients(), str(path))
    with pytest.raises(SemantifyError, match="does not exist"):
        posed_vertices(body, body.default_coefficients(), str(tmp_path / "missing.json"))


def test_smpl_family_poses(models_dir):
    smpl, smplx, flame = (load_model(m) for m in ("smpl-neutral", "smplx-neutral", "flame"))
    assert BODY_POSES <= set(pose_names(smpl)) and "jaw-open" not in pose_names(smpl)
    assert "jaw-open" in pose_names(smplx)
    assert set(pose_names(flame)) == {"rest", "head-turned", "looking-up", "jaw-open"}
    for model, pose in ((smpl, "walking"), (smplx, "sitting"), (flame, "jaw-open")):
        coefficients = model.sample(range(2), seed=0)
        posed = posed_vertices(model, coefficients, pose)
        assert posed.shape == model(coefficients).shape
        assert (posed - model(coefficients)).abs().max() > 1e-3
    # SMPL rests in the T-pose: its T-pose is its rest shape
    coefficients = smpl.sample(range(1), seed=0)
    assert torch.allclose(posed_vertices(smpl, coefficients, "t-pose"), smpl(coefficients),
                          atol=1e-5)


def test_a_model_without_skeleton_has_only_rest(models_dir):
    smal = load_model("smal")
    assert pose_names(smal) == ["rest"]
    with pytest.raises(SemantifyError, match="smal has no skeleton.*valid poses: rest."):
        posed_vertices(smal, smal.default_coefficients(), "walking")
    assert np.array_equal(posed_vertices(smal, smal.default_coefficients(), "rest"),
                          smal(smal.default_coefficients()))
