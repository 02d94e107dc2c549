"""Slider sets: percentile ranges, clamping, tamper/mismatch refusal, shape export, evaluate."""

import json
from pathlib import Path

import pytest
import torch
import trimesh
from safetensors.torch import load_file, save_file

from semantify.cli import main
from semantify.dataset import open_dataset, write_json_atomic, write_shard
from semantify.errors import SemantifyError
from semantify.mapper import validation_split
from semantify.sliders import SliderSet

DESCRIPTORS = ["height_cm", "mass_kg", "waist_cm"]


@pytest.fixture(scope="module")
def sliders(tmp_path_factory):
    """A metric-only anny-body slider set trained (briefly) on 400 real measured bodies."""
    from semantify.measure import MEASUREMENTS, Anthropometer
    from semantify.models import load_model

    tmp = tmp_path_factory.mktemp("sliders")
    model = load_model("anny-body")
    coefficients = model.sample(range(400), 0)
    with torch.no_grad():
        values = Anthropometer.for_model(model).measure(model(coefficients))
    data = tmp / "data"
    write_shard(data, 0, {"indices": torch.arange(400), "coefficients": coefficients,
                          "measurements": torch.stack([values[n] for n in MEASUREMENTS], 1)})
    write_json_atomic(data / "manifest.json", {
        "format": "semantify-dataset", "version": 1,
        "model": {"id": "anny-body", "options": {}, "family": "body",
                  "coefficients": model.coefficient_names},
        "samples": 400, "seed": 0, "shard_size": 400, "views": ["front", "side"],
        "clip": None, "measurements": list(MEASUREMENTS)})
    out, selection = tmp / "sliders", tmp / "selection"
    selection.mkdir()
    (selection / "report.md").write_text("# chosen: height_cm, mass_kg, waist_cm\n")
    assert main(["train", str(data), "--descriptors", ",".join(DESCRIPTORS), "--out", str(out),
                 "--max-epochs", "4", "--hidden", "64", "--selection", str(selection),
                 "--no-progress"]) == 0
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("sliders.json", "mapper.safetensors"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_artefact_contents(sliders):
    manifest = json.loads((sliders / "sliders.json").read_text())
    assert manifest["model"]["id"] == "anny-body" and manifest["descriptors"] == DESCRIPTORS
    assert manifest["clip"] is None and manifest["mapper"]["hidden"] == [64]
    assert len(manifest["mapper"]["sha256"]) == 64 and manifest["dataset"] == "../data"
    assert [s["unit"] for s in manifest["sliders"]] == ["cm", "kg", "cm"]
    # Ranges are [p1, p99] and defaults the median of the training rows' values.
    dataset = open_dataset(sliders.parent / "data")
    train_rows, _ = validation_split(len(dataset), 0.1, 0)
    height = dataset.measurements[train_rows, dataset.measurement_names.index("height_cm")]
    low, median, high = torch.quantile(height.double(), torch.tensor([0.01, 0.5, 0.99]).double())
    slider = SliderSet.load(sliders).sliders[0]
    assert (slider.low, slider.default, slider.high) == pytest.approx(
        (float(low), float(median), float(high)))
    assert {"val_vertex_mm", "val_r2"} <= set(json.loads((sliders / "metrics.json").read_text()))
    assert (sliders / "selection" / "report.md").read_text().startswith("# chosen")


def test_clamping_warns_once_on_stderr(sliders, capsys):
    slider_set = SliderSet.load(sliders)
    height = slider_set.sliders[0]
    far = slider_set.coefficients({"height_cm": height.high + 1000.0})
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "clamped" in warning[0] and "height_cm" in warning[0]
    assert torch.equal(far, slider_set.coefficients({"height_cm": height.high}))
    assert capsys.readouterr().err == ""
    with pytest.raises(SemantifyError, match="valid sliders: height_cm, mass_kg, waist_cm"):
        slider_set.coefficients({"fat": 1.0})


def test_shape_exports_and_params_reproduce(sliders, tmp_path, capsys):
    from semantify.models import load_model

    num_vertices = load_model("anny-body").num_vertices
    params = tmp_path / "p.json"
    assert main(["shape", str(sliders), "--set", "height_cm=170", "--set", "mass_kg=70",
                 "--out", str(tmp_path / "body.obj"), "--params", str(params)]) == 0
    for suffix in (".ply", ".glb"):
        assert main(["shape", str(sliders), "--params-in", str(params),
                     "--out", str(tmp_path / f"body{suffix}")]) == 0
    for suffix in (".obj", ".ply", ".glb"):
        # maintain_order: trimesh would otherwise split OBJ vertices along UV seams.
        mesh = trimesh.load(tmp_path / f"body{suffix}", process=False, force="mesh",
                            maintain_order=True)
        assert len(mesh.vertices) == num_vertices, suffix
    obj = (tmp_path / "body.obj").read_text()
    assert "\nvt " in obj and "/" in obj.split("\nf ", 1)[1].split("\n", 1)[0]
    obj_vertices = [line for line in obj.splitlines() if line.startswith("v ")]
    assert len(obj_vertices) == num_vertices
    first = json.loads(params.read_text())
    assert first["model"]["id"] == "anny-body" and first["sliders"]["height_cm"] == 170.0
    assert first["sliders"]["waist_cm"] == SliderSet.load(sliders).defaults["waist_cm"]
    again = tmp_path / "again.json"
    assert main(["shape", str(sliders), "--params-in", str(params), "--out",
                 str(tmp_path / "again.obj"), "--params", str(again)]) == 0
    assert json.loads(again.read_text())["coefficients"] == first["coefficients"]


@pytest.mark.parametrize("item, message", [
    ("fat=1", "unknown slider 'fat'; valid sliders: height_cm, mass_kg, waist_cm"),
    ("height_cm", "is not NAME=VALUE"),
    ("height_cm=tall", "is not a number"),
])
def test_shape_bad_set(sliders, tmp_path, capsys, item, message):
    assert main(["shape", str(sliders), "--set", item, "--out", str(tmp_path / "x.obj")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "x.obj").exists()


def test_tampered_or_missing_files_are_refused(sliders, tmp_path):
    tampered = _copy(sliders, tmp_path / "tampered")
    data = bytearray((tampered / "mapper.safetensors").read_bytes())
    data[-1] ^= 1
    (tampered / "mapper.safetensors").write_bytes(bytes(data))
    with pytest.raises(SemantifyError, match="sha256"):
        SliderSet.load(tampered)

    missing = _copy(sliders, tmp_path / "missing")
    (missing / "mapper.safetensors").unlink()
    with pytest.raises(SemantifyError, match="missing mapper.safetensors"):
        SliderSet.load(missing)

    bad_json = _copy(sliders, tmp_path / "bad-json")
    (bad_json / "sliders.json").write_text("{not json")
    with pytest.raises(SemantifyError, match="cannot read"):
        SliderSet.load(bad_json)

    reshaped = _copy(sliders, tmp_path / "reshaped")
    tensors = load_file(reshaped / "mapper.safetensors")
    tensors["net.0.weight"] = torch.zeros(5, 3)
    save_file(tensors, reshaped / "mapper.safetensors")
    manifest = json.loads((reshaped / "sliders.json").read_text())
    import hashlib

    manifest["mapper"]["sha256"] = hashlib.sha256(
        (reshaped / "mapper.safetensors").read_bytes()).hexdigest()
    (reshaped / "sliders.json").write_text(json.dumps(manifest))
    with pytest.raises(SemantifyError, match="wrong names or shapes"):
        SliderSet.load(reshaped)


def test_model_or_clip_mismatch_is_refused(sliders, capsys):
    from semantify.clip import ClipSpec

    assert SliderSet.load(sliders, expect_model="anny-body").model_id == "anny-body"
    with pytest.raises(SemantifyError, match="drives 'anny-body', not 'anny-face-shape'"):
        SliderSet.load(sliders, expect_model="anny-face-shape")
    with pytest.raises(SemantifyError, match="trained with CLIP none"):
        SliderSet.load(sliders, expect_clip=ClipSpec.parse("tiny-random"))


def test_evaluate_metric_slider_set(sliders, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", str(sliders), "--out", str(out), "--grid", "3",
                 "--max-rows", "20"]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["held_out"]["rows"] == 20 and report["held_out"]["vertex_mm"] > 0
    assert set(report["fidelity"]) == set(DESCRIPTORS)
    assert report["fidelity"]["height_cm"] > 0.5  # taller asked, taller measured
    assert len(report["sensitivity"]) == 3 and report["disentanglement"] >= 0
    assert set(report["measurement_errors"]) == set(DESCRIPTORS)
    for name in report["pictures"]:
        assert (out / name).stat().st_size > 1000
    assert len(report["pictures"]) == 3
    assert "held-out vertex error" in capsys.readouterr().out
