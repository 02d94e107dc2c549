"""The CLI and Python API as users try them: one-line errors (exit 2) instead of tracebacks,
nothing clamped or ignored silently, files that respect the umask, ``--version``, ``info``,
``--json``, batches, and stdout that holds only results."""

from __future__ import annotations

import csv
import json
import logging
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantify.cli import main
from semantify.errors import SemantifyError

METRIC = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"


def _one_line_error(capsys, code: int, *words: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err[-3:]
    assert all(word in err[0] for word in words), err[0]
    return err[0]


@pytest.fixture
def params(tmp_path, capsys) -> dict:
    """A params record of the shipped metric set, as `semantify shape --params` writes it."""
    path = tmp_path / "p.json"
    assert main(["shape", str(METRIC), "--set", "height_cm=175", "--out",
                 str(tmp_path / "p.ply"), "--params", str(path)]) == 0
    capsys.readouterr()
    return json.loads(path.read_text())


def _photo(path: Path) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)).save(path)
    return path


# -- 10. tracebacks ---------------------------------------------------------------------------

def test_bad_commands_are_one_line_errors(tmp_path, capsys, word_set):
    data, sliders, _ = word_set
    (tmp_path / "file").write_text("mine")
    code = main(["render", "anny-body", "--random", "-1", "--out", str(tmp_path / "x.png")])
    _one_line_error(capsys, code, "--random -1", "0 or more")
    code = main(["generate", "anny-body", "--samples", "4", "--clip", "none", "--out",
                 str(tmp_path / "file")])
    _one_line_error(capsys, code, "is a file")
    assert (tmp_path / "file").read_text() == "mine"
    if not torch.cuda.is_available():
        code = main(["generate", "anny-body", "--samples", "4", "--clip", "none",
                     "--accelerator", "gpu", "--out", str(tmp_path / "g")])
        _one_line_error(capsys, code, "no GPU", "--accelerator cpu")
    code = main(["train", str(data), "--descriptors", "fat", "--out", str(tmp_path / "t"),
                 "--lr", "-1"])
    _one_line_error(capsys, code, "--lr", "above 0")
    code = main(["evaluate", str(sliders), "--max-rows", "0", "--out", str(tmp_path / "e")])
    _one_line_error(capsys, code, "--max-rows")
    code = main(["fit", str(_photo(tmp_path / "me.png")), "--sliders", str(sliders), "--out",
                 "/proc/x.glb"])
    _one_line_error(capsys, code, "/proc/x.glb", "cannot write")
    code = main(["render", "anny-body", "--out", "/proc/x.png"])
    _one_line_error(capsys, code, "/proc/x.png")


def test_random_seeds_are_checked():
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(METRIC)
    for seed in (-1, "a", 1.5, True):
        with pytest.raises(SemantifyError, match="0 or more"):
            slider_set.random(seed)


# -- 11. nothing silently wrong ---------------------------------------------------------------

def test_params_beyond_a_range_or_with_an_unknown_pose_are_refused(tmp_path, capsys, params):
    beyond = tmp_path / "beyond.json"
    beyond.write_text(json.dumps({**params, "coefficients": {**params["coefficients"],
                                                            "gender": 5.0}}))
    flying = tmp_path / "flying.json"
    flying.write_text(json.dumps({**params, "pose": "flying"}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**params, "slider_set": "someone-elses-set"}))
    for path, words in ((beyond, ("'gender' is 5", "0 to 1")), (flying, ("flying", "rest"))):
        for command in (["measure", str(path)],
                        ["render", "anny-body", "--coeffs", str(path), "--size", "64",
                         "--out", str(tmp_path / "x.png")],
                        ["shape", str(METRIC), "--params-in", str(path), "--out",
                         str(tmp_path / "x.ply")]):
            _one_line_error(capsys, main(command), *words)
    code = main(["shape", str(METRIC), "--params-in", str(other), "--out",
                 str(tmp_path / "x.ply")])
    _one_line_error(capsys, code, "someone-elses-set", "anny-body-metric")
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.ply").exists()


def test_render_takes_the_pose_of_its_params(tmp_path, capsys, params):
    seated = tmp_path / "seated.json"
    seated.write_text(json.dumps({**params, "pose": "sitting"}))
    assert main(["render", "anny-body", "--coeffs", str(seated), "--size", "64", "--out",
                 str(tmp_path / "x.png")]) == 0
    assert "sitting" in capsys.readouterr().out


def test_train_refuses_typos_and_bad_folders_before_training(tmp_path, capsys, word_set):
    data = word_set[0]
    (tmp_path / "file").write_text("mine")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    for out, words in ((tmp_path / "file", ("is a file",)),
                       (tmp_path / "busy", ("holds other files",)),
                       (Path("/proc/x"), ("/proc/x", "cannot write"))):
        code = main(["train", str(data), "--descriptors", "height_cm", "--out", str(out)])
        assert "disk" not in _one_line_error(capsys, code, *words)
    code = main(["train", str(data), "--descriptors", "height_cmm", "--out",
                 str(tmp_path / "new"), "--no-progress"])
    _one_line_error(capsys, code, "height_cmm", "height_cm")
    assert not (tmp_path / "new").exists()


def test_select_refuses_a_mistyped_vocabulary(capsys, word_set):
    code = main(["select", str(word_set[0]), "--candidates", "nosuchvocab"])
    _one_line_error(capsys, code, "nosuchvocab", "body")


# -- 12. file modes ---------------------------------------------------------------------------

def test_written_files_respect_the_umask(tmp_path, capsys, word_set):
    old = os.umask(0o027)
    try:
        assert main(["shape", str(METRIC), "--out", str(tmp_path / "b.glb"), "--params",
                     str(tmp_path / "b.json")]) == 0
        assert main(["render", "anny-body", "--size", "64", "--out",
                     str(tmp_path / "b.png")]) == 0
    finally:
        os.umask(old)
    for name in ("b.glb", "b.json", "b.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640, name
    wanted = 0o666 & ~old  # the session's set was trained under the usual umask
    sliders = word_set[1]
    for path in (sliders / "sliders.json", next(sliders.glob("mapper-*.safetensors"))):
        assert stat.S_IMODE(path.stat().st_mode) == wanted, path.name
    assert stat.S_IMODE(sliders.stat().st_mode) == 0o777 & ~old


# -- 13. the Python API -----------------------------------------------------------------------

def test_python_api_crops_ranges_and_shape_repr(tmp_path, word_set):
    from semantify.pictures.photos import Box
    from semantify.sets.sliders import SliderSet

    words = SliderSet.load(word_set[1])
    photo = _photo(tmp_path / "me.png")
    boxed = words.fit_photos([photo], crops=[Box(10, 20, 150, 200)])
    for crops in ([(10, 20, 150, 200)], (10, 20, 150, 200), ["10,20,150,200"]):
        assert words.fit_photos([photo], crops=crops).values == boxed.values
    with pytest.raises(SemantifyError, match="not a box"):
        words.fit_photos([photo], crops=[(10, 20, 150)])
    metric = SliderSet.load(METRIC)
    ranges = metric.ranges()
    assert list(ranges) == metric.names and all(low < high for low, high in ranges.values())
    text = repr(metric.shape(height_cm=181))
    assert "height_cm=181" in text and "measured" in text and "mass_kg=" in text
    assert "tensor" not in text and "array" not in text and len(text) < 1000


# -- 14. what users expect --------------------------------------------------------------------

def test_version(capsys):
    from semantify import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"semantify {__version__}"


def test_info_lists_a_sets_sliders(capsys, word_set):
    from semantify.sets.sliders import SliderSet

    assert main(["info", str(METRIC)]) == 0
    out = capsys.readouterr().out
    assert "anny-body" in out and "none (measurement sliders only)" in out
    height = SliderSet.load(METRIC).sliders[0]
    row = next(line.split() for line in out.splitlines() if line.startswith("height_cm "))
    assert row[:6] == ["height_cm", "measurement", "cm", f"{height.low:g}", f"{height.high:g}",
                       f"{height.default:g}"] and "Height (cm)" in " ".join(row)
    assert main(["info", str(word_set[1]), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["model"] == "anny-body" and "tiny-random" in record["encoder"]
    kinds = {s["name"]: s["kind"] for s in record["sliders"]}
    assert kinds == {name: "word" for name in word_set[2]}
    assert main(["info", "/no/such/set"]) == 2


def test_a_reader_that_leaves_early_gets_no_traceback():
    """``semantify info SET | head -1``: the pipe closes before the listing is written."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "semantify", "info", str(METRIC)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # head has read its line and gone
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == "", err


def test_json_results_and_measurements(tmp_path, capsys, word_set):
    assert main(["shape", str(METRIC), "--set", "height_cm=180", "--out",
                 str(tmp_path / "a.ply")]) == 0
    assert "measurements: Height 180." in capsys.readouterr().out  # shape prints them
    assert main(["shape", str(METRIC), "--set", "height_cm=180", "--out",
                 str(tmp_path / "a.ply"), "--params", str(tmp_path / "a.json"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)  # stdout holds the JSON alone
    assert record["mesh"] == str(tmp_path / "a.ply") and record["sliders"]["height_cm"] == 180
    assert abs(record["measurements"]["height_cm"] - 180) < 0.5
    assert main(["measure", str(tmp_path / "a.json"), "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)
    assert measured["height_cm"] == pytest.approx(record["measurements"]["height_cm"], abs=0.01)
    sliders = str(word_set[1])
    photo = str(_photo(tmp_path / "me.png"))
    for command in (["fit", photo, "--sliders", sliders], ["text", "a tall man", "--sliders",
                                                          sliders, "--method", "mapper"]):
        assert main([*command, "--out", str(tmp_path / "w.ply"), "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert set(record["sliders"]) == set(word_set[2]) and record["notes"]


def test_batch_writes_one_mesh_per_row(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    with open(rows, "w", newline="") as file:
        csv.writer(file).writerows([["height_cm", "mass_kg"], ["160", "55"], ["190", ""],
                                    [], ["175", "80"]])
    assert main(["shape", str(METRIC), "--batch", str(rows), "--out", str(tmp_path / "b.ply"),
                 "--params", str(tmp_path / "b.json"), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["mesh"] for r in records] == [str(tmp_path / f"b-{i}.ply") for i in (1, 2, 3)]
    assert [round(r["sliders"]["height_cm"]) for r in records] == [160, 190, 175]
    assert json.loads((tmp_path / "b-3.json").read_text())["sliders"]["mass_kg"] == 80
    bad = tmp_path / "bad.csv"
    bad.write_text("height_cm,mass_kg\n170,70\n180,heavy\n")
    code = main(["shape", str(METRIC), "--batch", str(bad), "--out", str(tmp_path / "c.ply")])
    _one_line_error(capsys, code, "row 3", "mass_kg", "heavy")
    bad.write_text("height_cm,tallness\n170,1\n")
    code = main(["shape", str(METRIC), "--batch", str(bad), "--out", str(tmp_path / "c.ply")])
    _one_line_error(capsys, code, "tallness", "height_cm")
    endless = tmp_path / "zero.csv"
    endless.symlink_to("/dev/zero")  # read for ever (and memory without end) before
    code = main(["shape", str(METRIC), "--batch", str(endless), "--out", str(tmp_path / "c.ply")])
    _one_line_error(capsys, code, "zero.csv", "not a file")
    assert not list(tmp_path.glob("c*"))  # every row is checked before anything is written


def test_training_keeps_stdout_for_its_result(tmp_path, capsys, caplog, recwarn, word_set):
    data, _, chosen = word_set
    caplog.set_level(logging.INFO)
    assert main(["train", str(data), "--descriptors", chosen[0], "--out",
                 str(tmp_path / "s"), "--max-epochs", "1"]) == 0  # with its progress bar
    assert json.loads(capsys.readouterr().out)["slider_set"] == str(tmp_path / "s")
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("lightning")]
    assert not [line for line in chatter if "Tip" in line or "GPU available" in line], chatter
    assert not [w for w in recwarn if "deprecated" in str(w.message)]
    assert main(["words", str(tmp_path / "s"), "--add", "curvy, lanky", "--out",
                 str(tmp_path / "more")]) == 0
    captured = capsys.readouterr()
    assert "%]" in captured.err and "%]" not in captured.out  # its progress goes to stderr


def test_evaluate_names_where_a_body_model_sets_figures_come_from(capsys):
    """The shipped metric set has no mapper to evaluate: one line saying so (it used to claim
    that the build slider was a CLIP word the dataset had no embeddings for)."""
    assert main(["evaluate", str(METRIC)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bench/metric_person.py" in err[0] and "CLIP" not in err[0], err
