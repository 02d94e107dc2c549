"""Slider sets: percentile ranges, clamping, tamper/mismatch refusal, shape export, evaluate."""

import json
from pathlib import Path

import pytest
import torch
import trimesh

from semantify.cli import main
from semantify.data.dataset import open_dataset
from semantify.errors import SemantifyError
from semantify.sets.mapper import validation_split
from semantify.sets.sliders import SliderSet

DESCRIPTORS = ["height_cm", "mass_kg", "waist_cm"]


@pytest.fixture(scope="module")
def sliders(metric_data, tmp_path_factory):
    """A metric-only anny-body slider set trained (briefly) on the 600 measured bodies of
    conftest's metric_data, beside them."""
    out, selection = metric_data.parent / "sliders", tmp_path_factory.mktemp("selection")
    (selection / "report.md").write_text("# chosen: height_cm, mass_kg, waist_cm\n")
    assert main(["train", str(metric_data), "--descriptors", ",".join(DESCRIPTORS), "--out",
                 str(out), "--max-epochs", "4", "--hidden", "64", "--selection", str(selection),
                 "--no-progress"]) == 0
    return out


def _copy(src: Path, dst: Path) -> Path:
    """A copy of the slider set files (not the dataset)."""
    dst.mkdir()
    for path in src.iterdir():
        if path.is_file():
            (dst / path.name).write_bytes(path.read_bytes())
    return dst


def _weights(folder: Path) -> Path:
    return next(folder.glob("mapper*.safetensors"))


def _rewrite(folder: Path, edit) -> None:
    """Apply ``edit`` to sliders.json and keep its hash valid (a hostile but careful edit)."""
    from semantify.sets.slider_files import manifest_hash

    manifest = json.loads((folder / "sliders.json").read_text())
    edit(manifest)
    manifest["sha256"] = manifest_hash(manifest)
    text = json.dumps(manifest).replace("-Infinity", "-1e999")  # JSON has no inf literal
    (folder / "sliders.json").write_text(text)


def test_artefact_contents(sliders):
    manifest = json.loads((sliders / "sliders.json").read_text())
    assert manifest["format"] == "semantify-sliders" and manifest["version"] == 2
    assert manifest["model"]["id"] == "anny-body" and manifest["clip"] is None
    assert [s["name"] for s in manifest["sliders"]] == DESCRIPTORS
    assert manifest["mapper"]["hidden"] == [64] and len(manifest["sha256"]) == 64
    assert manifest["dataset"] == "../data" and manifest["mapper"]["file"].startswith("mapper-")
    # Ranges are [p1, p99] and defaults the median of the training rows, rounded to the step.
    dataset = open_dataset(sliders.parent / "data")
    train_rows, _ = validation_split(len(dataset), 0.1, 0)
    height = dataset.measurements[train_rows, dataset.measurement_names.index("height_cm")]
    low, median, high = torch.quantile(height.double(), torch.tensor([0.01, 0.5, 0.99]).double())
    slider = SliderSet.load(sliders).sliders[0]
    assert slider.low <= float(low) and slider.high >= float(high)
    assert (slider.low, slider.default, slider.high) == pytest.approx(
        (float(low), float(median), float(high)), abs=0.1)
    assert slider.label == "Height (cm)" and slider.unit == "cm" and slider.decimals == 1
    assert {"val_vertex_mm", "val_r2"} <= set(json.loads((sliders / "metrics.json").read_text()))
    assert (sliders / "selection" / "report.md").read_text().startswith("# chosen")


def test_values_are_clamped_once_and_reported(sliders, capsys):
    slider_set = SliderSet.load(sliders)
    height = slider_set.sliders[0]
    far = slider_set.shape(height_cm=height.high + 1000.0)
    assert far.clamped == ("height_cm",) and far.named_values["height_cm"] == height.high
    near = slider_set.shape({"height_cm": height.high})
    assert near.clamped == () and torch.equal(far.coefficients, near.coefficients)
    assert capsys.readouterr().err == ""  # the core reports, it never prints
    with pytest.raises(SemantifyError, match="sliders: height_cm, mass_kg, waist_cm"):
        slider_set.shape(fat=1.0)
    with pytest.raises(SemantifyError, match="NaN or inf"):
        slider_set.shape(height_cm=float("nan"))


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
    first = json.loads(params.read_text())
    assert first["format"] == "semantify-params" and first["version"] == 2
    assert first["model"]["id"] == "anny-body" and first["sliders"]["height_cm"] == 170.0
    assert first["slider_set"] == "sliders"  # a name, never a server path
    assert first["sliders"]["waist_cm"] == SliderSet.load(sliders).sliders[2].default
    again = tmp_path / "again.json"
    assert main(["shape", str(sliders), "--params-in", str(params), "--out",
                 str(tmp_path / "again.obj"), "--params", str(again)]) == 0
    assert json.loads(again.read_text())["coefficients"] == first["coefficients"]


@pytest.mark.parametrize("item, message", [
    ("fat=1", "unknown slider 'fat'; this set's sliders: height_cm, mass_kg, waist_cm"),
    ("height_cm", "is not NAME=VALUE"),
    ("height_cm=tall", "is not a number"),
])
def test_shape_bad_set(sliders, tmp_path, capsys, item, message):
    assert main(["shape", str(sliders), "--set", item, "--out", str(tmp_path / "x.obj")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "x.obj").exists()


def test_outputs_are_checked_before_any_work(sliders, tmp_path, capsys):
    cases = [(["--out", str(tmp_path / "no" / "dir" / "x.obj")], "not a writable folder"),
             (["--out", str(tmp_path / "x.obj"), "--params", str(tmp_path)], "is a folder"),
             (["--out", str(tmp_path / "x.stl")], "use a .obj, .ply, .glb file name")]
    for extra, message in cases:
        assert main(["shape", str(sliders), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "no").exists() and list(tmp_path.iterdir()) == []


def test_tampered_damaged_or_hostile_sets_are_refused(sliders, tmp_path):
    tampered = _copy(sliders, tmp_path / "tampered")
    data = bytearray(_weights(tampered).read_bytes())
    data[-1] ^= 1
    _weights(tampered).write_bytes(bytes(data))
    with pytest.raises(SemantifyError, match="does not match its sha256"):
        SliderSet.load(tampered)

    edited = _copy(sliders, tmp_path / "edited")  # an edit without the hash: refused
    manifest = json.loads((edited / "sliders.json").read_text())
    manifest["sliders"][0]["high"] = 1000.0
    (edited / "sliders.json").write_text(json.dumps(manifest))
    with pytest.raises(SemantifyError, match="does not match its recorded sha256"):
        SliderSet.load(edited)

    missing = _copy(sliders, tmp_path / "missing")
    _weights(missing).unlink()
    with pytest.raises(SemantifyError, match="is missing mapper-"):
        SliderSet.load(missing)

    bad_json = _copy(sliders, tmp_path / "bad-json")
    (bad_json / "sliders.json").write_text("{not json")
    with pytest.raises(SemantifyError, match="cannot read"):
        SliderSet.load(bad_json)

    deep = _copy(sliders, tmp_path / "deep")
    (deep / "sliders.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SemantifyError, match="nested more than"):
        SliderSet.load(deep)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["sliders"][0].update(low=-1e300 * 1e300), "not a finite number"),
    (lambda m: m["sliders"][0].update(high=1e7), "not a finite number below"),
    (lambda m: m["sliders"][0].update(low=300.0, high=100.0), "needs low < high"),
    (lambda m: m["sliders"][0].update(default=-100.0), "needs low < high"),
    (lambda m: m["mapper"].update(hidden=[10_000_000, 10_000_000]), "integer from 1 to 4096"),
    (lambda m: m["mapper"].update(hidden=[4096] * 8), "larger than"),
    (lambda m: m["mapper"].update(hidden=[-5]), "integer from 1 to 4096"),
    (lambda m: m["mapper"].update(file="../../etc/passwd"), r"mapper\*\.safetensors name"),
    (lambda m: m.update(refine={"iterations": 10 ** 9}), "refine iterations"),
    (lambda m: m["model"].update(options={"num_betas": [1]}), "model.options"),
    (lambda m: m.update(sliders=[]), "at least one"),
    (lambda m: m.update(version=7), "newer than this Semantify reads"),
])
def test_hostile_fields_are_refused_before_allocation(sliders, tmp_path, edit, message):
    hostile = _copy(sliders, tmp_path / "hostile")
    _rewrite(hostile, edit)
    with pytest.raises(SemantifyError, match=message):
        SliderSet.load(hostile)


def test_version_1_sets_still_load(sliders, tmp_path):
    """The format written before sliders.json hashed itself (the shipped set used it)."""
    from semantify.sets.slider_files import file_sha256

    new = SliderSet.load(sliders)
    old = _copy(sliders, tmp_path / "v1")
    weights = _weights(old).rename(old / "mapper.safetensors")
    mapper = new.mapper
    manifest = json.loads((old / "sliders.json").read_text())
    manifest.update(version=1, descriptors=new.names,
                    inputs={"mean": mapper.in_mean.tolist(), "std": mapper.in_std.tolist()},
                    outputs={"mean": mapper.out_mean.tolist(), "std": mapper.out_std.tolist()})
    manifest["model"]["coefficients"] = [{"name": n, "low": 0.0, "high": 1.0}
                                         for n in manifest["model"]["coefficients"]]
    manifest["mapper"] = {"hidden": [64], "file": "mapper.safetensors",
                          "sha256": file_sha256(weights)}
    for slider in manifest["sliders"]:
        slider["unit"] = "cm"
    del manifest["sha256"]
    (old / "sliders.json").write_text(json.dumps(manifest))
    loaded = SliderSet.load(old)
    assert loaded.names == new.names
    assert torch.equal(loaded.shape().coefficients, new.shape().coefficients)


def test_saving_over_a_set_switches_in_one_rename(sliders, tmp_path):
    """A kill at any point leaves a loadable set: new weights go to a new file, and the
    rename of sliders.json switches to them; other files in the folder stay."""
    target = _copy(sliders, tmp_path / "target")
    (target / "README.md").write_text("my notes")
    slider_set = SliderSet.load(target)
    slider_set.mapper.net[-1].bias.data += 0.5
    before = _weights(target).name
    slider_set.save(target)
    assert (target / "README.md").read_text() == "my notes"
    after = [p.name for p in target.glob("mapper*.safetensors")]
    assert len(after) == 1 and after[0] != before
    assert not torch.equal(SliderSet.load(target).shape().coefficients,
                           SliderSet.load(sliders).shape().coefficients)
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("1,2")
    with pytest.raises(SemantifyError, match="holds other files and no slider set"):
        slider_set.save(other)


def test_a_set_without_its_dataset_says_so(sliders, tmp_path):
    alone = _copy(sliders, tmp_path / "alone")
    slider_set = SliderSet.load(alone)
    with pytest.raises(SemantifyError, match="saved without its training dataset"):
        slider_set.open_dataset()
    assert main(["evaluate", str(alone), "--out", str(tmp_path / "e")]) == 2


def test_a_hub_copy_leaves_the_set_it_was_made_from(sliders):
    slider_set = SliderSet.load(sliders)
    hub = slider_set.as_hub_set("hf://someone/metric")
    assert hub is not slider_set and hub.name == "hf://someone/metric" and hub.dataset is None
    assert slider_set.name == "sliders" and slider_set.dataset is not None


def test_evaluate_metric_slider_set(sliders, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", str(sliders), "--out", str(out), "--grid", "3",
                 "--max-rows", "8"]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["held_out"]["rows"] == 8 and report["held_out"]["vertex_mm"] > 0
    assert set(report["fidelity"]) == set(DESCRIPTORS)
    assert report["fidelity"]["height_cm"] > 0.5  # taller asked, taller measured
    assert len(report["sensitivity"]) == 3 and report["disentanglement"] >= 0
    assert set(report["measurement_errors"]) == set(DESCRIPTORS)
    for name in report["pictures"]:
        assert (out / name).stat().st_size > 1000
    assert len(report["pictures"]) == 4 and "crosstalk.png" in report["pictures"]
    assert set(report["crosstalk"]) == set(DESCRIPTORS)  # unasked lengths along each slider
    assert "held-out vertex error" in capsys.readouterr().out
