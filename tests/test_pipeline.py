"""End to end, as a user runs it: generate -> select -> train -> shape -> evaluate.

Real Anny, real rendering and the real open_clip code with tiny random weights (whose
scores carry no meaning: this checks the plumbing and the artefacts, not semantics).
"""

import json
from pathlib import Path

import pytest
import trimesh

from semantify.cli import main
from semantify.pictures.photos import Box
from semantify.sets.sliders import SliderSet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pipeline(word_set):
    data, sliders, chosen = word_set
    return data.parent, data, sliders, chosen


def test_selection_picks_words_from_the_vocabulary(pipeline):
    _, data, _, chosen = pipeline
    report = json.loads((data / "selection" / "selection.json").read_text())
    assert 1 <= len(chosen) <= 3 and len(set(chosen)) == len(chosen)
    assert (data / "selection" / "correlation.png").stat().st_size > 1000
    assert report["rejected"], "every other candidate has a reason"


def test_slider_set_loads_with_its_words(pipeline):
    _, _, sliders, chosen = pipeline
    slider_set = SliderSet.load(sliders)
    assert slider_set.names == chosen
    assert all(s.low < s.default < s.high for s in slider_set.sliders)


def test_shape_writes_a_mesh_and_reproducible_params(pipeline, tmp_path):
    _, _, sliders, chosen = pipeline
    slider_set = SliderSet.load(sliders)
    first = slider_set.sliders[0]
    value = (first.default + first.high) / 2
    out, params = tmp_path / "body.ply", tmp_path / "body.json"
    assert main(["shape", str(sliders), "--set", f"{chosen[0]}={value}", "--out", str(out),
                 "--params", str(params)]) == 0
    mesh = trimesh.load(out, process=False)
    assert mesh.vertices.shape == (13718, 3)
    again = tmp_path / "again.ply"
    assert main(["shape", str(sliders), "--params-in", str(params), "--out", str(again)]) == 0
    assert (trimesh.load(again, process=False).vertices == mesh.vertices).all()


def test_evaluate_reports_errors_fidelity_and_pictures(pipeline, tmp_path):
    _, data, sliders, chosen = pipeline
    assert main(["evaluate", str(sliders), "--data", str(data), "--out", str(tmp_path),
                 "--grid", "3", "--max-rows", "32"]) == 0
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["held_out"]["vertex_mm"] > 0 and report["held_out"]["rows"] > 0
    assert set(report["fidelity"]) == set(chosen)
    assert len(list(tmp_path.glob("*.png"))) >= len(chosen)


def _photo(path, color=(200, 120, 90), size=(300, 200)):
    from PIL import Image

    Image.new("RGB", size, color).save(path)
    return path


def test_fit_photos_from_the_command_line(pipeline, tmp_path, capsys):
    _, _, sliders, chosen = pipeline
    left, right = _photo(tmp_path / "a.png"), _photo(tmp_path / "b.jpg", (20, 40, 220))
    out, params = tmp_path / "fit.obj", tmp_path / "fit.json"
    assert main(["fit", str(left), str(right), "--sliders", str(sliders), "--crop",
                 "0,0,150,200", "--out", str(out), "--params", str(params)]) == 0
    assert "fitted to 2 photo(s), 1 cropped" in capsys.readouterr().err
    record = json.loads(params.read_text())
    assert set(record["sliders"]) == set(chosen) and out.stat().st_size > 100_000
    # The same fit through Python gives the same sliders.
    shape = SliderSet.load(sliders).fit_photos([left, right], crops=[Box(0, 0, 150, 200)])
    assert shape.named_values == pytest.approx(record["sliders"], abs=1e-4)


@pytest.mark.parametrize("args, message", [
    (["--crop", "0,0,900,900"], "does not fit inside a.png (300x200 pixels)"),
    (["--crop", "a,b"], "is not X,Y,W,H"),
    (["--crop", "0,0,50,50", "--crop", "0,0,50,50"], "2 crop boxes for 1 photos"),
])
def test_fit_bad_input_is_one_line(pipeline, tmp_path, capsys, args, message):
    _, _, sliders, _ = pipeline
    photo = _photo(tmp_path / "a.png")
    assert main(["fit", str(photo), "--sliders", str(sliders), *args, "--out",
                 str(tmp_path / "x.obj")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    (tmp_path / "notes.png").write_text("not an image")
    assert main(["fit", str(tmp_path / "notes.png"), "--sliders", str(sliders), "--out",
                 str(tmp_path / "x.obj")]) == 2
    assert "not an image" in capsys.readouterr().err and not (tmp_path / "x.obj").exists()


def test_text_to_shape_both_methods(pipeline, tmp_path, capsys):
    _, _, sliders, chosen = pipeline
    shapes = {}
    for method in ("retrieval", "mapper"):
        params = tmp_path / f"{method}.json"
        assert main(["text", "a tall, heavy-set man", "--sliders", str(sliders), "--method",
                     method, "--out", str(tmp_path / f"{method}.ply"), "--params",
                     str(params)]) == 0
        assert f"shape from text ({method})" in capsys.readouterr().err
        shapes[method] = json.loads(params.read_text())["sliders"]
    assert set(shapes["mapper"]) == set(chosen) and shapes["mapper"] != shapes["retrieval"]
    long = SliderSet.load(sliders).from_text("a tall person " * 40)
    assert any("longer than CLIP reads" in note for note in long.notes)
    assert main(["text", "x" * 5000, "--sliders", str(sliders), "--out",
                 str(tmp_path / "x.obj")]) == 2
    assert "keep it under" in capsys.readouterr().err


def test_new_words_train_on_stored_embeddings(pipeline, tmp_path, capsys):
    _, _, sliders, chosen = pipeline
    out = tmp_path / "more"
    assert main(["words", str(sliders), "--add", f"curvy, , lanky légs, curvy, {chosen[0]}",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "already a slider" in printed
    assert SliderSet.load(out).names == chosen + ["curvy", "lanky légs"]
    assert main(["words", str(sliders), "--add", "waist_in", "--out", str(tmp_path / "w")]) == 2
    assert "type one or more new descriptor words" in capsys.readouterr().err


def test_python_api(pipeline, tmp_path):
    """The README's example, on the shipped metric set and on a word set."""
    from semantify import SliderSet as Exported

    metric = Exported.load(ROOT / "sliders" / "anny-body-metric")
    mesh = metric.shape(height_cm=180, mass_kg=80)
    assert abs(mesh.measurements()["height_cm"] - 180) < 0.5
    assert mesh.save(tmp_path / "body.glb").stat().st_size > 100_000
    assert mesh.params().model.id == "anny-body"
    words = Exported.load(pipeline[2])
    assert words.from_text("a short, thin woman").vertices.shape == (13718, 3)
    random = words.random(seed=3)
    assert random.values == words.random(seed=3).values  # seeded


def test_a_posed_skinned_mesh_keeps_its_rest_measurements(pipeline, tmp_path, capsys):
    _, _, sliders, _ = pipeline
    params = tmp_path / "walk.json"
    assert main(["shape", str(sliders), "--pose", "walking", "--appearance", "skin", "--out",
                 str(tmp_path / "walk.glb"), "--params", str(params)]) == 0
    assert json.loads(params.read_text())["pose"] == "walking"
    rest = tmp_path / "rest.ply"
    assert main(["shape", str(sliders), "--out", str(rest)]) == 0
    again = tmp_path / "again.ply"
    assert main(["shape", str(sliders), "--params-in", str(params), "--out", str(again)]) == 0
    assert "walking pose" in capsys.readouterr().out  # the params' pose is kept
    assert not (trimesh.load(again, process=False).vertices ==
                trimesh.load(rest, process=False).vertices).all()
    assert main(["measure", str(params)]) == 0  # measured at rest, whatever the pose
    assert main(["shape", str(sliders), "--pose", "dancing", "--out",
                 str(tmp_path / "x.obj")]) == 2
    assert "valid poses: rest" in capsys.readouterr().err
    # a pose file of the user's own is resolved once, and the mesh posed with it
    own = json.loads((Path(__file__).resolve().parents[1] / "semantify" / "poses" / "presets" /
                      "walking.json").read_text())
    (tmp_path / "stride.json").write_text(json.dumps({**own, "name": "stride"}))
    stride = tmp_path / "stride.ply"
    assert main(["shape", str(sliders), "--pose", str(tmp_path / "stride.json"), "--out",
                 str(stride)]) == 0
    assert "stride pose" in capsys.readouterr().out
    walk = tmp_path / "walk.ply"
    assert main(["shape", str(sliders), "--pose", "walking", "--out", str(walk)]) == 0
    assert (trimesh.load(stride, process=False).vertices ==
            trimesh.load(walk, process=False).vertices).all()
