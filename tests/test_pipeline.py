"""End to end, as a user runs it: generate -> select -> train -> shape -> evaluate.

Real Anny, real rendering and the real open_clip code with tiny random weights (whose
scores carry no meaning: this checks the plumbing and the artefacts, not semantics).
"""

import json

import pytest
import trimesh

from semantify.cli import main
from semantify.sliders import SliderSet


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    data, sliders = root / "data", root / "sliders"
    assert main(["generate", "anny-body", "--samples", "96", "--batch-size", "32",
                 "--clip", "tiny-random", "--out", str(data)]) == 0
    assert main(["select", str(data), "--candidates", "body", "--max", "3"]) == 0
    report = json.loads((data / "selection" / "selection.json").read_text())
    chosen = [word["name"] for word in report["chosen"]]
    assert main(["train", str(data), "--descriptors", ",".join(chosen), "--out", str(sliders),
                 "--max-epochs", "3", "--selection", str(data / "selection"),
                 "--no-progress"]) == 0
    return root, data, sliders, chosen


def test_selection_picks_words_from_the_vocabulary(pipeline):
    _, data, _, chosen = pipeline
    report = json.loads((data / "selection" / "selection.json").read_text())
    assert 1 <= len(chosen) <= 3 and len(set(chosen)) == len(chosen)
    assert (data / "selection" / "correlation.png").stat().st_size > 1000
    assert report["rejected"], "every other candidate has a reason"


def test_slider_set_loads_with_its_words(pipeline):
    _, _, sliders, chosen = pipeline
    slider_set = SliderSet.load(sliders)
    assert slider_set.descriptors == chosen
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
