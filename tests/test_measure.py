"""Anthropometry: geometry against known shapes, Anny against anny's own numbers, the CLI."""

import json
import math

import numpy as np
import pytest
import torch
import trimesh

from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.measurements.anthropometer import (
    BODY_DENSITY, MEASUREMENTS, Anthropometer, enclosed_volume, has_landmarks)
from semantify.measurements.registry import MEASUREMENTS as REGISTRY  # noqa: E402
from semantify.measurements.landmarks import Girth, Landmarks
from semantify.measurements.sections import Sectioner, hull_perimeter
from semantify.models import load_model


def tube(radius, ys, center=(0.0, 0.0), sides=256):
    """A closed capped tube along +Y: rings of ``sides`` vertices at heights ``ys``.

    Returns (V, 3) vertices (rings first, then the bottom and top cap centres) and faces.
    """
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([center[0] + radius * np.cos(angles), np.zeros(sides),
                     center[1] + radius * np.sin(angles)], axis=1)
    rings = [ring + [0.0, y, 0.0] for y in ys]
    caps = np.array([[center[0], ys[0], center[1]], [center[0], ys[-1], center[1]]])
    vertices = np.concatenate(rings + [caps])
    bottom, top = len(ys) * sides, len(ys) * sides + 1
    faces = []
    for r in range(len(ys) - 1):
        for i in range(sides):
            a, b = r * sides + i, r * sides + (i + 1) % sides
            faces += [[a, a + sides, b], [b, a + sides, b + sides]]
    for i in range(sides):
        faces += [[bottom, i, (i + 1) % sides],
                  [top, (len(ys) - 1) * sides + (i + 1) % sides, (len(ys) - 1) * sides + i]]
    return vertices, np.array(faces)


def combine(*parts):
    """Concatenate (vertices, faces) parts; returns the mesh and each part's vertex offset."""
    offsets = np.cumsum([0] + [len(v) for v, _ in parts])
    vertices = np.concatenate([v for v, _ in parts])
    faces = np.concatenate([f + o for (_, f), o in zip(parts, offsets)])
    return vertices, faces, offsets


SIDES = 256
POLYGON = SIDES / math.pi * math.sin(math.pi / SIDES)  # perimeter of the 256-gon / circle's


@pytest.fixture(scope="module")
def stick_body():
    """A synthetic body: torso tube (r 0.15, y 0.8..1.5), two legs, two arms beside the torso.

    Returns (vertices (1, V, 3) tensor, Anthropometer) with hand-placed landmarks.
    """
    ys = [0.8, 0.9, 1.1, 1.3, 1.5]
    torso = tube(0.15, ys)
    legs = [tube(0.06, [0.0, 0.4, 0.8], (x, 0.0)) for x in (0.08, -0.08)]
    arms = [tube(0.04, [0.95, 1.2, 1.5], (x, 0.0)) for x in (0.25, -0.25)]
    vertices, faces, offsets = combine(torso, *legs, *arms)
    ring = {y: i * SIDES for i, y in enumerate(ys)}  # first vertex of a ring: angle 0, +X
    centre = len(ys) * SIDES  # bottom cap centre of the torso, on its axis at y 0.8
    arm_top = {side: offsets[3 + side] + 3 * SIDES + 1 for side in (0, 1)}
    arm_bottom = {side: offsets[3 + side] + 3 * SIDES for side in (0, 1)}
    marks = Landmarks(
        topology="stick", models=("stick",), num_vertices=len(vertices),
        chest=Girth(level=(ring[1.3],), axis=(centre,)),
        waist=Girth(level=(ring[1.1],), axis=(centre,)),
        hips=Girth(level=(ring[0.9],), axis=(centre,)),
        crotch=(centre,), shoulders=(ring[1.5], ring[1.5] + SIDES // 2),
        arms=((arm_top[0], arm_bottom[0]), (arm_top[1], arm_bottom[1])))
    return torch.tensor(vertices, dtype=torch.float32)[None], Anthropometer(faces, marks)


def test_plane_section_of_a_cylinder_is_its_circumference():
    vertices, faces = tube(0.2, [0.0, 1.0], sides=SIDES)
    girth = Sectioner(faces).girth(vertices[None], np.array([0.37]), np.zeros((1, 2)))
    assert girth[0] == pytest.approx(2 * math.pi * 0.2, rel=0.01)


def test_section_of_a_box_is_its_rectangle_and_a_missed_plane_is_nan():
    box = trimesh.creation.box(extents=(0.3, 1.0, 0.2))
    vertices = np.repeat(box.vertices[None], 2, axis=0)
    girth = Sectioner(box.faces).girth(vertices, np.array([0.1, 2.0]), np.zeros((2, 2)))
    assert girth[0] == pytest.approx(2 * (0.3 + 0.2), rel=1e-6)
    assert np.isnan(girth[1])


def test_hull_perimeter_bridges_dents():
    # A 4 x 2 rectangle's outline with two points pushed inwards: the tape reads 2 (4 + 2).
    points = np.array([[0, 0], [2, 0.5], [4, 0], [4, 2], [2, 1.5], [0, 2]], dtype=float)
    perimeter = hull_perimeter(np.concatenate([points, points * 2]), np.repeat([0, 2], 6), 3)
    assert perimeter[0] == pytest.approx(12.0)
    assert np.isnan(perimeter[1])
    assert perimeter[2] == pytest.approx(24.0)


def test_volume_of_a_closed_box():
    box = trimesh.creation.box(extents=(0.3, 1.7, 0.2))
    vertices = (box.vertices + 5.0).astype(np.float32)[None]  # far from the origin
    volume = enclosed_volume(vertices, box.faces)
    assert volume[0] == pytest.approx(0.3 * 1.7 * 0.2, rel=1e-4)


def test_stick_body_measures_its_known_geometry(stick_body):
    vertices, meter = stick_body
    values = {name: value.item() for name, value in meter.measure(vertices).items()}
    circle = 2 * math.pi * 0.15 * POLYGON * 100
    assert values["height_cm"] == pytest.approx(150.0, abs=0.01)
    # The arm loops cut by the chest plane are left out: only the torso is measured.
    for name in ("chest_cm", "waist_cm", "hips_cm"):
        assert values[name] == pytest.approx(circle, rel=1e-3)
    assert values["inseam_cm"] == pytest.approx(80.0, abs=0.01)
    assert values["arm_cm"] == pytest.approx(55.0, abs=0.01)
    assert values["shoulder_cm"] == pytest.approx(30.0, abs=0.01)
    area = lambda r: SIDES / 2 * r * r * math.sin(2 * math.pi / SIDES)  # noqa: E731
    volume = area(0.15) * 0.7 + 2 * area(0.06) * 0.8 + 2 * area(0.04) * 0.55
    assert values["mass_kg"] == pytest.approx(volume * BODY_DENSITY, rel=1e-4)


def test_loop_selection_keeps_the_torso_when_the_axis_point_is_outside(stick_body):
    vertices, meter = stick_body
    girth = meter._sectioner.girth(vertices.numpy(), np.array([1.3]), np.array([[0.0, 0.17]]))
    assert girth[0] == pytest.approx(2 * math.pi * 0.15 * POLYGON, rel=1e-3)


@pytest.fixture(scope="module")
def anny_body():
    model = load_model("anny-body")
    return model, Anthropometer.for_model(model)


def test_anny_matches_anny_anthropometry(anny_body):
    from anny.anthropometry import Anthropometry

    from semantify.models.anny_models import TO_CANONICAL, anny_module

    model, meter = anny_body
    vertices = model(model.sample(range(4), seed=3))
    ours = meter.measure(vertices)
    theirs = Anthropometry(anny_module())(vertices @ TO_CANONICAL)  # back to Anny's Z-up frame
    assert torch.allclose(ours["height_cm"], theirs["height"] * 100, atol=0.1)
    assert list(meter.landmarks.waist.loop) == Anthropometry(anny_module()).waist_vertex_indices
    assert torch.allclose(ours["waist_cm"], theirs["waist_circumference"] * 100, atol=0.1)
    assert torch.allclose(ours["mass_kg"], theirs["mass"] * BODY_DENSITY / 980, rtol=1e-3)


def test_default_anny_is_plausible(anny_body):
    model, meter = anny_body
    rows = meter.measure_table(model(model.default_coefficients())[0])
    assert [(label, unit) for label, _, unit in rows] == [
        (REGISTRY[name].label, REGISTRY[name].unit) for name in MEASUREMENTS]
    values = dict(zip(MEASUREMENTS, (value for _, value, _ in rows)))
    bounds = {"height_cm": (150, 190), "chest_cm": (75, 115), "waist_cm": (60, 110),
              "hips_cm": (80, 120), "inseam_cm": (65, 95), "arm_cm": (45, 70),
              "shoulder_cm": (30, 48), "mass_kg": (45, 100)}
    for name, (low, high) in bounds.items():
        assert low < values[name] < high, (name, values[name])
    # The waist loop agrees with a tape around the plane section at its height.
    v = model(model.default_coefficients())
    loop = list(meter.landmarks.waist.loop)
    section = meter._sectioner.girth(v.numpy(), v[:, loop, 1].mean(1).numpy(),
                                     v[:, loop][..., [0, 2]].mean(1).numpy())
    assert values["waist_cm"] == pytest.approx(section[0] * 100, rel=0.01)


def test_anny_phenotypes_move_the_measurements(anny_body):
    model, meter = anny_body
    names = model.coefficient_names

    def measured(**phenotypes):
        c = model.default_coefficients()
        for name, value in phenotypes.items():
            c[names.index(name)] = value
        return meter.measure(model(c))

    short, tall = measured(height=0.0), measured(height=1.0)
    assert tall["height_cm"] > short["height_cm"] + 10
    assert tall["inseam_cm"] > short["inseam_cm"]
    thin, heavy = measured(weight=0.0), measured(weight=1.0)
    for name in ("waist_cm", "chest_cm", "hips_cm", "mass_kg"):
        assert heavy[name] > thin[name], name


def test_models_without_body_landmarks_are_refused():
    face = load_model("anny-face-shape")
    assert not has_landmarks(face) and has_landmarks(load_model("anny-body"))
    with pytest.raises(SemantifyError, match="anny-face-shape has no body landmarks.*smpl-"):
        Anthropometer.for_model(face)


def test_vertex_count_mismatch_is_refused(anny_body):
    _, meter = anny_body
    with pytest.raises(SemantifyError, match="mesh has 6890 vertices but anny-body has 13718"):
        meter.measure(torch.zeros(1, 6890, 3))


@pytest.fixture(scope="module")
def anny_files(tmp_path_factory, anny_body):
    from semantify.export import export_mesh

    model, _ = anny_body
    folder = tmp_path_factory.mktemp("measure")
    vertices = model(model.default_coefficients())[0].numpy()
    export_mesh(folder / "body.obj", vertices, model.faces.numpy(), model.uv_map)
    export_mesh(folder / "body.ply", vertices, model.faces.numpy())
    (folder / "params.json").write_text(json.dumps(
        {"model": "anny-body", "coefficients": {"height": 0.5}}))
    return folder


@pytest.mark.parametrize("name", ["body.obj", "body.ply", "params.json"])
def test_cli_prints_every_measurement_with_its_unit(anny_files, capsys, name):
    assert main(["measure", str(anny_files / name), "--model", "anny-body"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(MEASUREMENTS)
    for line, name in zip(lines, MEASUREMENTS):
        assert line.startswith(REGISTRY[name].label) and line.endswith(" " + REGISTRY[name].unit)
    assert 150 < float(lines[0].split()[-2]) < 190


def test_cli_mesh_and_params_agree(anny_files, capsys):
    main(["measure", str(anny_files / "body.obj")])
    from_mesh = capsys.readouterr().out
    main(["measure", str(anny_files / "params.json")])
    assert capsys.readouterr().out == from_mesh


@pytest.mark.parametrize("args, message", [
    (["missing.ply"], "no mesh file"),
    (["body.stl"], "cannot measure 'body.stl'"),
    (["body.obj", "--model", "anny-face-shape"], "has no body landmarks"),
    (["bad.ply"], "cannot read mesh"),
    (["small.ply"], "mesh has 8 vertices but anny-body has 13718"),
    (["bad.json"], "cannot read params"),
    (["nocoeffs.json"], "holds neither slider values nor coefficients"),
    (["unknown.json"], "has no coefficient 'wingspan'"),
    (["nomodel.json"], "names no model"),
])
def test_cli_bad_input_is_one_line_and_exit_2(anny_files, capsys, args, message):
    (anny_files / "bad.ply").write_text("not a mesh")
    trimesh.creation.box().export(anny_files / "small.ply")
    (anny_files / "bad.json").write_text("{")
    (anny_files / "nocoeffs.json").write_text('{"model": "anny-body"}')
    (anny_files / "unknown.json").write_text(
        '{"model": {"id": "anny-body"}, "coefficients": {"wingspan": 1}}')
    (anny_files / "nomodel.json").write_text('{"coefficients": {"height": 1}}')
    argv = ["measure", str(anny_files / args[0]), *args[1:]]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_stored_landmarks_fit_their_topologies():
    from semantify.measurements.landmarks import all_landmarks, supported_models

    assert supported_models() == ["anny-body", "smpl-*", "smplx-*"]
    for marks in all_landmarks():
        indices = [*marks.crotch, *marks.shoulders, *(i for arm in marks.arms for i in arm)]
        for girth in (marks.chest, marks.waist, marks.hips):
            assert girth.loop or (girth.level and girth.axis)
            indices += [*girth.level, *girth.axis, *girth.loop]
        assert all(0 <= i < marks.num_vertices for i in indices), marks.topology
        assert len(marks.shoulders) == 2 and all(len(arm) >= 2 for arm in marks.arms)


def test_smpl_models_get_smpl_landmarks(tmp_path, monkeypatch):
    import synthetic_models

    from semantify.models import smplx_models

    # A stand-in with SMPL's 6890 vertices (a sphere): the landmarks attach, values are finite.
    synthetic_models.write_model_file(tmp_path / "smpl" / "SMPL_NEUTRAL.npz", "smpl", "npz",
                                      real_size=True)
    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(tmp_path))
    model = smplx_models.smpl("neutral")
    assert has_landmarks(model)
    meter = Anthropometer.for_model(model)
    assert meter.landmarks.num_vertices == 6890
    values = meter.measure(model(model.sample(range(3), seed=0)))
    assert all(v.shape == (3,) and torch.isfinite(v).all() for v in values.values())
