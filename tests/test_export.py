"""Exports: smooth normals and feet on the ground in every format, rigged GLBs that pose like
semantify, sliders as shape keys, the Khronos validator, and the CLI's ``export``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh
from conftest import needs_chromium

from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.export import export_shape, vertex_normals
from semantify.models.reference import ModelRef
from semantify.poses import posed_vertices
from semantify.sets.sliders import raw_sliders
from viewer import UVLayout

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = ROOT / "tools" / "validate_gltf.mjs"
NODE_TOOLS = ROOT / "tools" / "node_modules"
needs_node_tools = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_TOOLS / "gltf-validator").is_dir()
    or not (NODE_TOOLS / "three").is_dir(), reason="needs node and `make setup` (tools/)")


@pytest.fixture(scope="module")
def body():
    """A raw anny-body shape away from the mean."""
    sliders = raw_sliders(ModelRef("anny-body"))
    return sliders.shape(weight=0.8, height=0.7, muscle=0.3)


def read_glb(path):
    """(pygltflib document, accessor index -> numpy array) of a GLB file."""
    import pygltflib

    gltf = pygltflib.GLTF2.load_binary(str(path))
    blob = gltf.binary_blob()
    widths = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
    types = {5126: np.float32, 5123: np.uint16, 5125: np.uint32}

    def array(index: int) -> np.ndarray:
        accessor = gltf.accessors[index]
        view = gltf.bufferViews[accessor.bufferView]
        width = widths[accessor.type]
        return np.frombuffer(blob, types[accessor.componentType], accessor.count * width,
                             view.byteOffset + (accessor.byteOffset or 0)).reshape(-1, width)

    return gltf, array


def glb_skinned(path, morphs: bool = True) -> np.ndarray:
    """(U, 3) vertices of a rigged GLB posed by its own joints, as a glTF viewer skins them:
    its morph targets at the mesh's default weights first (none with ``morphs=False``)."""
    import roma

    gltf, array = read_glb(path)
    primitive = gltf.meshes[0].primitives[0]
    skin = gltf.skins[0]
    local = {}
    for index in skin.joints:
        node = gltf.nodes[index]
        matrix = np.eye(4)
        matrix[:3, :3] = roma.unitquat_to_rotmat(torch.tensor(node.rotation, dtype=torch.float64))
        matrix[:3, 3] = node.translation
        local[index] = matrix
    parent = {child: index for index in skin.joints for child in gltf.nodes[index].children}
    world = {}

    def world_of(index):
        if index not in world:
            above = world_of(parent[index]) if index in parent else np.eye(4)
            world[index] = above @ local[index]
        return world[index]

    inverse_bind = array(skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    transforms = np.stack([world_of(j) for j in skin.joints]) @ inverse_bind
    positions = array(primitive.attributes.POSITION).astype(np.float64)
    for target, weight in zip(primitive.targets or [], gltf.meshes[0].weights or []):
        positions = positions + morphs * weight * array(target["POSITION"])
    posed = np.zeros_like(positions)
    for index in range(4):
        joints = getattr(primitive.attributes, f"JOINTS_{index}", None)
        if joints is None:
            continue
        weights = array(getattr(primitive.attributes, f"WEIGHTS_{index}"))
        moved = np.einsum("vkab,vb->vka", transforms[array(joints).astype(int)][..., :3, :3],
                          positions) + transforms[array(joints).astype(int)][..., :3, 3]
        posed += np.einsum("vk,vka->va", weights, moved)
    return posed


def test_every_format_has_the_viewers_normals_and_feet_on_the_ground(body, tmp_path):
    model = body.slider_set.model
    faces = model.faces.numpy()
    lifted = body.vertices - [0.0, body.vertices[:, 1].min(), 0.0]
    normals = vertex_normals(body.vertices, faces)  # the viewer's (float32 lifts move them
    # by up to 4e-5)
    for suffix in (".obj", ".ply", ".glb"):
        body.save(tmp_path / f"body{suffix}", appearance="skin")
    lines = (tmp_path / "body.obj").read_text().splitlines()
    obj_v = np.array([line.split()[1:] for line in lines if line.startswith("v ")], float)
    obj_vn = np.array([line.split()[1:] for line in lines if line.startswith("vn ")], float)
    assert np.allclose(obj_v, lifted, atol=2e-6) and np.allclose(obj_vn, normals, atol=1e-4)
    assert next(line for line in lines if line.startswith("f ")).count("/") == 6  # v/vt/vn
    ply = trimesh.load(tmp_path / "body.ply", process=False)
    assert np.allclose(ply.vertices, lifted, atol=1e-6)
    assert np.allclose(ply.vertex_normals, normals, atol=1e-4)
    gltf, array = read_glb(tmp_path / "body.glb")
    attributes = gltf.meshes[0].primitives[0].attributes
    positions, glb_normals = array(attributes.POSITION), array(attributes.NORMAL)
    assert len(positions) > len(lifted)  # split on texture seams only
    assert positions[:, 1].min() == pytest.approx(0.0, abs=1e-7)
    # every seam copy carries its vertex's smooth normal
    source = UVLayout.from_corners(faces, model.uv_map.coords, model.uv_map.faces).source
    assert np.allclose(positions, lifted[source], atol=1e-6)
    assert np.allclose(glb_normals, normals[source], atol=1e-4)
    face = raw_sliders(ModelRef("anny-face-shape")).shape()
    face.save(tmp_path / "face.ply")
    assert np.allclose(trimesh.load(tmp_path / "face.ply", process=False).vertices,
                       face.vertices, atol=1e-6)  # a face keeps its own origin


@pytest.mark.parametrize("influences", [4, 8])
def test_a_rigged_glb_poses_like_semantify(body, tmp_path, influences):
    path = tmp_path / "rigged.glb"
    exported = export_shape(body, path, "walking", "clay", rig=True, influences=influences)
    gltf, array = read_glb(path)
    primitive = gltf.meshes[0].primitives[0]
    rest = array(primitive.attributes.POSITION)
    assert np.allclose(rest, body.vertices - [0, body.vertices[:, 1].min(), 0], atol=1e-6)
    for index in range(influences // 4):
        weights = array(getattr(primitive.attributes, f"WEIGHTS_{index}"))
        assert weights.shape[1] == 4
    total = sum(array(getattr(primitive.attributes, f"WEIGHTS_{i}")).astype(np.float64)
                for i in range(influences // 4)).sum(axis=1)
    assert np.allclose(total, 1.0, atol=1e-6)
    truth = posed_vertices(body.slider_set.model, body.coefficients[None], "walking")[0].numpy()
    truth = truth - [0, body.vertices[:, 1].min(), 0]
    error = np.linalg.norm(glb_skinned(path) - truth, axis=1) * 1000
    mean, largest = exported.rig.deviation_mm
    assert error.max() == pytest.approx(largest, abs=0.05)
    assert error.mean() == pytest.approx(mean, abs=0.01)
    assert error.mean() < 0.5 and (influences == 4 or error.max() < 1.0)
    extras = gltf.skins[0].extras
    assert extras["bind_pose"] == "rest" and extras["pose"] == "walking"
    assert [a.name for a in gltf.animations] == ["walking"]
    assert exported.rig.correctives is None and "pose_correctives" not in extras
    assert not primitive.targets and not gltf.meshes[0].weights  # Anny: no corrective target
    paths = {channel.target.path for channel in gltf.animations[0].channels}
    assert paths == {"translation", "rotation"}


@pytest.fixture
def four_bone_smpl(tmp_path, monkeypatch):
    """A shape of a synthetic SMPL whose weights blend at most 4 bones a vertex, as a GLB's
    first weight set holds (the stand-in's own blend up to 16, which no 4 bones follow within
    1 mm), so that what strays is the pose correctives alone."""
    import synthetic_models

    arrays = synthetic_models.skinned_arrays("smpl")
    weights = arrays["weights"]
    np.put_along_axis(weights, np.argsort(-weights, axis=1)[:, 4:], 0.0, axis=1)
    arrays["weights"] = weights / weights.sum(axis=1, keepdims=True)
    synthetic_models.write_npz(tmp_path / "models" / "smpl" / "SMPL_NEUTRAL.npz", arrays)
    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(tmp_path / "models"))
    return raw_sliders(ModelRef("smpl-neutral")).shape(beta0=1.0, beta3=-0.5)


def test_smpl_pose_correctives_are_a_morph_target_at_weight_1(four_bone_smpl, tmp_path):
    shape, path = four_bone_smpl, tmp_path / "smpl.glb"
    exported = export_shape(shape, path, "walking", rig=True, shape_keys=True)
    keys = len(exported.shape_keys.names)
    gltf, array = read_glb(path)
    mesh = gltf.meshes[0]
    assert mesh.extras["targetNames"] == [*exported.shape_keys.names, "pose_correctives_walking"]
    assert mesh.weights == [0.0] * keys + [1.0] and len(mesh.primitives[0].targets) == keys + 1
    lift = [0.0, -shape.vertices[:, 1].min(), 0.0]
    truth = posed_vertices(shape.slider_set.model, shape.coefficients[None], "walking")[0]
    truth = truth.numpy() + lift
    error = np.linalg.norm(glb_skinned(path) - truth, axis=1) * 1000
    assert error.max() < 1.0, error.max()
    assert error.max() == pytest.approx(exported.rig.deviation_mm[1], abs=0.05)
    without = np.linalg.norm(glb_skinned(path, morphs=False) - truth, axis=1) * 1000
    assert without.max() > 3.0, without.max()  # the correctives move vertices by up to 9 mm
    stated = gltf.skins[0].extras["pose_correctives"]
    assert stated["target"] == "pose_correctives_walking" and stated["weight"] == 1.0
    animation = gltf.animations[0]
    channel = next(c for c in animation.channels if c.target.path == "weights")
    assert gltf.nodes[channel.target.node].mesh == 0
    held = array(animation.samplers[channel.sampler].output).ravel()
    assert held.tolist() == [0.0] * keys + [1.0]
    export_shape(shape, tmp_path / "rest.glb", rig=True)  # at rest: nothing to correct
    rest, _ = read_glb(tmp_path / "rest.glb")
    assert not rest.meshes[0].primitives[0].targets and not rest.animations


def test_shape_keys_are_the_sliders(tmp_path, models_dir):
    sliders = raw_sliders(ModelRef("smpl-neutral"))
    shape = sliders.shape(beta0=1.0, beta3=-0.5)
    exported = export_shape(shape, tmp_path / "keys.glb", rig=True, shape_keys=True)
    keys = exported.shape_keys
    assert keys.names == tuple(sliders.names) and keys.blend_error_mm[1] < 1e-3  # linear: exact
    gltf, array = read_glb(tmp_path / "keys.glb")
    mesh = gltf.meshes[0]
    assert mesh.extras["targetNames"] == sliders.names and mesh.weights == [0.0] * len(keys.names)
    assert mesh.extras["semantify"]["sliders"]["beta0"] == 1.0
    base = array(mesh.primitives[0].attributes.POSITION)
    key = array(mesh.primitives[0].targets[3]["POSITION"])
    high = sliders.shape(beta0=1.0, beta3=sliders.sliders[3].high)
    assert np.allclose(base + key, high.vertices - [0, high.vertices[:, 1].min(), 0],
                       atol=1e-5)
    shape.save(tmp_path / "plain.obj")  # no UV map: v//vn faces
    obj = trimesh.load(tmp_path / "plain.obj", process=False)
    assert np.allclose(obj.vertex_normals, vertex_normals(shape.vertices, shape.slider_set.model
                                                          .faces.numpy()), atol=1e-4)


def test_anny_keys_are_exact_alone_and_say_how_far_a_blend_strays(body, tmp_path):
    exported = export_shape(body, tmp_path / "keys.glb", shape_keys=True)
    keys = exported.shape_keys
    index = keys.names.index("weight")
    high = body.slider_set.shape({**body.named_values, "weight": 1.0})
    assert np.allclose(body.vertices + keys.offsets[index] + [0, -body.vertices[:, 1].min(), 0],
                       high.vertices - [0, high.vertices[:, 1].min(), 0], atol=1e-5)
    gltf, _ = read_glb(tmp_path / "keys.glb")
    stated = gltf.meshes[0].extras["semantify"]["blend_error_mm"]
    assert stated["max"] == round(keys.blend_error_mm[1], 3) and "pairs" in stated["over"]


@needs_node_tools
def test_the_khronos_validator_finds_no_errors(body, tmp_path, models_dir):
    files = [tmp_path / name for name in ("body.glb", "face.glb", "smpl.glb")]
    body.save(files[0], "walking", "skin", rig=True, shape_keys=True)
    export_shape(raw_sliders(ModelRef("anny-face-shape")).shape(), files[1], "head-turned",
                 "skin", rig=True, shape_keys=True)
    export_shape(raw_sliders(ModelRef("smpl-neutral")).shape(beta1=1.0), files[2], "sitting",
                 rig=True, shape_keys=True)
    smpl, _ = read_glb(files[2])  # shape keys and the pose correctives on one primitive
    assert smpl.meshes[0].extras["targetNames"][-1] == "pose_correctives_sitting"
    result = subprocess.run(["node", str(VALIDATOR), *map(str, files)], capture_output=True,
                            text=True, timeout=120, check=True)
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(reports) == 3
    for report in reports:
        assert report["errors"] == 0, report


def test_cli_export_and_its_one_line_errors(word_set, tmp_path, capsys, models_dir):
    _, sliders, chosen = word_set
    out = tmp_path / "body.glb"
    assert main(["export", str(sliders), "--rig", "--shape-keys", "--pose", "walking",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rig: 104 bones, 4 a vertex" in printed and "shape key" in printed
    gltf, _ = read_glb(out)
    assert gltf.meshes[0].extras["targetNames"] == chosen and gltf.skins
    cases = [(["shape", str(sliders), "--rig", "--out", str(tmp_path / "x.obj")],
              "--rig needs a .glb file"),
             (["export", str(sliders), "--shape-keys", "--out", str(tmp_path / "no" / "x.glb")],
              "not a writable folder")]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    with pytest.raises(SystemExit):
        main(["export", str(sliders), "--rigg", "--out", str(out)])
    anny = raw_sliders(ModelRef("anny-body")).shape()
    with pytest.raises(SemantifyError, match="a rig and shape keys need a .glb file"):
        anny.save(tmp_path / "x.ply", rig=True)
    smal = raw_sliders(ModelRef("smal")).shape()
    with pytest.raises(SemantifyError, match="smal has no skeleton, so it cannot be rigged"):
        export_shape(smal, tmp_path / "smal.glb", rig=True)
    assert not (tmp_path / "smal.glb").exists() and not (tmp_path / "x.obj").exists()


@needs_node_tools
@needs_chromium
def test_three_js_poses_the_glb_as_stated(body, browser, tmp_path, monkeypatch):
    """A real glTF loader (three.js in Chromium) poses the file by its joints, weights and
    shape keys: as the rig's own skinning, and within the stated distance of semantify's."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    from glb_viewer import open_glb

    path = tmp_path / "walking.glb"
    exported = export_shape(body, path, "walking", rig=True, shape_keys=True)
    lift = np.array([0.0, -body.vertices[:, 1].min(), 0.0])
    truth = posed_vertices(body.slider_set.model, body.coefficients[None], "walking")[0].numpy()
    key = exported.shape_keys.names.index("weight")
    weights = [0.0] * len(exported.shape_keys.names)
    weights[key] = 1.0
    page = open_glb(browser, path, size=64)
    shown = np.array(page.evaluate("window.viewer.skinned()")).reshape(-1, 3)
    keyed = np.array(page.evaluate(f"window.viewer.skinned({weights})")).reshape(-1, 3)
    page.close()
    assert np.abs(shown - exported.rig.skin(body.vertices + lift)).max() < 5e-5
    error = np.linalg.norm(shown - (truth + lift), axis=1) * 1000
    assert error.mean() < 0.5 and error.max() <= exported.rig.deviation_mm[1] + 0.05
    heavier = body.vertices + lift + exported.shape_keys.offsets[key]
    assert np.abs(keyed - exported.rig.skin(heavier)).max() < 5e-5
