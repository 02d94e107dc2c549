"""`semantify build` end to end with tiny-random CLIP, and its resume after kill -9.

Real Anny, real rendering, the real open_clip code with tiny random weights (NOT semantic: this
checks the stages, files and resume, never what the words mean).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import quick_settings

from lightning_modules.build import STAGES, read_record
from semantify.cli import main
from semantify.recipes import load_recipe
from semantify.sets.sliders import SliderSet

pytestmark = pytest.mark.slow  # conftest's quick_build, or builds killed with -9
QUICK = ["--clip", "tiny-random", "--quick", "--samples", "64"]  # conftest's quick_build


@pytest.fixture(scope="module")
def built(quick_build):
    return quick_build.out


@pytest.fixture
def built_copy(quick_build, tmp_path):
    """A copy of conftest's quick build, for tests that run ``semantify build`` on it (a
    build takes its folder's lock; the other worker may be reading the original)."""
    return Path(shutil.copytree(quick_build.out, tmp_path / "anny-body"))


def test_quick_build_makes_a_slider_set_with_its_card(built, capsys):
    record = read_record(built)
    assert list(record.stages) == list(STAGES)
    chosen = list(record.selected.chosen)
    assert chosen[:2] == ["fat", "tall"]  # the recipe's forced words
    slider_set = SliderSet.load(built)
    assert slider_set.names == chosen and slider_set.model_id == "anny-body"
    assert slider_set.training["samples"] == 64
    card = (built / "README.md").read_text()
    assert "Not semantic" in card and "semantify build anny-body --clip tiny-random" in card
    for name in chosen:
        assert f"**{name}**" in card
    pictures = json.loads((built / "evaluation" / "evaluation.json").read_text())["pictures"]
    assert len(pictures) == len(chosen)
    assert all((built / "evaluation" / p).stat().st_size > 1000 for p in pictures)
    assert not list(built.glob(".*.new-*")) and not (built / "writer.lock").exists()
    assert not (built / ".progress.json").exists()


def test_rerun_of_a_finished_build_does_nothing_and_other_settings_are_refused(built_copy,
                                                                               capsys):
    built = built_copy
    before = {p: p.stat().st_mtime_ns for p in built.rglob("*") if p.is_file()}
    assert main(["build", "anny-body", *QUICK, "--out", str(built)]) == 0
    assert before == {p: p.stat().st_mtime_ns for p in built.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["build", "anny-body", "--clip", "tiny-random", "--samples", "64",
                 "--out", str(built)]) == 2
    assert "differ in: quick" in capsys.readouterr().err


def _kill_when(cmd, condition, timeout=300):
    """Start ``cmd``, SIGKILL its process group once ``condition()`` holds; True if it did."""
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    killed = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed


def test_build_resumes_after_kill_9_in_training(tmp_path, capsys):
    """The build's own kill -9 test (a kill while generating is the dataset writer's:
    test_generate's): killed in training, it resumes there, keeping the dataset and the
    selection, and refuses to resume with another recipe."""
    recipe = load_recipe("anny-body").to_dict()
    recipe["training"] = {"max_epochs": 60, "patience": 60}  # a stage long enough to kill
    recipe["descriptors"] = 3
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(recipe))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "semantify", "build", str(path), "--clip", "tiny-random",
           "--samples", "64", "--out", str(out)]
    shards = out / "dataset" / "shards"

    def training():
        try:
            record = read_record(out)
            return record is not None and "select" in record.stages
        except Exception:  # noqa: BLE001 - build.json mid-rename is simply not there yet
            return False

    assert _kill_when(cmd, training)
    stages = read_record(out).stages
    assert list(stages) == ["generate", "select"]  # killed in training
    kept = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.safetensors")}
    selection = (out / "selection" / "selection.json").stat().st_mtime_ns

    recipe["training"] = {"max_epochs": 3}  # a different recipe is another build: refused
    path.write_text(json.dumps(recipe))
    assert main(["build", str(path), *cmd[5:9], "--out", str(out)]) == 2
    recipe["training"] = {"max_epochs": 60, "patience": 60}
    path.write_text(json.dumps(recipe))
    capsys.readouterr()
    assert main(["build", str(path), *cmd[5:9], "--out", str(out)]) == 0
    assert "photographing 64 bodies from the front and the side" in capsys.readouterr().err
    record = read_record(out)
    assert list(record.stages) == list(STAGES)
    assert record.stages["select"] == stages["select"]
    assert kept and {p.name: p.stat().st_mtime_ns for p in shards.glob("*.safetensors")} == kept
    assert (out / "selection" / "selection.json").stat().st_mtime_ns == selection
    assert SliderSet.load(out).names == list(stages["select"].chosen)


def test_a_claimed_build_resumes_from_its_folder_alone(built_copy, tmp_path, capsys):
    """A claimed folder holds all its build needs: the session's build ran from one with
    ``semantify build --resume DIR`` alone (conftest's quick_build)."""
    from lightning_modules.build import claim, read_progress
    from semantify.recipes import BuildSettings

    settings = quick_settings()
    out = tmp_path / "claimed"
    record = claim(settings, out)
    assert claim(settings, out) == record and read_record(out).stages == {}
    assert BuildSettings.from_record(record) == settings
    built = built_copy
    assert main(["build", "--resume", str(built)]) == 0  # finished: nothing left to do
    assert list(read_record(built).stages) == list(STAGES) and read_progress(built) is None
    assert main(["build", "--resume", str(tmp_path / "nothing")]) == 2
    assert "holds no build to resume" in capsys.readouterr().err


def test_a_folder_another_build_holds_exits_with_the_busy_status(tmp_path, capsys):
    from lightning_modules.build import claim
    from semantify.writer_lock import FolderBusy, writer_lock

    out = tmp_path / "busy"
    claim(quick_settings(), out)  # the other build's folder: its record, its lock
    with writer_lock(out, command="semantify build"):
        assert main(["build", "anny-body", *QUICK, "--out", str(out)]) == FolderBusy.EXIT_CODE
    assert "being written by another semantify build" in capsys.readouterr().err
    assert not (out / ".progress.json").exists()  # the other build's progress is left alone
